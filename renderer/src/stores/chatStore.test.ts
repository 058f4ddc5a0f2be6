/// <reference types="node" />
/* eslint-disable no-restricted-imports -- the test itself runs under Node: it stands up a real server for the browser client */
// The chat store driven through the real loopback client by a server that plays back a chat.ask stream; the turns,
// regions and masks land in the case store, the drawn regions are the map store's.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChatEvent, ImageInfo, Mask, Region, Turn } from '../../../main/contract/schemas.js';
import { createLoopbackClient, type SocketLike } from '../transport/loopbackClient.js';
import { caseStore } from './caseStore.js';
import { ask, chatStore } from './chatStore.js';
import { setClient } from './clientRef.js';
import { mapStore } from './mapStore.js';

let server: Server;
let wss: WebSocketServer;
let script: (id: number) => unknown[] = () => [];
const received: unknown[] = [];

const turn = (over: Partial<Turn>): Turn => ({
  id: 'u1', sessionId: 's1', imageId: 'img1', role: 'user', text: 'q', regionIds: [], createdAt: '2026-01-01T00:00:00Z',
  durationMs: null, pack: null, provider: null, status: 'complete', ...over,
});
const region: Region = { id: 'reg1', imageId: 'img1', geometry: { kind: 'box', x0: 1, y0: 2, x1: 30, y1: 40 }, label: '1' };
const mask: Mask = {
  id: 'm1', turnId: 'a1', imageId: 'img1', regionId: 'reg1', phrase: 'pier', score: 0.9, bbox: [0, 0, 10, 10],
  polygons: [[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]], areaPx: 100,
};
const image = { id: 'img1', name: 'a.tif', width: 100, height: 100, georeferenced: false } as ImageInfo;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, result: { state: 'ready', pack: null, stageProviders: {}, providers: [], error: null } }));
  });
  wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { op: string; id: number };
      received.push(m);
      if (m.op !== 'subscribe') return;
      for (const msg of script(m.id)) ws.send(JSON.stringify(msg));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  setClient(createLoopbackClient({ origin, openSocket: (url) => new WebSocket(url) as unknown as SocketLike }));
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received.length = 0;
  chatStore.set({ streaming: false, error: null, mode: 'ground' });
  caseStore.set({ sessionId: 's1', images: [image], activeImageId: 'img1', regions: [], masks: [], turns: [] });
  mapStore.set({ pending: [{ key: 'p1', imageId: 'img1', geometry: region.geometry }] });
});

const event = (id: number, data: ChatEvent) => ({ id, op: 'event', data });

describe('chat store', () => {
  it('sends the pending regions and mode, then turns the stream into saved, streamed and finished turns', async () => {
    script = (id) => [
      event(id, { type: 'saved', userTurn: turn({ id: 'u1', text: 'where is the pier?', regionIds: ['reg1'] }), regions: [region], assistantTurnId: 'a1' }),
      event(id, { type: 'token', index: 0, text: 'The <p>pier</p>' }),
      event(id, { type: 'token', index: 1, text: ' <SEG>' }),
      event(id, { type: 'mask', mask }),
      event(id, { type: 'done', turn: turn({ id: 'a1', role: 'assistant', text: 'The <p>pier</p> <SEG>', provider: 'cpu', durationMs: 1200 }) }),
      { id, op: 'complete' },
    ];
    expect(ask('  where is the pier?  ')).toBe(true);
    expect(caseStore.get().turns[0]).toMatchObject({ role: 'user', saved: false, regionLabels: ['<region 1>'] });
    await expect.poll(() => chatStore.get().streaming).toBe(false);

    expect(received[0]).toMatchObject({
      op: 'subscribe', name: 'chat.ask',
      input: { sessionId: 's1', imageId: 'img1', text: 'where is the pier?', mode: 'ground', regions: [region.geometry] },
    });
    const [user, assistant] = caseStore.get().turns;
    expect(user).toMatchObject({ id: 'u1', saved: true, regionLabels: ['1'] });
    expect(assistant).toMatchObject({ id: 'a1', status: 'complete', text: 'The <p>pier</p> <SEG>', provider: 'cpu', durationMs: 1200 });
    expect(mapStore.get().pending).toEqual([]);
    expect(caseStore.get().regions).toEqual([region]);
    expect(caseStore.get().masks).toEqual([mask]);
  });

  it('shows a refusal before the turn was stored as a chat error, keeping the drawn regions', async () => {
    script = (id) => [{ id, op: 'error', error: { code: 'UNSUPPORTED', message: 'the loaded pack cannot ground: load a pack with a pixel decoder' } }];
    ask('segment it');
    await expect.poll(() => chatStore.get().streaming).toBe(false);
    expect(chatStore.get().error).toBe('the question was not sent: the loaded pack cannot ground: load a pack with a pixel decoder');
    expect(mapStore.get().pending).toHaveLength(1);
  });

  it('marks the assistant turn failed when the stream breaks after the user turn was saved', async () => {
    script = (id) => [
      event(id, { type: 'saved', userTurn: turn({ id: 'u2' }), regions: [], assistantTurnId: 'a2' }),
      event(id, { type: 'token', index: 0, text: 'The' }),
      { id, op: 'error', error: { code: 'INTERNAL', message: 'inference worker exited' } },
    ];
    ask('what?');
    await expect.poll(() => chatStore.get().streaming).toBe(false);
    expect(caseStore.get().turns.at(-1)).toMatchObject({ id: 'a2', status: 'failed', text: 'The', error: 'inference worker exited' });
  });

  it('refuses to ask without an active image', () => {
    caseStore.set({ activeImageId: null });
    expect(ask('hello')).toBe(false);
    expect(chatStore.get().error).toMatch(/open an image first/);
  });
});
