import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import { startLoopbackServer, type LoopbackServer } from './loopbackServer.js';
import { uploadName } from './uploadRoute.js';

const MAX = 64 * 1024;
let dir: string;
let imports: string;
let services: Services;
let server: LoopbackServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vantage-upload-'));
  imports = path.join(dir, 'imports');
  services = createServices({ dataDir: dir, mode: 'browser', log: () => {} });
  const uploads = { dir: imports, maxBytes: MAX, refFor: (p: string) => services.files.refFor(p, 'file') };
  server = await startLoopbackServer({ dispatcher: services.dispatcher, staticDir: null, uploads });
});
afterAll(async () => {
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${server.apiToken}` });
const upload = (name: string, body: RequestInit['body'], headers: Record<string, string> = auth()) =>
  fetch(`${server.origin}/upload?name=${encodeURIComponent(name)}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
const rpc = async (name: string, body: unknown) => {
  const r = await fetch(`${server.origin}/rpc/${name}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { ok: boolean; result: Record<string, unknown>; error: { code: string } } };
};
const listImports = () => {
  try {
    return readdirSync(imports);
  } catch {
    return [];
  }
};

async function smallPng(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 40, b: 10 } } }).png().toBuffer();
}

/** a body sent in chunks without Content-Length, as a browser may stream it */
function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(8192, total - sent);
      sent += n;
      c.enqueue(new Uint8Array(n));
    },
  });
}

describe('POST /upload (browser-mode drag-and-drop)', () => {
  it('needs the token: nothing is written without it', async () => {
    const r = await upload('frame.png', await smallPng(), {});
    expect(r.status).toBe(401);
    expect(listImports()).toEqual([]);
  });

  it('stores a dropped image in the imports folder and hands back a reference that opens', async () => {
    const r = await upload('drone frame.png', await smallPng());
    expect(r.status).toBe(200);
    const body = (await r.json()) as { ok: true; result: { ref: string; name: string } };
    expect(body.result.name).toBe('drone frame.png');
    expect(body.result.ref).toMatch(/^f_/);
    expect(JSON.stringify(body)).not.toContain(imports); // the page learns no path
    expect(listImports()).toEqual(['drone frame.png']);
    // the same name again gets a free name beside it, not an overwrite
    const again = (await (await upload('drone frame.png', await smallPng())).json()) as { result: { name: string } };
    expect(again.result.name).toBe('drone frame-1.png');

    const session = await rpc('sessions.create', { name: 'drop' });
    const opened = await rpc('imagery.open', { sessionId: session.body.result.id, file: body.result.ref });
    expect(opened.status).toBe(200);
    expect([opened.body.result.width, opened.body.result.height]).toEqual([40, 30]);
  });

  it('refuses bodies over the size limit, declared or streamed, and leaves no partial file', async () => {
    const before = listImports();
    const declared = await upload('big.tif', new Uint8Array(MAX + 1));
    expect(declared.status).toBe(400);
    expect(((await declared.json()) as { error: { message: string } }).error.message).toMatch(/larger than/);
    const streamed = await upload('big2.tif', chunked(MAX * 2)).catch(() => null);
    // the server may close the connection while the body is still being sent; either way nothing is kept
    if (streamed) expect(streamed.status).toBe(400);
    expect(listImports()).toEqual(before);
  });

  it('accepts image names only, and the path-based drop call is refused in browser mode', async () => {
    expect((await upload('notes.txt', 'hello')).status).toBe(400);
    expect(uploadName('../../etc/evil.tif')).toBe('evil.tif');
    expect(() => uploadName('.tif')).toThrow(/only image files/);
    const byPath = await rpc('files.fromDrop', { path: '/etc/passwd' });
    expect(byPath.status).toBe(422);
    expect(byPath.body.error.code).toBe('UNSUPPORTED');
  });
});
