import { z } from 'zod';
import { FileRef, Id } from '../schemas.js';
import { call } from './define.js';

export const ReportKind = z.enum(['geojson', 'gpkg', 'pdf']);
export type ReportKind = z.infer<typeof ReportKind>;

/** One mask as a labelled, measured object with the provenance exports carry. */
export const MeasuredObject = z.object({
  maskId: Id,
  turnId: Id,
  /** 1-based number of the answer in the conversation */
  turnSeq: z.number().int(),
  imageId: Id,
  imageName: z.string(),
  label: z.string(),
  phrase: z.string().nullable(),
  score: z.number(),
  regionKind: z.string().nullable(),
  regionLabel: z.string().nullable(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  areaPx: z.number(),
  /** geodesic, null when the image is not georeferenced */
  areaM2: z.number().nullable(),
  areaHa: z.number().nullable(),
  perimeterM: z.number().nullable(),
  georeferenced: z.boolean(),
  touchesEdge: z.boolean(),
  createdAt: z.string(),
  /** why this object cannot be exported (empty mask, GCP model extrapolating…), null when it can */
  problem: z.string().nullable(),
  notes: z.array(z.string()),
});
export type MeasuredObject = z.infer<typeof MeasuredObject>;

export const ReportSummary = z.object({
  id: Id,
  kind: ReportKind,
  fileName: z.string(),
  /** folder name only (the page never sees paths) */
  folderName: z.string().nullable(),
  createdAt: z.string(),
  bytes: z.number().int(),
  featureCount: z.number().int(),
});
export type ReportSummary = z.infer<typeof ReportSummary>;

export const ExportResult = ReportSummary.extend({ warnings: z.array(z.string()) });
export type ExportResult = z.infer<typeof ExportResult>;

export const ExportOptions = z
  .object({
    sessionId: Id,
    kind: ReportKind,
    /** where to write; the folder of the case's first image when absent */
    folder: FileRef.optional(),
    /** only these masks; all exportable masks when absent */
    maskIds: z.array(Id).max(10_000).optional(),
    /** Douglas–Peucker tolerance in metres (pixels for non-georeferenced images); 0 keeps exact pixel edges */
    simplifyM: z.number().min(0).max(10_000).default(0),
    analyst: z.string().max(200).optional(),
    title: z.string().max(200).optional(),
  })
  .strict();
export type ExportOptions = z.infer<typeof ExportOptions>;

export const reportCalls = {
  'reports.objects': call(z.object({ sessionId: Id }).strict(), z.object({ objects: z.array(MeasuredObject) })),
  'reports.export': call(ExportOptions, ExportResult),
  'reports.list': call(z.object({ sessionId: Id }).strict(), z.array(ReportSummary)),
  /** writes a stored report again, byte for byte */
  'reports.rewrite': call(z.object({ reportId: Id, folder: FileRef.optional() }).strict(), ExportResult),
} as const;
