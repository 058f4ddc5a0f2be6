// Event-loop responsiveness during a change analysis of the NAIP 2009/2020 pair: in a worker thread vs in-process.
// Prints wall time and the longest gap between 10 ms timer ticks (what a tile or chat request would wait).
import { dataPath } from '../../testing/data.js';
import { buildChangeWorker } from '../buildChangeWorker.js';
import { runChangeAnalysis } from '../changeRunner.js';

const fileA = dataPath('imagery/bitemporal_naip/naip_2009-08-18.tif');
const fileB = dataPath('imagery/bitemporal_naip/naip_2020-08-31.tif');
if (!fileA || !fileB) throw new Error('the NAIP pair (../shared/data/imagery/bitemporal_naip) is needed for this benchmark');
const pair: { a: string; b: string } = { a: fileA, b: fileB };
const runs = Number(process.env.RUNS ?? 3);
const worker = await buildChangeWorker();

async function measure(workerFile: string | null): Promise<{ wallMs: number; maxGapMs: number }> {
  let last = performance.now();
  let maxGap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  const t0 = performance.now();
  await runChangeAnalysis(pair.a, pair.b, { minArea: 1000 }, workerFile);
  const wallMs = performance.now() - t0;
  clearInterval(tick);
  return { wallMs, maxGapMs: Math.max(maxGap, performance.now() - last) };
}

for (const [label, file] of [['worker', worker], ['in-process', null]] as const) {
  const rows: { wallMs: number; maxGapMs: number }[] = [];
  for (let i = 0; i < runs; i++) rows.push(await measure(file));
  const med = (k: 'wallMs' | 'maxGapMs') => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
  console.log(`${label.padEnd(10)} runs ${runs}  wall median ${med('wallMs').toFixed(0)} ms  longest event-loop stall median ${med('maxGapMs').toFixed(0)} ms`);
}
