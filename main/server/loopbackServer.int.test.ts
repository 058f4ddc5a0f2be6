import { mkdtempSync, rmSync } from 'node:fs';
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
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('loopback server', () => {
  it('listens on 127.0.0.1 only and prints a launch URL with a long random token', () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
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
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.origin}/rpc/sessions.list`, {
        method: 'POST',
        headers: { host: 'attacker.example', authorization: `Bearer ${server.token}` },
      }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
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

  it('trades the launch token for an HttpOnly SameSite=Strict cookie', async () => {
    const res = await fetch(server.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const viaCookie = await fetch(`${server.origin}/rpc/app.status`, { method: 'POST', headers: { cookie: cookie.split(';')[0]! }, body: '{}' });
    expect(viaCookie.status).toBe(200);
    const badLaunch = await fetch(`${server.origin}/?token=guess`, { redirect: 'manual' });
    expect(badLaunch.status).toBe(401);
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
    await expect(open({ authorization: `Bearer ${server.token}`, origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const ws = await open({ authorization: `Bearer ${server.token}`, origin: server.origin });
    const reply = await new Promise<{ id: number; op: string; error?: { code: string } }>((resolve) => {
      ws.once('message', (m) => resolve(JSON.parse(m.toString())));
      ws.send(JSON.stringify({ op: 'subscribe', id: 1, name: 'chat.ask', input: { sessionId: 'x', regions: 'nope' } }));
    });
    expect(reply).toMatchObject({ id: 1, op: 'error', error: { code: 'BAD_INPUT' } });
    ws.close();
  });
});
