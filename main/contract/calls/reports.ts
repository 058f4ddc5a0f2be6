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

const finite = z.number().finite();

/**
 * The map snapshot's extent in a PDF report: the case's masks and regions ('case', the default), or what the map
 * showed when the analyst asked ('wgs84' bbox for georeferenced images, 'pixels' of the shown image otherwise).
 */
export const ReportExtent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('case') }).strict(),
  z
    .object({
      kind: z.literal('wgs84'),
      /** [minLon, minLat, maxLon, maxLat] */
      bbox: z
        .tuple([finite.min(-180).max(180), finite.min(-90).max(90), finite.min(-180).max(180), finite.min(-90).max(90)])
        .refine(([w, s, e, n]) => w < e && s < n, 'the extent needs minLon < maxLon and minLat < maxLat'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('pixels'),
      /** the image the rectangle is on; the report's map image when absent */
      imageId: Id.optional(),
      /** [x0, y0, x1, y1] image pixels */
      rect: z.tuple([finite, finite, finite, finite]).refine(([x0, y0, x1, y1]) => x0 < x1 && y0 < y1, 'the extent needs x0 < x1 and y0 < y1'),
    })
    .strict(),
]);
export type ReportExtent = z.infer<typeof ReportExtent>;

export const ReportSummary = z.object({
  id: Id,
  kind: ReportKind,
  fileName: z.string(),
  /** folder name only (the page never sees paths) */
  folderName: z.string().nullable(),
  createdAt: z.string(),
  bytes: z.number().int(),
  featureCount: z.number().int(),
  /** the PDF's title and analyst as asked (null when defaulted): the export panel starts from the last ones */
  title: z.string().nullable(),
  analyst: z.string().nullable(),
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
    /** PDF map snapshot extent; the case's objects when absent */
    extent: ReportExtent.optional(),
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
