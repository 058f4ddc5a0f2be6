/**
 * `npm run bench:model [-- PACK_DIR] [--asks N] [--tokens N]`: figures for one model pack on this machine —
 * load time, per-stage ms, time to first token, decode tokens/s, instant-mask latency on a cold view vs a cached
 * view, a <SEG> mask from the global view vs composed from every view, peak RSS. Runs the pipeline in-process (the same class the worker runs) on synthetic views, so it needs
 * no imagery. Default pack: the built-in test pack.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InferencePipeline, type ViewInput } from '../../main/inference/pipeline.js';
import { planViews } from '../../main/inference/viewPlanner.js';

const repo = process.env.VANTAGE_REPO ?? process.cwd();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { asks: { type: 'string', default: '5' }, tokens: { type: 'string', default: '32' }, clicks: { type: 'string', default: '10' } },
});
const packDir = path.resolve(positionals[0] ?? path.join(repo, 'native-models', 'testpack', 'pack'));
const asks = Number(values.asks), maxNewTokens = Number(values.tokens), clicks = Number(values.clicks);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const f = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function syntheticView(S: number, seed: number, rect: [number, number, number, number]): ViewInput {
  const rgb = new Uint8Array(S * S * 3);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < rgb.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    rgb[i] = (x >>> 0) & 0xff;
  }
  return { rect, rgb, key: `bench-${seed}` };
}

const tLoad = performance.now();
const p = await InferencePipeline.create(packDir, { forced: process.env.VANTAGE_EP });
const loadMs = performance.now() - tLoad;
const S = p.pack.manifest.view.size;
/** instant-mask tiles at the grounding stage's own size (manifest grounding.size; SAM packs 1024) */
const G = p.pack.manifest.grounding?.size ?? S;
console.log(`pack        ${p.pack.name} ${p.pack.version} (${(p.pack.sizeBytes / 1024 ** 2).toFixed(1)} MB, ${packDir})`);
console.log(`providers   ${Object.entries(p.stageProviders).map(([s, e]) => `${s}:${e}`).join(' ')}`);
for (const pr of p.providers.filter((x) => !x.available)) console.log(`            ${pr.name} not used: ${pr.reason}`);
console.log(`load        ${f(loadMs)} ms (sha256 check + ${Object.keys(p.stageProviders).length} sessions)`);

if (p.canChat()) {
  const ttft: number[] = [], tps: number[] = [], total: number[] = [];
  let tokens = 0;
  for (let i = 0; i <= asks; i++) {
    const t0 = performance.now();
    let first: number | null = null, firstAt = 0, n = 0;
    const r = await p.ask(
      {
        views: [syntheticView(S, i + 1, [0, 0, 1000, 1000])],
        regions: [{ kind: 'box', x0: 200, y0: 200, x1: 600, y1: 500 }],
        text: 'what is in <region1> ?',
        history: [],
        source: p.pack.manifest.sources[0]!,
        mode: 'chat',
        maxNewTokens,
        // sampling at a fixed seed keeps stop tokens from ending the answer after a couple of tokens
        sampling: { temperature: 1, topP: 1, seed: i + 1 },
      },
      { onToken: () => { n++; if (first === null) { first = performance.now() - t0; firstAt = performance.now(); } }, onMask: () => {} },
    );
    if (i === 0) {
      for (const k of Object.keys(p.stageTimes)) delete p.stageTimes[k as keyof typeof p.stageTimes]; // warm-up ask
      continue;
    }
    total.push(r.durationMs);
    tokens += r.tokens;
    if (first !== null) ttft.push(first);
    if (n > 1) tps.push((n - 1) / ((performance.now() - firstAt) / 1000));
  }
  console.log(`ask         ${asks} asks, ${maxNewTokens} max tokens (${(tokens / asks).toFixed(1)} generated on average): median ${f(median(total))} ms`);
  console.log(`first token median ${f(median(ttft))} ms   decode median ${f(median(tps))} tokens/s`);
  console.log('stage       total ms / calls = ms per call');
  for (const [s, t] of Object.entries(p.stageTimes)) console.log(`  ${s.padEnd(10)}${f(t!.ms).padStart(10)} / ${String(t!.calls).padStart(4)} = ${f(t!.ms / t!.calls)}`);
} else {
  console.log('ask         pack has no chat stages');
}

if (p.canSegment()) {
  const cold: number[] = [], warm: number[] = [];
  for (let i = 0; i < clicks; i++) {
    const v = syntheticView(G, 1000 + i, [0, 0, 1000, 1000]);
    let t0 = performance.now();
    await p.instantMask(v, { kind: 'point', x: 300 + i, y: 400 });
    cold.push(performance.now() - t0);
    t0 = performance.now();
    const m = await p.instantMask(v, { kind: 'box', x0: 100, y0: 100, x1: 500 + i, y1: 450 });
    warm.push(performance.now() - t0);
    if (!m.cachedFeatures) throw new Error('second click on the same view did not use the cached grounding features');
  }
  console.log(`instant mask  cold view median ${f(median(cold))} ms   cached view median ${f(median(warm))} ms   (${clicks} clicks each)`);
  if (p.canChat() && p.pack.manifest.chat.groundPrefix && p.pack.manifest.view.maxViews > 1) {
    // one <SEG> mask (segment mode's forced prefix: the mask follows the prefill): global view only vs composed from
    // every view (maskDetail 'views'); time from the forced prefix's token event to the mask event
    const grid = planViews(2000, 2000, p.pack.manifest.view).views;
    const segMs = async (seed: number, maskDetail: 'global' | 'views') => {
      let tok = 0, ms = NaN, size = 0;
      await p.ask(
        { views: grid.map((rect, k) => syntheticView(S, seed * 16 + k, rect)), regions: [], text: 'the red building', history: [], source: p.pack.manifest.sources[0]!, mode: 'segment', maxNewTokens: 1, sampling: { temperature: 0, topP: 1, seed: 0 }, maskDetail },
        { onToken: () => { tok = performance.now(); }, onMask: (m) => { ms = performance.now() - tok; size = m.size; } },
      );
      return { ms, size };
    };
    const g: number[] = [], cold: number[] = [], cached: number[] = [];
    let sizes = '';
    for (let i = 0; i < 3; i++) {
      g.push((await segMs(5000 + i, 'global')).ms);
      const c = await segMs(6000 + i, 'views');
      cold.push(c.ms);
      cached.push((await segMs(6000 + i, 'views')).ms);
      sizes = `${p.pack.manifest.pixel?.maskSize ?? '?'}² → ${c.size}²`;
    }
    console.log(`seg mask    global view ${f(median(g))} ms   from ${grid.length} views (${sizes}) ${f(median(cold))} ms, features cached ${f(median(cached))} ms`);
  }
} else {
  console.log('instant mask  pack has no grounding/pixel stages');
}
console.log(`peak RSS    ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await p.dispose();
