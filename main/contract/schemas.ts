import { z } from 'zod';
import { PixelPolygon, RegionGeometry } from './geometry.js';

export const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'ids are [A-Za-z0-9_-]');

/** Opaque reference to a file or folder the user reached in a file browser or native dialog. Never a path. */
export const FileRef = z.string().regex(/^f_[A-Za-z0-9_-]{8,64}$/, 'not a file reference');
export type FileRef = z.infer<typeof FileRef>;

export const Crs = z.object({
  epsg: z.number().int().nullable(),
  name: z.string().nullable(),
  /** proj4 definition the app uses for transforms; null when the image has no CRS */
  proj4: z.string().nullable(),
  wkt: z.string().nullable(),
});
export type Crs = z.infer<typeof Crs>;

export const Gcp = z.object({ pixel: z.number(), line: z.number(), x: z.number(), y: z.number(), z: z.number() });

export const ImageInfo = z.object({
  id: Id,
  name: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bandCount: z.number().int().positive(),
  dtype: z.string(),
  nodata: z.number().nullable(),
  crs: Crs.nullable(),
  /** GDAL order: [originX, pixelWidth, rotX, originY, rotY, pixelHeight] */
  geotransform: z.array(z.number()).length(6).nullable(),
  gcps: z.array(Gcp).nullable(),
  overviewCount: z.number().int().nonnegative(),
  /** closed ring of [lon, lat] around the image's edge, null when not georeferenced */
  footprint: z.array(z.tuple([z.number(), z.number()])).nullable(),
  georeferenced: z.boolean(),
  source: z.enum(['optical', 'sar', 'infrared']),
  sha256: z.string(),
});
export type ImageInfo = z.infer<typeof ImageInfo>;

export const Region = z.object({
  id: Id,
  imageId: Id,
  geometry: RegionGeometry,
  /** 1-based index the model sees as <region k> in the turn that introduced it */
  label: z.string(),
});
export type Region = z.infer<typeof Region>;

export const Mask = z.object({
  id: Id,
  turnId: Id,
  imageId: Id,
  regionId: Id.nullable(),
  phrase: z.string().nullable(),
  score: z.number(),
  /** [x0, y0, x1, y1] in image pixels */
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** outline in image pixels, following pixel edges; one entry per connected part */
  polygons: z.array(PixelPolygon),
  areaPx: z.number().nonnegative(),
  /** the analyst's name for the object (masks.update); null/absent: derived (objectStyle.ts objectLabel) */
  label: z.string().max(200).nullable().optional(),
  /** #rrggbb kept from creation (objectStyle.ts nextObjectColour); absent only on a mask not stored yet */
  colour: z.string().regex(/^#[0-9a-f]{6}$/).optional(),
  /** its place among the masks its answer made (0-based, deleted ones counted): the answer's ordinal-th <SEG> */
  ordinal: z.number().int().nonnegative().optional(),
});
export type Mask = z.infer<typeof Mask>;

export const Turn = z.object({
  id: Id,
  sessionId: Id,
  imageId: Id.nullable(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  regionIds: z.array(Id),
  createdAt: z.string(),
  durationMs: z.number().nullable(),
  /** `signature`: the pack's signature when the answer was made ("trusted: NAME (fingerprint)", "untrusted: fingerprint", "unsigned"); null before it was recorded */
  pack: z.object({ name: z.string(), version: z.string(), sha256: z.string(), signature: z.string().nullable().optional() }).nullable(),
  provider: z.string().nullable(),
  status: z.enum(['complete', 'streaming', 'cancelled', 'failed']),
});
export type Turn = z.infer<typeof Turn>;

export const MapView = z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-1e4).max(1e4), zoom: z.number().min(-10).max(30) });
export type MapView = z.infer<typeof MapView>;

export const SessionSummary = z.object({
  id: Id,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  imageCount: z.number().int(),
  turnCount: z.number().int(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const SessionDetail = z.object({
  session: SessionSummary,
  images: z.array(ImageInfo.extend({ missing: z.boolean() })),
  regions: z.array(Region),
  turns: z.array(Turn),
  masks: z.array(Mask),
  view: MapView.nullable(),
});
export type SessionDetail = z.infer<typeof SessionDetail>;

/** The execution providers, in the order the inference backend tries them (main/inference/backend.ts owns the choice). */
export const ExecutionProvider = z.enum(['cuda', 'webgpu', 'cpu']);
export type ExecutionProvider = z.infer<typeof ExecutionProvider>;

export const ProviderStatus = z.object({
  name: ExecutionProvider,
  available: z.boolean(),
  reason: z.string().nullable(),
});

/** What a pack's manifest.sig says (PACK_CONTRACT.md "Signature"): signed by a key the user trusts, by another key, or not signed. */
export const PackSignature = z.object({
  status: z.enum(['trusted', 'untrusted', 'unsigned']),
  /** first 16 hex digits of the SHA-256 of the signer's raw public key; null when unsigned */
  fingerprint: z.string().nullable(),
  /** the name the user gave the key when trusting it; null unless trusted */
  signer: z.string().nullable(),
});
export type PackSignature = z.infer<typeof PackSignature>;

export const PackInfo = z.object({
  name: z.string(),
  version: z.string(),
  licence: z.string(),
  sha256: z.string(),
  stages: z.array(z.string()),
  modes: z.array(z.string()),
  sizeBytes: z.number(),
  expectedVramMB: z.number(),
  builtin: z.boolean(),
  /** the loaded pack's signature (models.status); absent where it was not checked */
  signature: PackSignature.optional(),
});
export type PackInfo = z.infer<typeof PackInfo>;

export const ModelStatus = z.object({
  state: z.enum(['none', 'loading', 'ready', 'error']),
  pack: PackInfo.nullable(),
  /** execution provider each loaded stage runs on */
  stageProviders: z.record(z.string(), z.string()),
  providers: z.array(ProviderStatus),
  error: z.string().nullable(),
  /** how the answer's decode loop runs (native IO binding with the KV cache on the device, or the stock binding and why) */
  decode: z.string().nullable().optional(),
});
export type ModelStatus = z.infer<typeof ModelStatus>;

export const FileEntry = z.object({
  ref: FileRef,
  name: z.string(),
  kind: z.enum(['dir', 'file']),
  size: z.number().nullable(),
});
export const FolderListing = z.object({
  folder: z.object({ ref: FileRef, name: z.string() }),
  /** from the root down to this folder, names only */
  crumbs: z.array(z.object({ ref: FileRef, name: z.string() })),
  entries: z.array(FileEntry),
  places: z.array(z.object({ ref: FileRef, name: z.string() })),
});
export type FolderListing = z.infer<typeof FolderListing>;

export const ChatEvent = z.discriminatedUnion('type', [
  /** the user's turn (and its regions) are stored: safe to show as saved */
  z.object({ type: z.literal('saved'), userTurn: Turn, regions: z.array(Region), assistantTurnId: Id }),
  z.object({ type: z.literal('token'), index: z.number().int(), text: z.string() }),
  z.object({ type: z.literal('mask'), mask: Mask }),
  z.object({ type: z.literal('done'), turn: Turn }),
]);
export type ChatEvent = z.infer<typeof ChatEvent>;
