import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VantageError, zodIssues } from '../contract/errors.js';
import type { PackInfo } from '../contract/schemas.js';
import { parseJsonText } from '../util/json.js';
import { joinUnder } from '../util/safePath.js';
import { onnxExternalLocations } from './onnxExternalData.js';

/** Version of native-models/PACK_CONTRACT.md this runtime implements. */
export const SUPPORTED_CONTRACT = 1;

export const STAGE_NAMES = ['vision', 'prompt', 'embed', 'decoder', 'grounding', 'pixel'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/i, 'a sha256 is 64 hex digits');
/** A file name inside the pack folder: no separators, so a manifest can never point outside its pack. */
const packFileName = z
  .string()
  .min(1)
  .max(200, 'file names are at most 200 characters')
  .refine((n) => !/[\\/\0]/.test(n) && n !== '.' && n !== '..', 'file names must be plain names inside the pack folder');
/** name and version become the install folder's name (`<name>-<version>`): short, printable, no separators */
const packName = z
  .string()
  .min(1)
  .max(100, 'a pack name is at most 100 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._+()-]*$/u, 'a pack name holds letters, digits, spaces and . _ + ( ) - only, starting with a letter or digit');
const packVersion = z
  .string()
  .min(1)
  .max(64, 'a pack version is at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'a pack version holds letters, digits and . _ + - only, starting with a letter or digit');

const StageEntry = z.looseObject({
  file: packFileName,
  sha256: sha256Hex,
  dtype: z.enum(['float32', 'float16']).default('float32'),
});

export const PackManifest = z.looseObject({
  contract: z.number().int().positive(),
  name: packName,
  version: packVersion,
  licence: z.string(),
  /**
   * a mixed pack (stages from more than one checkpoint, e.g. GeoChat's vision + decoder with SAM's grounding + pixel):
   * each part's licence and the stages it covers (PACK_CONTRACT.md "manifest.json"); `licence` then sums them up
   */
  licences: z.array(z.object({ part: z.string().min(1), licence: z.string().min(1), stages: z.array(z.string()).min(1) })).optional(),
  family: z.string(),
  description: z.string().default(''),
  quantisation: z.string().default('fp32'),
  expectedVramMB: z.number().nonnegative(),
  sources: z.array(z.enum(['optical', 'sar', 'infrared'])).min(1),
  modes: z.array(z.string()),
  view: z.looseObject({
    size: z.number().int().positive(),
    tokens: z.number().int().positive(),
    maxViews: z.number().int().positive(),
    mean: rgb,
    std: rgb,
    maxImagePixels: z.number().positive(),
    /** how views are resampled: 'nearest' (default) or 'bicubic' (Pillow's, as CLIPImageProcessor; viewResample.ts) */
    resample: z.enum(['nearest', 'bicubic']).default('nearest'),
    /** 'square': the global view is padded to a square with the mean colour (LLaVA-1.5 / GeoChat expand2square) */
    pad: z.enum(['none', 'square']).default('none'),
  }),
  grounding: z
    .looseObject({
      channels: z.number().int().positive(),
      grid: z.number().int().positive(),
      mean: rgb,
      std: rgb,
      /**
       * how an instant mask's tile becomes the grounding input: 'view' (default, contract v1: resampled to S×S like any
       * view) or 'sam' (SamPredictor.set_image: full-resolution pixels, Pillow-bilinear resize of the longest side to S,
       * padded bottom/right; viewResample.samViewGeometry)
       */
      preprocess: z.enum(['view', 'sam']).default('view'),
      /**
       * G, the grounding stage's input side (pixel_values [1,3,G,G], prompt points in G-pixel units); default the view
       * size S. SAM packs: 1024, SAM's own, whatever the vision tower's view (GeoChat 504, LLaVA 336)
       */
      size: z.number().int().min(16).max(4096).optional(),
    })
    .optional(),
  pixel: z
    .looseObject({
      maskSize: z.number().int().positive(),
      /**
       * the decoder hidden state a <SEG> hands to the pixel stage: 'consuming' (default, contract v1: the row of the
       * <SEG> token itself) or 'predicting' (the row whose logits produced <SEG>, as LISA / GLaMM / GeoPixel train it)
       */
      segHidden: z.enum(['consuming', 'predicting']).default('consuming'),
    })
    .optional(),
  llm: z
    .looseObject({
      hidden: z.number().int().positive(),
      layers: z.number().int().positive(),
      heads: z.number().int().positive(),
      kvHeads: z.number().int().positive(),
      headDim: z.number().int().positive(),
      vocab: z.number().int().positive(),
      maxContext: z.number().int().positive(),
      /**
       * the decoder also takes past_key_values at a fixed capacity (maxContext) with a zero-padded attention_mask
       * and returns present in that same shape (GroupQueryAttention graphs), so past and present can share one
       * buffer updated in place (PACK_CONTRACT.md "Static KV cache")
       */
      staticKvCache: z.boolean().optional(),
      /** the decoder's `logits` holds the last row only, [1,1,vocab] (exporter --last-logits; PACK_CONTRACT.md) */
      lastRowLogits: z.boolean().optional(),
    })
    .optional(),
  tokens: z.looseObject({
    image: z.string().min(1),
    region: z.string().includes('{k}'),
    maxRegions: z.number().int().nonnegative(),
    seg: z.string().min(1),
    phraseOpen: z.string().min(1),
    phraseClose: z.string().min(1),
    stop: z.array(z.string().min(1)).min(1),
    pad: z.string().min(1),
    sources: z.looseObject({ optical: z.string(), sar: z.string(), infrared: z.string() }),
    /** how regions reach the model (PACK_CONTRACT.md "Region format"); absent = "embedding" */
    regionFormat: z.enum(['embedding', 'geochat-box']).optional(),
  }),
  chat: z.looseObject({
    system: z.string().includes('{content}'),
    user: z.string().includes('{content}'),
    assistant: z.string().includes('{content}'),
    assistantPrefix: z.string(),
    defaultSystem: z.string(),
    groundPrefix: z.string().default(''),
    /** how the first user turn opens: `{source}` source tag, `{image}` image token (default "{source} {image} ") */
    imagePrefix: z.string().includes('{image}').optional(),
  }),
  stages: z.record(z.string(), StageEntry),
  files: z.record(packFileName, sha256Hex),
  /**
   * byte size of every file in `stages` and `files` (PACK_CONTRACT.md "Installing packs"): required to install from
   * a .zip, where each entry is inflated only up to its declared size; packs made before sizes existed install
   * from a folder. When present, it must name every file, and a file of another size is refused on load.
   */
  sizes: z.record(packFileName, z.number().int().nonnegative()).optional(),
});
export type PackManifest = z.infer<typeof PackManifest>;

export interface LoadedPackInfo extends PackInfo {
  dir: string;
  manifest: PackManifest;
  /** absolute path of each present stage's ONNX file, verified */
  stageFiles: Partial<Record<StageName, string>>;
  tokenizerFile: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A real manifest is a few KB; anything near this is not one (and is never read whole into memory). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A value from a pack shown in a message: quoted, at most 80 characters (a pack may name itself with 10 MB). */
export function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value);
}

/**
 * Parses and validates manifest.json's bytes against the contract (no file is read). `where` names the pack in
 * errors (its folder or .zip) until the manifest's own name is known.
 */
export function parseManifest(raw: Buffer, where: string): PackManifest {
  if (raw.byteLength > MAX_MANIFEST_BYTES) {
    throw new VantageError('BAD_INPUT', `model pack ${shown(where)}: manifest.json is larger than ${MAX_MANIFEST_BYTES >> 20} MiB; not a model pack manifest`);
  }
  let json: unknown;
  try {
    json = parseJsonText(raw.toString('utf8'));
  } catch (err) {
    throw new VantageError('BAD_INPUT', `model pack ${shown(where)}: manifest.json is not valid JSON (${(err as Error).message})`);
  }
  const name = (json as { name?: unknown })?.name;
  const label = shown(typeof name === 'string' ? name : where);
  const contract = (json as { contract?: unknown })?.contract;
  if (typeof contract === 'number' && contract > SUPPORTED_CONTRACT) {
    throw new VantageError(
      'UNSUPPORTED',
      `model pack ${label} needs pack contract ${contract}, but this version of Vantage supports contract ${SUPPORTED_CONTRACT} only; update Vantage or use a pack built for contract ${SUPPORTED_CONTRACT}`,
    );
  }
  const parsed = PackManifest.safeParse(json);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error).map((i) => ({ ...i, path: i.path.length > 80 ? `${i.path.slice(0, 77)}…` : i.path }));
    const first = issues.slice(0, 3).map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    throw new VantageError('BAD_INPUT', `model pack ${label}: manifest.json does not follow pack contract ${SUPPORTED_CONTRACT} (${first})`, issues);
  }
  return parsed.data;
}

/**
 * manifest.json's bytes (or another small file's), never more than `max` + 1 (enough for parseManifest to refuse
 * it); refuses to follow a symbolic link where the platform can tell (O_NOFOLLOW) and anything but a regular file.
 */
export async function readManifestFile(file: string, max = MAX_MANIFEST_BYTES): Promise<Buffer> {
  const fh = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${file} is not a regular file`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

export interface PackFile {
  sha256: string;
  /** from `sizes`; absent in packs made before sizes were part of the contract */
  size?: number;
}

/** Every file the manifest names (stages of known names, then `files`), with its sha256 and declared size. */
export function manifestFiles(manifest: PackManifest): Map<string, PackFile> {
  const expected = new Map<string, PackFile>();
  const add = (file: string, sha: string) => {
    const prev = expected.get(file);
    if (prev !== undefined && prev.sha256 !== sha.toLowerCase()) {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": manifest.json lists two different sha256 values for ${file}`);
    }
    const size = manifest.sizes?.[file];
    if (manifest.sizes && size === undefined) {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": manifest.json gives no size for ${file} in "sizes"; every file needs one`);
    }
    expected.set(file, { sha256: sha.toLowerCase(), ...(size !== undefined ? { size } : {}) });
  };
  let stages = 0;
  for (const [stage, entry] of Object.entries(manifest.stages)) {
    if (!(STAGE_NAMES as readonly string[]).includes(stage)) continue; // unknown stages are ignored per the contract
    add(entry.file, entry.sha256);
    stages++;
  }
  for (const [file, sha] of Object.entries(manifest.files)) add(file, sha);
  if (!expected.has('tokenizer.json') && (manifest.stages.embed || manifest.stages.decoder)) {
    throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": manifest.json must list tokenizer.json with its sha256 in "files"`);
  }
  if (stages === 0) {
    throw new VantageError('BAD_INPUT', `model pack "${manifest.name}" has no stages; expected some of ${STAGE_NAMES.join(', ')}`);
  }
  return expected;
}

export function shaMismatch(pack: string, file: string, want: string, got: string): VantageError {
  return new VantageError(
    'BAD_INPUT',
    `model pack "${pack}": file ${file} does not match its sha256 in manifest.json (expected ${want}, got ${got}); the pack may be corrupt or tampered with`,
  );
}

/**
 * Every external-data `location` in the pack's ONNX graphs must be a file the manifest names (so it is hashed and
 * lies inside the pack folder): onnxruntime would otherwise read whatever path a graph points at.
 */
async function checkExternalData(dir: string, manifest: PackManifest, files: Map<string, PackFile>): Promise<void> {
  for (const file of files.keys()) {
    if (!file.toLowerCase().endsWith('.onnx')) continue;
    let locations: string[];
    try {
      locations = await onnxExternalLocations(path.join(dir, file));
    } catch (err) {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": ${file} is not a valid ONNX graph (${(err as Error).message})`);
    }
    for (const loc of locations) {
      const why = !files.has(loc) ? 'is not a file listed in manifest.json' : loc.toLowerCase().endsWith('.onnx') ? 'is a graph' : null;
      if (why) throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": ${file} refers to external data ${shown(loc)} that ${why}; refused`);
      joinUnder(dir, loc, 'external-data location');
    }
  }
}

export interface LoadOptions {
  builtin?: boolean;
  /** false: skip the sha256s and the ONNX checks (listing installed packs; every load and install verifies) */
  verify?: boolean;
  /** sha256 of files already computed from the exact bytes in `dir` (an install hashes while it copies) */
  hashed?: ReadonlyMap<string, string>;
}

/**
 * Reads and validates `manifest.json` in `dir`, then checks the size and sha256 of every file it lists, and that
 * the ONNX graphs read external data only from files it lists, before anything is handed to onnxruntime: a pack is
 * side-loaded, so a corrupt or swapped graph must be refused, not run.
 */
export async function loadPack(dir: string, opts: LoadOptions = {}): Promise<LoadedPackInfo> {
  const manifestPath = path.join(dir, 'manifest.json');
  let raw: Buffer;
  try {
    raw = await readManifestFile(manifestPath);
  } catch {
    throw new VantageError('NOT_FOUND', `model pack folder "${dir}" has no manifest.json; choose the folder that holds manifest.json, tokenizer.json and the .onnx stages`);
  }
  const manifest = parseManifest(raw, dir);
  for (const part of manifest.licences ?? []) {
    const unknown = part.stages.filter((st) => !(st in manifest.stages));
    if (unknown.length) throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": licences names stage(s) ${unknown.join(', ')} (part "${part.part}") that the pack does not have`);
  }
  const expected = manifestFiles(manifest);
  const stageFiles: Partial<Record<StageName, string>> = {};
  for (const [stage, entry] of Object.entries(manifest.stages)) {
    if ((STAGE_NAMES as readonly string[]).includes(stage)) stageFiles[stage as StageName] = path.join(dir, entry.file);
  }

  let sizeBytes = raw.byteLength;
  for (const [file, want] of expected) {
    const full = path.join(dir, file);
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": file ${file} listed in manifest.json is missing; the pack is incomplete — copy the whole pack folder again`);
    }
    if (want.size !== undefined && size !== want.size) {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": file ${file} is ${size} bytes but manifest.json declares ${want.size}; the pack is incomplete or tampered with`);
    }
    // listing installed packs skips the hashes (GBs for a full pack); every load and install verifies them
    const got = opts.verify === false ? want.sha256 : (opts.hashed?.get(file) ?? (await sha256File(full)));
    if (got !== want.sha256) throw shaMismatch(manifest.name, file, want.sha256, got);
    sizeBytes += size;
  }
  if (opts.verify !== false) await checkExternalData(dir, manifest, expected);

  return {
    name: manifest.name,
    version: manifest.version,
    licence: licenceText(manifest),
    sha256: createHash('sha256').update(raw).digest('hex'),
    stages: STAGE_NAMES.filter((s) => stageFiles[s] !== undefined),
    modes: manifest.modes,
    sizeBytes,
    expectedVramMB: manifest.expectedVramMB,
    builtin: opts.builtin ?? false,
    dir: path.resolve(dir),
    manifest,
    stageFiles,
    tokenizerFile: path.join(dir, 'tokenizer.json'),
  };
}

/** The pack's licence as shown: `licence`, then each part's licence with its stages for a mixed pack. */
export function licenceText(m: Pick<PackManifest, 'licence' | 'licences'>): string {
  if (!m.licences?.length) return m.licence;
  return `${m.licence} — ${m.licences.map((p) => `${p.part} (${p.stages.join(', ')}): ${p.licence}`).join('; ')}`;
}

/** The PackInfo the contract exposes (no paths, no manifest). */
export function toPackInfo(p: LoadedPackInfo): PackInfo {
  return {
    name: p.name,
    version: p.version,
    licence: p.licence,
    sha256: p.sha256,
    stages: p.stages,
    modes: p.modes,
    sizeBytes: p.sizeBytes,
    expectedVramMB: p.expectedVramMB,
    builtin: p.builtin,
  };
}
