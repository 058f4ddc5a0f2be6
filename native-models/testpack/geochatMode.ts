import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The test pack's GeoChat mode (README "GeoChat mode"): the committed pack, unchanged weights, made to answer in
 * GeoChat's box language so that answer boxes (PACK_CONTRACT.md "Answer boxes") run end to end. Its tokenizer writes
 * the id the model emits for an object (`<SEG>` in the plain pack) as this fixed box, so "segment the red building ."
 * is answered `<p> red building </p> {<10><20><40><60>|<30>}.`; `<SEG>` moves to an id the model never emits, and the
 * manifest declares `tokens.regionFormat: "geochat-box"`.
 * - `sam: true`: a mixed pack — the GeoChat-style stages with the SAM-style grounding + pixel stages, both licences
 *   listed in `licences`; each box is refined by SAM with the box as its prompt.
 * - `sam: false`: vision, prompt, embed and decoder only; each box is stored as the (turned) box itself.
 * - `samPreprocess: true` (with `sam`): the manifest says `grounding.preprocess: "sam"`, as a pack exported from a
 *   SAM checkpoint does: the box then runs on SAM's own input of the global rect (the ask's grounding view).
 */
export const GEOCHAT_TEST_BOX = '{<10><20><40><60>|<30>}';
export const GEOCHAT_TEST_BOX_GRID = { x0: 10, y0: 20, x1: 40, y1: 60, theta: 30 } as const;

const here = path.dirname(new URL(import.meta.url).pathname);
const packDir = path.join(here, 'pack');

interface AddedToken { id: number; content: string; special: boolean; [k: string]: unknown }

export function makeGeochatTestPack(outDir: string, opts: { sam: boolean; samPreprocess?: boolean }): string {
  mkdirSync(outDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(packDir, 'manifest.json'), 'utf8')) as Record<string, unknown> & {
    name: string;
    modes: string[];
    stages: Record<string, { file: string; sha256: string }>;
    files: Record<string, string>;
    sizes: Record<string, number>;
    tokens: Record<string, unknown>;
  };
  if (!opts.sam) {
    for (const st of ['grounding', 'pixel']) delete manifest.stages[st];
    delete manifest.grounding;
    delete manifest.pixel;
    manifest.modes = manifest.modes.filter((md) => md === 'chat');
  }
  // the tokenizer: the object id reads as the box, <SEG> moves to the first <extra_k> (never emitted)
  const tj = JSON.parse(readFileSync(path.join(packDir, 'tokenizer.json'), 'utf8')) as {
    added_tokens: AddedToken[];
    model: { vocab: Record<string, number> };
  };
  const vocab = tj.model.vocab;
  const segId = vocab['<SEG>'], spareId = vocab['<extra_0>'];
  if (segId === undefined || spareId === undefined) throw new Error('test pack tokenizer has no <SEG> or <extra_0>');
  delete vocab['<SEG>'];
  delete vocab['<extra_0>'];
  vocab[GEOCHAT_TEST_BOX] = segId;
  vocab['<SEG>'] = spareId;
  const seg = tj.added_tokens.find((t) => t.id === segId)!;
  tj.added_tokens = tj.added_tokens.filter((t) => t.id !== spareId);
  tj.added_tokens.push({ ...seg, id: spareId });
  Object.assign(seg, { content: GEOCHAT_TEST_BOX, special: false });
  tj.added_tokens.sort((a, b) => a.id - b.id);
  const tokenizer = `${JSON.stringify(tj)}\n`;
  writeFileSync(path.join(outDir, 'tokenizer.json'), tokenizer);
  manifest.files['tokenizer.json'] = createHash('sha256').update(tokenizer).digest('hex');
  const listed = [...Object.values(manifest.stages).map((e) => e.file), ...Object.keys(manifest.files)];
  for (const f of listed) if (f !== 'tokenizer.json') copyFileSync(path.join(packDir, f), path.join(outDir, f));
  manifest.sizes = Object.fromEntries(listed.map((f) => [f, statSync(path.join(outDir, f)).size]));
  manifest.tokens = { ...manifest.tokens, regionFormat: 'geochat-box' };
  // GeoChat answers a [refer] question with boxes: no forced `<SEG>` prefix
  manifest.chat = { ...(manifest.chat as Record<string, unknown>), groundPrefix: '' };
  manifest.name = opts.sam ? 'vantage-test-pack-geochat-sam' : 'vantage-test-pack-geochat';
  manifest.family = opts.sam ? 'geochat+sam' : 'geochat';
  manifest.description = `The test pack in GeoChat mode: answers write objects as ${GEOCHAT_TEST_BOX}${opts.sam ? ', refined by the SAM-style stages' : ''}.`;
  if (opts.sam && opts.samPreprocess) manifest.grounding = { ...(manifest.grounding as Record<string, unknown>), preprocess: 'sam' };
  if (opts.sam) {
    manifest.licences = [
      { part: 'GeoChat-style vision and decoder (test weights)', licence: 'CC0-1.0', stages: ['vision', 'prompt', 'embed', 'decoder'] },
      { part: 'SAM-style grounding and pixel decoder (test weights)', licence: 'CC0-1.0', stages: ['grounding', 'pixel'] },
    ];
  }
  writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return outDir;
}
