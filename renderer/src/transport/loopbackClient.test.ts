/// <reference types="node" />
// Runs the browser client against a real HTTP + WebSocket server speaking the loopback wire protocol.
/* eslint-disable no-restricted-imports -- the test itself runs under Node: it stands up a real server for the browser client */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { VantageError } from '../../../main/contract/errors.js';
import { createElectronClient } from './electronClient.js';
import { createLoopbackClient, type SocketLike } from './loopbackClient.js';
import type { VantageBridge } from '../../../main/contract/bridge.js';

let server: Server;
let wss: WebSocketServer;
let origin = '';
const seen: { path: string; body: string }[] = [];
const unsubscribed: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/rpc/sessions.list') return res.end(JSON.stringify({ ok: true, result: [{ id: 's1' }] }));
      if (req.url === '/rpc/sessions.open') {
        res.statusCode = 404;
        return res.end(JSON.stringify({ ok: false, error: { code: 'NOT_FOUND', message: 'no case s9: it may have been deleted' } }));
      }
      if (req.url === '/rpc/sessions.create') {
        res.statusCode = 400;
        return res.end(JSON.stringify({ ok: false, error: { code: 'BAD_INPUT', message: 'invalid input', issues: [{ path: 'name', message: 'too short' }] } }));
      }
      res.statusCode = 502;
      res.setHeader('content-type', 'text/html');
      res.end('<html>bad gateway</html>');
    });
  });
  wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { op: string; id: number; name?: string; input?: { text?: string } };
      if (m.op === 'unsubscribe') return void unsubscribed.push(m.id);
      if (m.input?.text === 'fail') return ws.send(JSON.stringify({ id: m.id, op: 'error', error: { code: 'UNSUPPORTED', message: 'pack has no pixel decoder' } }));
      if (m.input?.text === 'drop') return ws.terminate();
      if (m.input?.text === 'hang') return;
      ws.send(JSON.stringify({ id: m.id, op: 'event', data: { type: 'token', index: 0, text: 'a' } }));
      ws.send(JSON.stringify({ id: m.id, op: 'event', data: { type: 'token', index: 1, text: 'b' } }));
      ws.send(JSON.stringify({ id: m.id, op: 'complete' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

const makeClient = () => createLoopbackClient({ origin, openSocket: (url) => new WebSocket(url) as unknown as SocketLike });
const ask = { sessionId: 's1', imageId: 'i1', regions: [] };

function collect(client: ReturnType<typeof makeClient>, text: string) {
  return new Promise<{ events: unknown[]; end: string; error?: unknown }>((resolve) => {
    const events: unknown[] = [];
    client.subscribe('chat.ask', { ...ask, text }, {
      next: (e) => events.push(e),
      error: (error) => resolve({ events, end: 'error', error }),
      complete: () => resolve({ events, end: 'complete' }),
    });
  });
}

describe('loopback client', () => {
  it('posts the input as JSON to /rpc/<name> and unwraps the ok envelope', async () => {
    const c = makeClient();
    await expect(c.call('sessions.list', {})).resolves.toEqual([{ id: 's1' }]);
    expect(seen.at(-1)).toEqual({ path: '/rpc/sessions.list', body: '{}' });
  });

  it('rejects with a typed VantageError carrying code, message and issues', async () => {
    const c = makeClient();
    const err = await c.call('sessions.open', { sessionId: 's9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VantageError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'no case s9: it may have been deleted' });
    const bad = await c.call('sessions.create', { name: 'x' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'BAD_INPUT', issues: [{ path: 'name', message: 'too short' }] });
  });

  it('turns a non-JSON failure into an INTERNAL error naming the call and status', async () => {
    const err = await makeClient().call('models.status', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: 'models.status failed: HTTP 502 with no error description' });
  });

  it('reports an unreachable server specifically', async () => {
    const c = createLoopbackClient({ origin: 'http://127.0.0.1:1' });
    await expect(c.call('sessions.list', {})).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('cannot reach the Vantage server for sessions.list') });
  });

  it('multiplexes streams over one socket: events in order, then complete', async () => {
    const c = makeClient();
    const [a, b] = await Promise.all([collect(c, 'one'), collect(c, 'two')]);
    for (const r of [a, b]) {
      expect(r.end).toBe('complete');
      expect(r.events).toEqual([{ type: 'token', index: 0, text: 'a' }, { type: 'token', index: 1, text: 'b' }]);
    }
    expect(wss.clients.size).toBe(1);
    c.close();
  });

  it('delivers a stream error as an ErrorPayload', async () => {
    const c = makeClient();
    const r = await collect(c, 'fail');
    expect(r).toMatchObject({ end: 'error', events: [], error: { code: 'UNSUPPORTED', message: 'pack has no pixel decoder' } });
    c.close();
  });

  it('sends unsubscribe and stops delivering after it', async () => {
    const c = makeClient();
    const got: unknown[] = [];
    const sub = c.subscribe('chat.ask', { ...ask, text: 'hang' }, { next: (e) => got.push(e), error: (e) => got.push(e), complete: () => got.push('complete') });
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    await expect.poll(() => unsubscribed.length).toBeGreaterThan(0);
    expect(got).toEqual([]);
    c.close();
  });

  it('fails open streams when the socket drops, and reconnects on the next subscription', async () => {
    const c = makeClient();
    const dropped = await collect(c, 'drop');
    expect(dropped).toMatchObject({ end: 'error', error: { code: 'INTERNAL', message: expect.stringContaining('lost the connection') } });
    const again = await collect(c, 'after');
    expect(again.end).toBe('complete');
    c.close();
  });

  it('builds same-origin resource URLs with a stable query', () => {
    const c = createLoopbackClient({ origin: '' });
    expect(c.resourceUrl('imagery.tile', { imageId: 'img1', z: 3, x: 4, y: 5 })).toBe('/resource/imagery.tile?imageId=img1&x=4&y=5&z=3');
  });
});

describe('electron client', () => {
  const bridge = {
    resourceScheme: 'vantage',
    calls: {
      'sessions.list': async () => ({ ok: true, result: [] }),
      'sessions.open': async () => ({ ok: false, error: { code: 'NOT_FOUND', message: 'no case s9' } }),
      'models.status': async () => undefined,
    },
    streams: {
      'chat.ask': (_input: unknown, onMessage: (m: unknown) => void) => {
        onMessage({ op: 'event', data: { type: 'token', index: 0, text: 'x' } });
        onMessage({ op: 'complete' });
        onMessage({ op: 'event', data: { type: 'token', index: 1, text: 'late' } });
        return () => {};
      },
    },
  } as unknown as VantageBridge;
  const c = createElectronClient(bridge);

  it('unwraps BridgeResult envelopes into results and typed errors', async () => {
    await expect(c.call('sessions.list', {})).resolves.toEqual([]);
    await expect(c.call('sessions.open', { sessionId: 's9' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no case s9' });
    await expect(c.call('models.status', {})).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('malformed reply') });
  });

  it('ignores stream messages after complete', () => {
    const got: unknown[] = [];
    c.subscribe('chat.ask', { ...ask, text: 'q' }, { next: (e) => got.push(e), error: (e) => got.push(e), complete: () => got.push('done') });
    expect(got).toEqual([{ type: 'token', index: 0, text: 'x' }, 'done']);
  });

  it('serves resources from the custom scheme', () => {
    expect(c.resourceUrl('imagery.tile', { imageId: 'a', z: 0, x: 0, y: 0 })).toBe('vantage://resource/imagery.tile?imageId=a&x=0&y=0&z=0');
  });
});
