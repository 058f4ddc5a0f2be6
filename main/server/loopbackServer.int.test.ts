import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServices, type Services } from '../boot.js';
import { startLoopbackServer, type LoopbackServer } from './loopbackServer.js';

let dir: string;
let services: Services;
let server: LoopbackServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-srv-'));
  services = createServices({ dataDir: dir, mode: 'browser', log: () => {} });
  server = await startLoopbackServer({ dispatcher: services.dispatcher, staticDir: null });
});
afterAll(async () => {
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

const rpc = (name: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.origin}/rpc/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiToken}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('loopback server', () => {
  it('listens on 127.0.0.1 only and prints a launch URL with a long random token, apart from the API token', () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.launchToken.length).toBeGreaterThanOrEqual(40);
    expect(server.apiToken.length).toBeGreaterThanOrEqual(40);
    expect(server.apiToken).not.toBe(server.launchToken);
    expect(server.url).toBe(`${server.origin}/?token=${server.launchToken}`);
  });

  it('serves a call with the token and refuses one without it, with a wrong one or from a foreign origin', async () => {
    const ok = await rpc('sessions.list', {});
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, result: [] });

    const none = await fetch(`${server.origin}/rpc/sessions.list`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await rpc('sessions.list', {}, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    const foreign = await rpc('sessions.create', { name: 'x' }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await rpc('sessions.list', {}).then((r) => r.json())) as { result: unknown }).result).toEqual([]); // nothing was created
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await raw(server, 'POST', '/rpc/sessions.list', { host: 'attacker.example', authorization: `Bearer ${server.apiToken}` }, '{}');
    expect(r.status).toBe(403);
  });

  it('answers a malformed payload with a typed BAD_INPUT error and never reaches the service', async () => {
    const bad = await rpc('sessions.create', { name: 42, extra: true });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { ok: boolean; error: { code: string; issues: { path: string }[] } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('BAD_INPUT');
    expect(body.error.issues.map((i) => i.path)).toContain('name');
    const notJson = await rpc('sessions.create', '{"name": ');
    expect(notJson.status).toBe(400);
    const unknown = await rpc('sessions.drop', {});
    expect(unknown.status).toBe(404);
    expect(services.repo.listSessions()).toEqual([]);
  });


  it('sets a strict CSP on every response', async () => {
    const res = await rpc('app.status', {});
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
  });

  it('streams over WebSocket only with the token and from the app origin', async () => {
    const open = (headers: Record<string, string>) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
    await expect(open({})).rejects.toThrow(/401/);
    await expect(open({ authorization: `Bearer ${server.apiToken}`, origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const ws = await open({ authorization: `Bearer ${server.apiToken}`, origin: server.origin });
    const reply = await new Promise<{ id: number; op: string; error?: { code: string } }>((resolve) => {
      ws.once('message', (m) => resolve(JSON.parse(m.toString())));
      ws.send(JSON.stringify({ op: 'subscribe', id: 1, name: 'chat.ask', input: { sessionId: 'x', regions: 'nope' } }));
    });
    expect(reply).toMatchObject({ id: 1, op: 'error', error: { code: 'BAD_INPUT' } });
    ws.close();
  });
});

describe('single-use launch token', () => {
  // its own server: the one exchange is spent here
  let own: LoopbackServer;
  beforeAll(async () => {
    own = await startLoopbackServer({ dispatcher: services.dispatcher, staticDir: null });
  });
  afterAll(() => own.close());
  const launch = (headers: Record<string, string> = {}) => raw(own, 'GET', `/?token=${own.launchToken}`, headers);
  const status = (headers: Record<string, string>) => raw(own, 'POST', '/rpc/app.status', headers, '{}').then((r) => r.status);
  const wsStatus = (headers: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${own.port}/ws`, { headers });
      ws.once('open', () => {
        ws.close();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.once('error', (e) => resolve(e.message));
    });

  it('is traded once for a fresh session cookie; afterwards it opens nothing, the cookie keeps working', async () => {
    // refusals before the exchange do not spend the token: a wrong token, a foreign Host, a foreign Origin
    expect((await raw(own, 'GET', '/?token=guess')).status).toBe(401);
    expect((await launch({ host: 'attacker.example' })).status).toBe(403);
    expect((await launch({ origin: 'http://evil.example' })).status).toBe(403);
    // the launch token is not a Bearer token nor a cookie value
    expect(await status({ authorization: `Bearer ${own.launchToken}` })).toBe(401);
    expect(await status({ cookie: `vantage_session_${own.port}=${own.launchToken}` })).toBe(401);

    const first = await launch();
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    const cookie = setCookie.split(';')[0]!;
    const [name, value] = cookie.split('=') as [string, string];
    expect(name).toBe(`vantage_session_${own.port}`);
    expect(value.length).toBeGreaterThanOrEqual(40);
    expect(value).not.toBe(own.launchToken);
    expect(value).not.toBe(own.apiToken);

    // the cookie authenticates calls and the WebSocket (a page reload sends it again)
    expect(await status({ cookie })).toBe(200);
    expect(await status({ cookie: `other=1; ${cookie}; theme=dark` })).toBe(200);
    expect(await wsStatus({ cookie, origin: own.origin })).toBe('open');

    // the launch link again, without the cookie (another user who read Chromium's command line): refused, no cookie
    const second = await launch();
    expect(second.status).toBe(401);
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(JSON.parse(second.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/already used.*restart `vantage serve`/) } });
    expect(await status({ authorization: `Bearer ${own.launchToken}` })).toBe(401);
    expect(await wsStatus({ authorization: `Bearer ${own.launchToken}`, origin: own.origin })).toBe('HTTP 401');
    // the same browser reopening the launch link just lands on the app
    const reopened = await launch({ cookie });
    expect(reopened.status).toBe(302);
    expect(reopened.headers['set-cookie']).toBeUndefined();

    // Host and Origin checks still apply to the cookie; a session cookie of another server is worthless here
    expect(await status({ cookie, host: 'attacker.example' })).toBe(403);
    expect(await status({ cookie, origin: 'http://evil.example' })).toBe(403);
    expect(await wsStatus({ cookie, origin: 'http://evil.example' })).toBe('HTTP 403');
    const otherServer = await raw(server, 'GET', `/?token=${server.launchToken}`);
    const otherCookie = (otherServer.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    expect(otherCookie).toMatch(/^vantage_session_\d+=/);
    expect(await status({ cookie: otherCookie.replace(/^vantage_session_\d+/, `vantage_session_${own.port}`) })).toBe(401);
  });
});

/** One request over node:http (fetch may not set Host), with the reply's status, headers and body. */
function raw(srv: LoopbackServer, method: string, target: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
