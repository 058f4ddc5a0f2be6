import { z } from 'zod';
import { FileRef, Id, ImageInfo, MapView, SessionDetail, SessionSummary } from '../schemas.js';
import { call, ok } from './define.js';

const Name = z.string().trim().min(1).max(200);

export const sessionCalls = {
  /** cases, most recent first; `query` matches name, image file name, any turn's text, or a date prefix (2026-11) */
  'sessions.list': call(z.object({ query: z.string().max(200).optional() }).strict(), z.array(SessionSummary)),
  'sessions.create': call(z.object({ name: z.string().min(1).max(200) }).strict(), SessionSummary),
  'sessions.open': call(z.object({ sessionId: Id }).strict(), SessionDetail),
  'sessions.saveView': call(z.object({ sessionId: Id, view: MapView }).strict(), ok),
  'sessions.rename': call(z.object({ sessionId: Id, name: Name }).strict(), SessionSummary),
  /** deep copy (images, turns, regions, masks, reports) under new ids; name defaults to "<name> (copy)" */
  'sessions.duplicate': call(z.object({ sessionId: Id, name: Name.optional() }).strict(), SessionSummary),
  /** soft delete: undo with sessions.restore until purgeAfter */
  'sessions.delete': call(z.object({ sessionId: Id }).strict(), z.object({ ok: z.literal(true), purgeAfter: z.string() })),
  'sessions.restore': call(z.object({ sessionId: Id }).strict(), SessionSummary),
  /** deleted cases, most recently deleted first, each with the date it will be purged (restorable until then) */
  'sessions.deleted': call(z.object({}).strict(), z.array(SessionSummary.extend({ deletedAt: z.string(), purgeAfter: z.string() }))),
  /** removes a deleted case for good (sessionId), or every case deleted more than 30 days ago */
  'sessions.purge': call(z.object({ sessionId: Id.optional() }).strict(), z.object({ purged: z.number().int() })),
  /** writes one portable .vantage file into `folder` (temp file + rename); images by reference or embedded */
  'sessions.export': call(
    z.object({ sessionId: Id, folder: FileRef, embedImages: z.boolean().default(false) }).strict(),
    z.object({ fileName: z.string(), bytes: z.number().int(), embeddedImages: z.number().int() }),
  ),
  /**
   * reads a .vantage file (never modified; checked in a child process) into a new case; keptIds: every id kept —
   * else `ids` says how many were replaced: malformed ones, or all when any is already here
   */
  'sessions.import': call(
    z.object({ file: FileRef }).strict(),
    z.object({
      session: SessionSummary,
      keptIds: z.boolean(),
      ids: z.object({ kept: z.number().int(), replaced: z.number().int(), malformed: z.number().int(), alreadyHere: z.number().int() }),
      extractedImages: z.number().int(),
      warnings: z.array(z.string()),
    }),
  ),
  /** a moved/missing image: accepts the new file only when its sha256 is the one the case recorded */
  'imagery.relink': call(z.object({ imageId: Id, file: FileRef }).strict(), ImageInfo.extend({ missing: z.boolean() })),
} as const;
