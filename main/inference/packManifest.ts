import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VantageError, zodIssues } from '../contract/errors.js';
import type { PackInfo } from '../contract/schemas.js';

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
  .refine((n) => !/[\\/]/.test(n) && n !== '.' && n !== '..', 'file names must be plain names inside the pack folder');

const StageEntry = z.looseObject({
  file: packFileName,
  sha256: sha256Hex,
  dtype: z.enum(['float32', 'float16']).default('float32'),
});

export const PackManifest = z.looseObject({
  contract: z.number().int().positive(),
  name: z.string().min(1),
  version: z.string().min(1),
  licence: z.string(),
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
  }),
  grounding: z
    .looseObject({ channels: z.number().int().positive(), grid: z.number().int().positive(), mean: rgb, std: rgb })
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
  }),
  stages: z.record(z.string(), StageEntry),
  files: z.record(packFileName, sha256Hex),
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

/**
 * Reads and validates `manifest.json` in `dir`, then checks the sha256 of every file it lists before anything
 * is handed to onnxruntime: a pack is side-loaded, so a corrupt or swapped graph must be refused, not run.
 */
export async function loadPack(dir: string, opts: { builtin?: boolean; verify?: boolean } = {}): Promise<LoadedPackInfo> {
  const manifestPath = path.join(dir, 'manifest.json');
  let raw: Buffer;
  try {
    raw = await readFile(manifestPath);
  } catch {
    throw new VantageError('NOT_FOUND', `model pack folder "${dir}" has no manifest.json; choose the folder that holds manifest.json, tokenizer.json and the .onnx stages`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new VantageError('BAD_INPUT', `model pack "${dir}": manifest.json is not valid JSON (${(err as Error).message})`);
  }
  const label = typeof (json as { name?: unknown })?.name === 'string' ? (json as { name: string }).name : dir;
  const contract = (json as { contract?: unknown })?.contract;
  if (typeof contract === 'number' && contract > SUPPORTED_CONTRACT) {
    throw new VantageError(
      'UNSUPPORTED',
      `model pack "${label}" needs pack contract ${contract}, but this version of Vantage supports contract ${SUPPORTED_CONTRACT} only; update Vantage or use a pack built for contract ${SUPPORTED_CONTRACT}`,
    );
  }
  const parsed = PackManifest.safeParse(json);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    const first = issues.slice(0, 3).map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    throw new VantageError('BAD_INPUT', `model pack "${label}": manifest.json does not follow pack contract ${SUPPORTED_CONTRACT} (${first})`, issues);
  }
  const manifest = parsed.data;

  const stageFiles: Partial<Record<StageName, string>> = {};
  const expected = new Map<string, string>();
  for (const [stage, entry] of Object.entries(manifest.stages)) {
    if (!(STAGE_NAMES as readonly string[]).includes(stage)) continue; // unknown stages are ignored per the contract
    expected.set(entry.file, entry.sha256.toLowerCase());
    stageFiles[stage as StageName] = path.join(dir, entry.file);
  }
  for (const [file, sha] of Object.entries(manifest.files)) {
    const prev = expected.get(file);
    if (prev !== undefined && prev !== sha.toLowerCase()) {
      throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": manifest.json lists two different sha256 values for ${file}`);
    }
    expected.set(file, sha.toLowerCase());
  }
  if (!expected.has('tokenizer.json') && (stageFiles.embed || stageFiles.decoder)) {
    throw new VantageError('BAD_INPUT', `model pack "${manifest.name}": manifest.json must list tokenizer.json with its sha256 in "files"`);
  }
  if (Object.keys(stageFiles).length === 0) {
    throw new VantageError('BAD_INPUT', `model pack "${manifest.name}" has no stages; expected some of ${STAGE_NAMES.join(', ')}`);
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
    // listing installed packs skips the hashes (GBs for a full pack); every load and install verifies them
    const got = opts.verify === false ? want : await sha256File(full);
    if (got !== want) {
      throw new VantageError(
        'BAD_INPUT',
        `model pack "${manifest.name}": file ${file} does not match its sha256 in manifest.json (expected ${want}, got ${got}); the pack may be corrupt or tampered with`,
      );
    }
    sizeBytes += size;
  }

  return {
    name: manifest.name,
    version: manifest.version,
    licence: manifest.licence,
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
