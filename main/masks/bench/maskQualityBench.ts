// Box- (and point-) prompted mask quality against human labels (npm run bench:masks): every labelled object under
// <data>/labelled/seg/ — the building footprints of the SpaceNet tiles (labels.geojson) and the instances of iSAID
// P0003 (label_instance_id_RGB.png) — is prompted with its own bounding box, through the real services (imagery
// display read, InstantMaskService), and scored by IoU against its label on the image's pixel grid:
//   classical — the segmentation used without a model pack (analysis/classicalSegment.ts)
//   box       — the box itself taken as the mask (the reference a segmenter has to beat on tight boxes)
//   pack      — the installed pack's grounding + pixel stages (--pack DIR, default the built-in test pack, whose
//               figure is labelled as a test pack's: it is not a trained model)
// The classical segmenter's tunables were chosen on SpaceNet tile_r0_c0 (DEV_TILE): it is shown apart and left out of
// "all held-out". Prints a table (per data set: objects, mean and median IoU, ms per prompt) and writes JSON (--out FILE, default
// dist/bench/mask-quality.json). DOTA P0706 has oriented boxes only (no masks): not scored.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../db/database.js';
import { CaseRepository } from '../../../db/repository.js';
import type { ImageInfo } from '../../contract/index.js';
import { ImageryService } from '../../imagery/imageryService.js';
import { buildInferenceWorker } from '../../inference/buildWorker.js';
import { InferenceHost } from '../../inference/inferenceHost.js';
import { ModelService } from '../../packs/modelService.js';
import { SessionsService } from '../../sessions/sessionsService.js';
import { dataPath, repoRoot } from '../../testing/data.js';
import { InstantMaskService } from '../instantMasks.js';
import { boxMask, isaidObjects, maskIou, maskOnImage, spacenetObjects, type LabelledObject } from './segLabels.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const packDir = path.resolve(arg('--pack') ?? path.join(repoRoot, 'native-models', 'testpack', 'pack'));
const outJson = path.resolve(arg('--out') ?? path.join(repoRoot, 'dist', 'bench', 'mask-quality.json'));
/** the tile the classical segmenter's tunables were chosen on (analysis/classicalSegment.ts BOX_TUNING): shown, not pooled */
const DEV_TILE = 'tile_r0_c0';
/** objects smaller than this (px) are left out: a box of a few pixels says nothing about a segmenter */
const MIN_AREA_PX = 16;

const root = dataPath('labelled/seg');
if (!root) throw new Error('the labelled segmentation data (../shared/data/labelled/seg, or $VANTAGE_DATA) is needed for this benchmark');

interface Source {
  dataset: string;
  image: string;
  objects: (info: ImageInfo) => Promise<LabelledObject[]>;
}
const sources: Source[] = [];
const spacenet = path.join(root, 'SpaceNet-solaris');
if (existsSync(spacenet)) {
  for (const tile of readdirSync(spacenet).sort()) {
    const dir = path.join(spacenet, tile);
    if (existsSync(path.join(dir, 'image.tif')) && existsSync(path.join(dir, 'labels.geojson'))) {
      sources.push({ dataset: tile === DEV_TILE ? `SpaceNet ${tile} (dev)` : 'SpaceNet buildings', image: path.join(dir, 'image.tif'), objects: async (info) => spacenetObjects(path.join(dir, 'labels.geojson'), info) });
    }
  }
}
const isaid = path.join(root, 'iSAID', 'P0003');
if (existsSync(path.join(isaid, 'label_instance_id_RGB.png'))) {
  sources.push({ dataset: 'iSAID P0003 instances', image: path.join(isaid, 'image.png'), objects: async () => (await isaidObjects(path.join(isaid, 'label_instance_id_RGB.png'))).objects });
}
if (sources.length === 0) throw new Error(`no labelled images under ${root}`);

const tmp = mkdtempSync(path.join(tmpdir(), 'vantage-bench-masks-'));
const db = openDatabase(path.join(tmp, 'vantage.db'));
const repo = new CaseRepository(db);
const imagery = new ImageryService({});
const host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
const sessions = new SessionsService(repo, imagery);
const models = new ModelService(host, { builtinDir: packDir });
const masks = new InstantMaskService(sessions, imagery, models, host);

interface Row {
  dataset: string;
  image: string;
  object: string;
  areaPx: number;
  box: [number, number, number, number];
  iou: { classical: number; box: number; pack: number | null; classicalPoint: number; packPoint: number | null };
  ms: { classical: number; pack: number | null };
}
const rows: Row[] = [];
let packLabel: string;
try {
  const method = await masks.maskMethod();
  const pack = models.status().pack;
  packLabel = method === 'model' && pack ? (pack.name === 'vantage-test-pack' ? `${pack.name} ${pack.version}: test pack (not a real model)` : `${pack.name} ${pack.version}`) : `none (${packDir} cannot draw masks)`;
  const sessionId = sessions.create('bench:masks').id;
  for (const s of sources) {
    const imageId = (await sessions.openImage(sessionId, s.image)).id;
    const { info } = await sessions.imageOf(sessionId, imageId);
    const objects = (await s.objects(info)).filter((o) => o.areaPx >= MIN_AREA_PX);
    for (const o of objects) {
      const r = { kind: 'box' as const, x0: o.box[0], y0: o.box[1], x1: o.box[2], y1: o.box[3] };
      let t0 = performance.now();
      const classical = (await masks.classicalRun(info, r)).m;
      const msClassical = performance.now() - t0;
      // the point prompt: the object's pixel nearest its centroid (inside the object, also for concave ones)
      const pt = { kind: 'point' as const, ...insidePoint(o.truth, info.width) };
      const classicalPoint = maskIou(maskOnImage((await masks.classicalRun(info, pt)).m, info.width, info.height), o.truth);
      let packIou: number | null = null;
      let packPoint: number | null = null;
      let msPack: number | null = null;
      if (method === 'model') {
        t0 = performance.now();
        const { m } = await masks.instantRun(info, r, masks.instantTileOf(info, r), null);
        msPack = performance.now() - t0;
        packIou = maskIou(maskOnImage(m, info.width, info.height), o.truth);
        packPoint = maskIou(maskOnImage((await masks.instantRun(info, pt, masks.instantTileOf(info, pt), null)).m, info.width, info.height), o.truth);
      }
      rows.push({
        dataset: s.dataset,
        image: path.relative(root, s.image),
        object: o.id,
        areaPx: o.areaPx,
        box: o.box,
        iou: { classical: maskIou(maskOnImage(classical, info.width, info.height), o.truth), box: maskIou(boxMask(o.box, info.width, info.height), o.truth), pack: packIou, classicalPoint, packPoint },
        ms: { classical: msClassical, pack: msPack },
      });
    }
  }
} finally {
  await host.close();
  await imagery.close();
  db.close();
  rmSync(tmp, { recursive: true, force: true });
}

/** the object's pixel nearest its centroid (x, y at the pixel's centre) */
function insidePoint(truth: Uint8Array, width: number): { x: number; y: number } {
  let sx = 0, sy = 0, n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (!truth[i]) continue;
    sx += i % width;
    sy += Math.floor(i / width);
    n++;
  }
  const cx = sx / n, cy = sy / n;
  let best = 0, bd = Infinity;
  for (let i = 0; i < truth.length; i++) {
    if (!truth[i]) continue;
    const d = (i % width - cx) ** 2 + (Math.floor(i / width) - cy) ** 2;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return { x: (best % width) + 0.5, y: Math.floor(best / width) + 0.5 };
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const summary = [...new Set(rows.map((r) => r.dataset)), 'all held-out'].map((dataset) => {
  const sel = rows.filter((r) => (dataset === 'all held-out' ? !r.dataset.endsWith('(dev)') : r.dataset === dataset));
  const pick = (k: keyof Row['iou']) => sel.map((r) => r.iou[k]).filter((v): v is number => v !== null);
  return {
    dataset,
    objects: sel.length,
    classical: { meanIou: mean(pick('classical')), medianIou: median(pick('classical')), msPerPrompt: mean(sel.map((r) => r.ms.classical)) },
    box: { meanIou: mean(pick('box')), medianIou: median(pick('box')) },
    pack: pick('pack').length ? { meanIou: mean(pick('pack')), medianIou: median(pick('pack')), msPerPrompt: mean(sel.map((r) => r.ms.pack ?? 0)) } : null,
    point: { classical: { meanIou: mean(pick('classicalPoint')), medianIou: median(pick('classicalPoint')) }, pack: pick('packPoint').length ? { meanIou: mean(pick('packPoint')), medianIou: median(pick('packPoint')) } : null },
  };
});

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—');
const lines = [
  `box prompts = each labelled object's bounding box; IoU per object on the image grid (objects ≥ ${MIN_AREA_PX} px)`,
  `pack: ${packLabel}`,
  '',
  `${'objects'.padEnd(28)} ${'n'.padStart(4)}  classical mean / median (ms)   box itself mean / median   pack mean / median (ms)`,
  ...summary.map(
    (s) =>
      `${s.dataset.padEnd(28)} ${String(s.objects).padStart(4)}  ${f(s.classical.meanIou)} / ${f(s.classical.medianIou)} (${s.classical.msPerPrompt.toFixed(0)} ms)`.padEnd(66) +
      `${f(s.box.meanIou)} / ${f(s.box.medianIou)}`.padEnd(27) +
      (s.pack ? `${f(s.pack.meanIou)} / ${f(s.pack.medianIou)} (${s.pack.msPerPrompt.toFixed(0)} ms)` : '—'),
  ),
  '',
  `point prompts (the object's pixel nearest its centroid)`,
  `${'objects'.padEnd(28)} ${'n'.padStart(4)}  classical mean / median          pack mean / median`,
  ...summary.map(
    (s) =>
      `${s.dataset.padEnd(28)} ${String(s.objects).padStart(4)}  ${f(s.point.classical.meanIou)} / ${f(s.point.classical.medianIou)}`.padEnd(66) +
      (s.point.pack ? `${f(s.point.pack.meanIou)} / ${f(s.point.pack.medianIou)}` : '—'),
  ),
];
console.log(lines.join('\n'));
mkdirSync(path.dirname(outJson), { recursive: true });
writeFileSync(outJson, JSON.stringify({ data: root, pack: packLabel, minAreaPx: MIN_AREA_PX, summary, objects: rows }, null, 2) + '\n');
console.log(`\nJSON: ${outJson}`);
