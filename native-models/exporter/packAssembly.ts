import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes a pack folder from an existing pack with some stage files swapped (e.g. the test pack with the exporter's
 * int4 decoder), rewriting manifest.json's sha256s so the app's verification accepts it. Used by the exporter's
 * tests and the GPU benchmark; a real pack is written whole by export_pack.py.
 */
export function assemblePack(
  srcPack: string,
  outDir: string,
  replace: Record<string, string>,
  manifestPatch: Record<string, unknown> = {},
): string {
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(srcPack)) copyFileSync(path.join(srcPack, f), path.join(outDir, f));
  const manifest = JSON.parse(readFileSync(path.join(srcPack, 'manifest.json'), 'utf8')) as {
    stages: Record<string, { file: string; sha256: string }>;
    files: Record<string, string>;
    sizes?: Record<string, number>;
  } & Record<string, unknown>;
  for (const [stage, file] of Object.entries(replace)) {
    const entry = manifest.stages[stage];
    if (!entry) throw new Error(`pack ${srcPack} has no stage ${stage}`);
    copyFileSync(file, path.join(outDir, entry.file));
  }
  for (const entry of Object.values(manifest.stages))
    entry.sha256 = createHash('sha256').update(readFileSync(path.join(outDir, entry.file))).digest('hex');
  // every listed file's byte size (PACK_CONTRACT.md "Installing packs"): swapped stages change theirs
  const listed = [...Object.values(manifest.stages).map((e) => e.file), ...Object.keys(manifest.files)];
  manifest.sizes = Object.fromEntries(listed.map((f) => [f, statSync(path.join(outDir, f)).size]));
  writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify({ ...manifest, ...manifestPatch }, null, 2)}\n`);
  return outDir;
}
