// Change quality against human labels: `vantage change A B --method M --mask-out FILE` on every labelled pair under
// <data>/labelled/change/<dataset>/<pair>/ (A.*, B.*, label.png or label_ternary.png), scored on the changed class:
// precision, recall, F1 and IoU per pair, pooled per data set and over all pairs, for each detector in one run.
// The detectors' parameters are fixed in the code (main/change/changeAnalysis.ts), one set for every pair, never per
// pair. The two LEVIR-CD "train_" pairs are the development pairs the design was chosen on (DEV_PAIRS): they are
// scored and shown but left out of the held-out pooled figures. Prints a table, writes JSON (--out FILE, default
// dist/bench/change-quality.json).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { confusion, pool, readGrey, scores, type Confusion, type Scores } from '../changeScore.js';
import { dataPath, repoRoot } from '../../testing/data.js';

const run = promisify(execFile);
const DETECTORS = ['cva-otsu', 'cva-matched'] as const;
const DEV_PAIRS = new Set(['LEVIR-CD/train_36_0512_0512', 'LEVIR-CD/train_386_0512_0768']);
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
const outAt = process.argv.indexOf('--out');
const outJson = path.resolve(outAt > 0 && process.argv[outAt + 1] ? process.argv[outAt + 1]! : path.join(repoRoot, 'dist', 'bench', 'change-quality.json'));

const root = dataPath('labelled/change');
if (!root) throw new Error('the labelled change pairs (../shared/data/labelled/change, or $VANTAGE_DATA) are needed for this benchmark');
if (!existsSync(cli) || !readFileSync(cli, 'utf8').includes('mask-out')) {
  await run(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
}

interface Pair {
  dataset: string;
  name: string;
  a: string;
  b: string;
  label: string;
}

const pairs: Pair[] = [];
for (const dataset of readdirSync(root).sort()) {
  const dir = path.join(root, dataset);
  if (!existsSync(dir) || !readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory())) continue;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const files = existsSync(p) ? readdirSync(p) : [];
    const find = (re: RegExp) => files.find((f) => re.test(f));
    const a = find(/^A\.(png|tif)$/i);
    const b = find(/^B\.(png|tif)$/i);
    // sparse labels (255 changed, 0 unchanged, 127 unlabelled) are preferred to a changed-only bitmap
    const label = find(/^label_ternary\.png$/i) ?? find(/^label\.png$/i);
    if (a && b && label) pairs.push({ dataset, name, a: path.join(p, a), b: path.join(p, b), label: path.join(p, label) });
  }
}
if (pairs.length === 0) throw new Error(`no labelled pairs under ${root}`);

const work = mkdtempSync(path.join(tmpdir(), 'vantage-bench-change-'));
interface Row {
  dataset: string;
  pair: string;
  dev: boolean;
  detector: string;
  labelledPx: number;
  changedLabelPct: number;
  predictedPct: number;
  scores: Scores;
  seconds: number;
}
const rows: Row[] = [];
try {
  for (const p of pairs) {
    const label = await readGrey(p.label);
    for (const detector of DETECTORS) {
      const out = path.join(work, `${p.dataset}-${p.name}-${detector}${p.a.endsWith('.tif') ? '.tif' : '.png'}`);
      const t0 = performance.now();
      await run(process.execPath, [cli, '--data-dir', path.join(work, 'data'), 'change', p.a, p.b, '--method', detector, '--mask-out', out, '--json'], { cwd: repoRoot, maxBuffer: 1 << 26 });
      const seconds = (performance.now() - t0) / 1000;
      const mask = await readGrey(out);
      if (mask.width !== label.width || mask.height !== label.height) throw new Error(`${p.dataset}/${p.name}: mask ${mask.width}×${mask.height} but label ${label.width}×${label.height}`);
      const c: Confusion = confusion(mask.data, label.data);
      let predicted = 0;
      for (const v of mask.data) if (v) predicted++;
      const labelled = c.tp + c.fp + c.fn + c.tn;
      rows.push({ dataset: p.dataset, pair: p.name, dev: DEV_PAIRS.has(`${p.dataset}/${p.name}`), detector, labelledPx: labelled, changedLabelPct: (100 * (c.tp + c.fn)) / labelled, predictedPct: (100 * predicted) / mask.data.length, scores: scores(c), seconds });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const pooled: { scope: string; detector: string; scores: Scores }[] = [];
for (const scope of [...new Set(pairs.map((p) => p.dataset)), 'all held-out', 'development pairs']) {
  for (const detector of DETECTORS) {
    const sel = rows.filter(
      (r) => r.detector === detector && (scope === 'development pairs' ? r.dev : !r.dev && (scope === 'all held-out' || r.dataset === scope)),
    );
    pooled.push({ scope, detector, scores: scores(pool(sel.map((r) => r.scores))) });
  }
}

const f = (v: number) => v.toFixed(3);
const lines = [
  `${'pair'.padEnd(42)} ${'detector'.padEnd(12)} ${'label%'.padStart(6)} ${'pred%'.padStart(6)}  precision recall  F1     IoU`,
  ...rows.map(
    (r) =>
      `${`${r.dataset}/${r.pair}${r.dev ? ' (dev)' : ''}`.padEnd(42)} ${r.detector.padEnd(12)} ${r.changedLabelPct.toFixed(1).padStart(6)} ${r.predictedPct.toFixed(1).padStart(6)}  ` +
      `${f(r.scores.precision)}     ${f(r.scores.recall)}  ${f(r.scores.f1)}  ${f(r.scores.iou)}`,
  ),
  '',
  `pooled (pixel counts summed; data sets and "all" over the held-out pairs)`,
  ...pooled.map((p) => `${p.scope.padEnd(42)} ${p.detector.padEnd(12)} ${''.padStart(13)}  ${f(p.scores.precision)}     ${f(p.scores.recall)}  ${f(p.scores.f1)}  ${f(p.scores.iou)}`),
];
console.log(lines.join('\n'));
mkdirSync(path.dirname(outJson), { recursive: true });
writeFileSync(outJson, JSON.stringify({ data: root, detectors: DETECTORS, pairs: rows, pooled }, null, 2) + '\n');
console.log(`\nJSON: ${outJson}`);
