import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceHost } from './inferenceHost.js';

/**
 * The host's failure paths, with small worker scripts that really crash, exit or stall: no model is needed to
 * prove that a pending ask is rejected instead of hanging. (Killing the real worker while onnxruntime is
 * inside a native call can abort the whole process, so the crash is staged at a JS point instead.)
 */

let dir: string;
const ready = `{ type: 'ready', seq: m.seq, pack: { name: 'p', version: '1', licence: 'x', sha256: 'a'.repeat(64), stages: ['decoder'], modes: ['chat'], sizeBytes: 1, expectedVramMB: 1, builtin: false }, stageProviders: { decoder: 'cpu' }, providers: [{ name: 'cpu', available: true, reason: null }], view: { size: 64, maxViews: 5, maxImagePixels: 1e8 } }`;

function worker(name: string, onAsk: string): string {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.type === 'init') { parentPort.postMessage(${ready}); return; }
  if (m.type === 'ask') { parentPort.postMessage({ type: 'token', seq: m.seq, index: 0, text: 'hel' }); ${onAsk} }
  if (m.type === 'close') { parentPort.postMessage({ type: 'closed', seq: m.seq }); parentPort.close(); }
});`,
  );
  return file;
}

const base = {
  regions: [],
  text: 'hi',
  history: [],
  source: 'optical' as const,
  mode: 'chat' as const,
  maxNewTokens: 4,
  sampling: { temperature: 0, topP: 1, seed: 0 },
};
/** a fresh request each time: asks transfer (detach) the view pixels */
const request = () => ({ ...base, views: [{ rect: [0, 0, 64, 64] as [number, number, number, number], rgb: new Uint8Array(64 * 64 * 3) }] });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-host-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('InferenceHost failure paths', () => {
  it('rejects a pending ask when the worker throws', async () => {
    const host = new InferenceHost({ workerUrl: worker('throws', "setTimeout(() => { throw new Error('boom in worker'); }, 10);") });
    await host.loadPack('/nowhere');
    const tokens: string[] = [];
    const run = host.ask(request(), (e) => e.type === 'token' && tokens.push(e.text), new AbortController().signal);
    await expect(run).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('inference worker crashed: boom in worker') });
    expect(tokens).toEqual(['hel']);
    expect(host.status().state).toBe('error');
    await host.close();
  });

  it('rejects a pending ask when the worker exits', async () => {
    const host = new InferenceHost({ workerUrl: worker('exits', 'setTimeout(() => process.exit(3), 10);') });
    await host.loadPack('/nowhere');
    await expect(host.ask(request(), () => {}, new AbortController().signal)).rejects.toThrow(/inference worker exited with code 3; load the model pack again/);
    await host.close();
  });

  it('transfers the view pixels instead of copying them', async () => {
    const host = new InferenceHost({ workerUrl: worker('transfer', 'setTimeout(() => process.exit(1), 10);') });
    await host.loadPack('/nowhere');
    const rgb = new Uint8Array(64 * 64 * 3);
    await host.ask({ ...base, views: [{ rect: [0, 0, 64, 64], rgb }] }, () => {}, new AbortController().signal).catch(() => {});
    expect(rgb.byteLength).toBe(0); // detached: it now belongs to the worker
    await host.loadPack('/nowhere');
    await expect(host.ask({ ...base, views: [{ rect: [0, 0, 64, 64], rgb }] }, () => {}, new AbortController().signal)).rejects.toThrow(/already transferred/);
    await host.close();
  });

  it('gives up on a pack load that never answers and says what to try', async () => {
    const file = path.join(dir, 'stalls.mjs');
    writeFileSync(file, "import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => {});");
    const host = new InferenceHost({ workerUrl: file, loadTimeoutMs: 200 });
    await expect(host.loadPack('/nowhere')).rejects.toThrow(/took over 0 s and was stopped.*VANTAGE_EP=cpu/);
    expect(host.status()).toMatchObject({ state: 'error' });
    await host.close();
  });

  it('refuses to ask before a pack is loaded, and an already-aborted ask', async () => {
    const host = new InferenceHost({ workerUrl: worker('idle', '') });
    await expect(host.ask(request(), () => {}, new AbortController().signal)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(() => host.viewSize).toThrow(/no model pack is loaded/);
    await host.loadPack('/nowhere');
    expect(host.planViews(128, 64, [])).toEqual([[0, 0, 128, 64], [0, 0, 64, 64], [64, 0, 128, 64]]);
    const ctl = new AbortController();
    ctl.abort();
    await expect(host.ask(request(), () => {}, ctl.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    await host.close();
    expect(host.status().state).toBe('none');
  });
});
