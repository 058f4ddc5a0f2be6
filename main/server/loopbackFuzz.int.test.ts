import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../testing/data.js';
import { seededRandom } from '../util/seededRandom.js';

/**
 * One real `vantage serve`, attacked over raw sockets (the `ws` client refuses to send invalid frames): the issue-12
 * reproducers, then seeded malformed HTTP requests and WebSocket frames. Afterwards the same process (never
 * restarted: its one-time session cookie still works) must answer a legit client over HTTP and WebSocket.
 */

const SEED = 12;
const HTTP_CASES = 1200;
const WS_CASES = 900;
const CONCURRENCY = 24;
/** a connection the server has not closed this long after we stopped sending is a hang */
const CLOSE_WITHIN_MS = 5000;

const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
let dataDir: string;
let serve: ChildProcess;
let exited: string | null = null;
const stderr: string[] = [];
let port: number;
let launchToken: string;
let cookie: string;

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist', 'renderer', 'index.html'))) {
    throw new Error('dist/renderer missing: run `npm run build` first (the static route is under test)');
  }
  // always rebuild the backend: a stale dist/ would test old code
  await promisify(execFile)(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-fuzz-'));
  serve = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  serve.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  const url = await new Promise<URL>((resolve, reject) => {
    serve.once('exit', () => reject(new Error(`vantage serve ${exited}: ${stderr.join('')}`)));
    createInterface({ input: serve.stdout! }).once('line', (line) => resolve(new URL(line.trim())));
  });
  port = Number(url.port);
  launchToken = url.searchParams.get('token')!;
  // the browser's part: trade the launch token for the session cookie
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  expect(cookie).toMatch(/^vantage_\w+=./);
}, 60_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const gone = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await gone;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- raw connections

type Step = Buffer | { pauseMs: number } | 'await-headers';
interface Plan {
  steps: Step[];
  /** end the connection abruptly after the last step instead of half-closing it */
  abort?: boolean;
  /** keep the connection until this holds for what came back (then half-close) */
  until?: (got: Buffer) => boolean;
}
interface Outcome {
  got: Buffer;
  hung: boolean;
}

function run(plan: Plan): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const got = () => Buffer.concat(chunks);
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('error', () => {}); // resets are expected: the server may drop us mid-write
    const waiters: (() => void)[] = [];
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      for (const w of waiters.splice(0)) w();
    });
    sock.once('close', () => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w();
      resolve({ got: got(), hung });
    });
    const waitFor = (ok: () => boolean, ms: number) =>
      new Promise<void>((done) => {
        const t = setTimeout(done, ms);
        const check = () => (ok() || sock.destroyed ? (clearTimeout(t), done()) : waiters.push(check));
        check();
      });
    sock.once('connect', async () => {
      for (const step of plan.steps) {
        if (sock.destroyed) break;
        if (step === 'await-headers') await waitFor(() => got().includes('\r\n\r\n'), CLOSE_WITHIN_MS);
        else if (Buffer.isBuffer(step)) sock.write(step);
        else await new Promise((r) => setTimeout(r, step.pauseMs));
      }
      if (plan.abort) return void sock.destroy();
      if (plan.until) await waitFor(() => plan.until!(got()), CLOSE_WITHIN_MS);
      sock.end();
      timer = setTimeout(() => {
        hung = true;
        sock.destroy();
      }, CLOSE_WITHIN_MS);
    });
  });
}

async function runAll(plans: Plan[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(plans.length);
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const i = next++;
      out[i] = await run(plans[i]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

const statusOf = (got: Buffer) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(got.subarray(0, 64).toString('latin1'))?.[1] ?? 0);

// ---------------------------------------------------------------- requests and frames

const host = () => `127.0.0.1:${port}`;
const request = (target: string, opts: { method?: string; auth?: boolean; headers?: string[]; body?: Buffer | string } = {}) => {
  const body = opts.body === undefined ? null : Buffer.from(opts.body);
  const head = [
    `${opts.method ?? 'GET'} ${target} HTTP/1.1`,
    `Host: ${host()}`,
    ...(opts.auth ? [`Cookie: ${cookie}`] : []),
    ...(body ? [`Content-Length: ${body.length}`] : []),
    ...(opts.headers ?? []),
  ];
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body ?? Buffer.alloc(0)]);
};
const upgrade = (target = '/ws', auth = true, extra: string[] = []) =>
  request(target, {
    auth,
    headers: ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', ...extra],
  });

interface FrameOpts {
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  /** a declared length other than the payload's */
  declared?: bigint;
}
/** One client frame (masked, as a client must, unless masked: false). */
function frame(opcode: number, payload: Buffer | string, o: FrameOpts = {}): Buffer {
  const data = Buffer.from(payload);
  const len = o.declared ?? BigInt(data.length);
  const masked = o.masked ?? true;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, data]);
  const key = randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}
const text = (s: string | Buffer, o?: FrameOpts) => frame(0x1, s, o);
const closeFrame = (code: number, reason: Buffer | string = '') => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return frame(0x8, Buffer.concat([b, Buffer.from(reason)]));
};

/** Server frames after the 101 head (unmasked): opcode, close code, text. */
function serverFrames(got: Buffer): { opcode: number; code?: number; text: string }[] {
  const start = got.indexOf('\r\n\r\n');
  if (start < 0 || statusOf(got) !== 101) return [];
  const out: { opcode: number; code?: number; text: string }[] = [];
  let i = start + 4;
  while (i + 2 <= got.length) {
    const opcode = got[i]! & 0x0f;
    let len = got[i + 1]! & 0x7f;
    let p = i + 2;
    if (len === 126) {
      len = got.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(got.readBigUInt64BE(p));
      p += 8;
    }
    if (p + len > got.length) break;
    const payload = got.subarray(p, p + len);
    out.push(opcode === 0x8 && len >= 2 ? { opcode, code: payload.readUInt16BE(0), text: payload.subarray(2).toString() } : { opcode, text: payload.toString() });
    i = p + len;
  }
  return out;
}
const closeCodeOf = (got: Buffer) => serverFrames(got).find((f) => f.opcode === 0x8)?.code;
const sawClose = (got: Buffer) => closeCodeOf(got) !== undefined;

/** A contract-valid chat.ask of 8 polygons of 10,000 vertices (2.84 MB, the issue's reproducer). */
function bigAsk(id: number, rnd: () => number): string {
  const polygon = () => ({
    kind: 'polygon',
    points: Array.from({ length: 10_000 }, () => [Math.round(rnd() * 1e15) / 1e11, Math.round(rnd() * 1e15) / 1e11]),
  });
  const input = { sessionId: 'fuzz-session', imageId: 'fuzz-image', text: 'what is here?', regions: Array.from({ length: 8 }, polygon) };
  return JSON.stringify({ op: 'subscribe', id, name: 'chat.ask', input });
}

// ---------------------------------------------------------------- the reproducers of issue 12

interface Reproducer {
  name: string;
  plan: Plan;
  check(o: Outcome): void;
}

function reproducers(rnd: () => number): Reproducer[] {
  const status = (name: string, bytes: Buffer, want: number): Reproducer => ({ name, plan: { steps: [bytes] }, check: (o) => expect(statusOf(o.got), name).toBe(want) });
  const wsClose = (name: string, frames: Buffer[], want: number): Reproducer => ({
    name,
    plan: { steps: [upgrade(), 'await-headers', ...frames], until: sawClose },
    check: (o) => expect(closeCodeOf(o.got), name).toBe(want),
  });
  const ask = bigAsk(7, rnd);
  expect(Buffer.byteLength(ask) / 1e6).toBeCloseTo(2.84, 1);
  return [
    // item 2: before any auth check, tokenless
    status('GET //[ (no token)', request('//['), 401),
    status('GET //%zz/ (no token)', request('//%zz/'), 401),
    status('GET http://[ (no token)', request('http://['), 400),
    status('upgrade //[ (no token)', upgrade('//[', false), 403), // no such endpoint
    status('upgrade http://[ (no token)', upgrade('http://[', false), 400),
    status('upgrade //%zz/ (session cookie)', upgrade('//%zz/'), 403),
    status('GET //[ (session cookie)', request('//[', { auth: true }), 404),
    // item 4: malformed percent-encoding in the static route, with the token
    status('GET /% (session cookie)', request('/%', { auth: true }), 404),
    status('GET /assets/%E0%A4%A (session cookie)', request('/assets/%E0%A4%A', { auth: true }), 404),
    status('GET /%2e%2e/%2e%2e/etc/passwd (session cookie)', request('/%2e%2e/%2e%2e/etc/passwd', { auth: true }), 404),
    // the launch token is spent
    status('GET /?token=<launch token> again', request(`/?token=${launchToken}`), 401),
    // item 3: WebSocket protocol errors
    wsClose('reserved opcode 0x3', [frame(0x3, 'x')], 1002),
    wsClose('RSV1 without an extension', [text('{}', { rsv: 4 })], 1002),
    wsClose('invalid UTF-8 text', [text(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))], 1007),
    wsClose('fragmented control frame', [frame(0x9, 'ping', { fin: false })], 1002),
    wsClose('close code 999', [closeFrame(999)], 1002),
    wsClose('unmasked client frame', [text('{}', { masked: false })], 1002),
    wsClose('message over the size cap (5 MB)', [text(Buffer.alloc(5 * 1024 * 1024, 0x20))], 1009),
    {
      name: 'contract-valid chat.ask of 2.84 MB',
      plan: { steps: [upgrade(), 'await-headers', text(ask)], until: (got) => serverFrames(got).some((f) => f.opcode === 0x1) },
      check: (o) => {
        const reply = JSON.parse(serverFrames(o.got).find((f) => f.opcode === 0x1)?.text ?? 'null') as { id: number; op: string; error: { code: string } } | null;
        expect(reply, 'the big ask gets its typed answer').toMatchObject({ id: 7, op: 'error', error: { code: 'NOT_FOUND' } });
      },
    },
  ];
}

// ---------------------------------------------------------------- seeded malformed input

const TARGETS = [
  '/', '//[', '//%zz/', 'http://[', '*', '/%', '/%%', '/%zz', '/%E0%A4%A', '/%C0%AE%C0%AE/', '/..%2f..%2fetc%2fpasswd', '/%00', '/index.html%00.js',
  '//', '///', '/\\\\', 'https://127.0.0.1/', '/rpc/', '/rpc/%zz', '/rpc/sessions.list', '/rpc/__proto__', '/rpc/constructor', '/resource/%',
  '/resource/tile?%zz=1', '/resource/x?a=%', '/?token', '/?token=%zz', '/?token=', '/ws', '/ws?x=%', '/upload?name=%', '/upload?name=../../x.png',
  '/assets/', '/favicon.svg', '/index.html', `/${'a'.repeat(9000)}`, `/?${'q=1&'.repeat(3000)}`,
];
const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'FOO', 'get', 'G\x00T', 'GET GET', '\x16\x03\x01', 'PRI', ''];
const SPICE = ['\r', '\n', '\r\n', '\0', '%', ':', ' ', '\t', '\x7f', '\xff', '/', '?', '#', '..', '%zz', '\r\n\r\n', 'Transfer-Encoding: chunked\r\n'];

function httpCase(rnd: () => number): Plan {
  const pick = <T,>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  const auth = rnd() < 0.6;
  const kind = Math.floor(rnd() * 11);
  const target = pick(TARGETS);
  const method = pick(METHODS);
  switch (kind) {
    case 0: // truncated headers
    {
      const whole = request(target, { method, auth, body: '{}' });
      return { steps: [whole.subarray(0, Math.floor(rnd() * whole.length))] };
    }
    case 1: // slowloris: a half request, a pause, more of it, then gone
    {
      const whole = request(target, { auth });
      const cut = Math.floor(rnd() * whole.length);
      return { steps: [whole.subarray(0, cut), { pauseMs: 5 + Math.floor(rnd() * 30) }, whole.subarray(cut, cut + Math.floor(rnd() * 8))], abort: true };
    }
    case 2: // huge headers: one long line, or thousands of them
      return rnd() < 0.5
        ? { steps: [request(target, { auth, headers: [`X-Big: ${'a'.repeat(17_000 + Math.floor(rnd() * 50_000))}`] })] }
        : { steps: [request(target, { auth, headers: Array.from({ length: 2500 }, (_, i) => `X-${i}: ${i}`) })] };
    case 3: // bad Content-Length / Transfer-Encoding
    {
      const cl = pick(['-1', 'abc', '1e3', '99999999999999999999', '2, 3', '0x10', ' 5', '5\r\nContent-Length: 7', '10000000']);
      const te = rnd() < 0.3 ? ['Transfer-Encoding: chunked'] : [];
      const head = `POST ${pick(['/rpc/sessions.list', '/rpc/app.status', '/upload?name=a.png', target])} HTTP/1.1\r\nHost: ${host()}\r\n${auth ? `Cookie: ${cookie}\r\n` : ''}Content-Length: ${cl}\r\n${te.join('')}${te.length ? '\r\n' : ''}\r\n`;
      return { steps: [Buffer.from(head + pick(['{}', 'zz', '5\r\nhello\r\n0\r\n\r\n', 'ffffffffffff\r\n', '', '{"name":'.repeat(50)]), 'latin1')] };
    }
    case 4: // a body over the 4 MB cap, or a long body declared then cut
      return rnd() < 0.05
        ? { steps: [request('/rpc/app.status', { method: 'POST', auth: true, body: Buffer.alloc(4 * 1024 * 1024 + 10, 0x20) })] }
        : { steps: [Buffer.from(`POST /rpc/app.status HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${cookie}\r\nContent-Length: 100000\r\n\r\n{"a":`)] };
    case 5: // pipelined requests, some nonsense in between
      return { steps: [Buffer.concat([request(target, { auth }), Buffer.from(pick(SPICE), 'latin1'), request(pick(TARGETS), { method, auth }), request('/rpc/app.status', { method: 'POST', auth, body: '{}' })])] };
    case 6: // raw binary, HTTP/2 preface, HTTP/0.9
      return { steps: [pick([randomBytesSeeded(rnd, 1 + Math.floor(rnd() * 600)), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from(`GET ${target}\r\n`, 'latin1')])] };
    case 7: // upgrade requests gone wrong
    {
      const bad = pick([[], ['Sec-WebSocket-Version: 8'], ['Sec-WebSocket-Key: short'], ['Origin: http://evil.example'], ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99']]);
      let req = upgrade(rnd() < 0.7 ? '/ws' : target, auth, bad);
      if (bad.length === 0) req = Buffer.from(req.toString('latin1').replace(/Sec-WebSocket-Key: [^\r]*\r\n/, ''), 'latin1');
      return { steps: [req, randomBytesSeeded(rnd, Math.floor(rnd() * 64))] };
    }
    case 8: // a well-formed request for an odd target, odd method, odd body
      return { steps: [request(target, { method: pick(['GET', 'HEAD', 'POST', 'PUT']), auth, body: rnd() < 0.5 ? pick(['{}', '{"sessionId":"x"}', 'null', '[', '\xff']) : undefined })] };
    default: // a request, mutated
      return { steps: [mutate(request(target, { method, auth, body: rnd() < 0.5 ? '{"sessionId":"x"}' : undefined }), rnd)] };
  }
}

function wsCase(rnd: () => number): { plan: Plan; frames: number } {
  const pick = <T,>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  const kind = Math.floor(rnd() * 12);
  const badUtf8 = pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]]);
  let frames: Buffer[];
  switch (kind) {
    case 0:
      frames = [frame(pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), randomBytesSeeded(rnd, Math.floor(rnd() * 40)))];
      break;
    case 1:
      frames = [frame(pick([1, 2, 9, 8]), '{"op":"subscribe"}', { rsv: 1 + Math.floor(rnd() * 7) })];
      break;
    case 2:
      frames = [text(Buffer.concat([Buffer.from('{"op":"'), Buffer.from(badUtf8), Buffer.from('"}')]))];
      break;
    case 3:
      frames = [frame(pick([8, 9, 10]), 'x', { fin: false }), frame(pick([9, 10]), Buffer.alloc(126 + Math.floor(rnd() * 200), 1))].slice(Math.floor(rnd() * 2), 2);
      break;
    case 4:
    {
      const code = pick([0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]);
      frames = [rnd() < 0.2 ? frame(8, Buffer.from([3])) : closeFrame(code, rnd() < 0.3 ? Buffer.from(badUtf8) : 'bye')];
      break;
    }
    case 5: // continuation without a start, or a new message inside a fragmented one
      frames = rnd() < 0.5 ? [frame(0, '{}')] : [text('{"op":', { fin: false }), text('"subscribe"}')];
      break;
    case 6: // absurd declared lengths
      frames = [text('', { declared: pick([2n ** 63n + 5n, 2n ** 53n, 5n * 1024n * 1024n, 70000n, 200n]) }).subarray(0, 14)];
      break;
    case 7: // junk bytes after the upgrade
      frames = [randomBytesSeeded(rnd, 1 + Math.floor(rnd() * 300))];
      break;
    case 8: // valid frames carrying nonsense messages, then a normal close
    {
      const junk = [
        'not json', '', 'null', '[]', '1', '{"id":"x"}', '{"op":"subscribe","id":1}', '{"op":"subscribe","id":1e308,"name":"chat.ask","input":null}',
        '{"op":"subscribe","id":2,"name":"__proto__","input":{}}', '{"op":"subscribe","id":3,"name":"constructor"}', '{"op":"unsubscribe","id":-1}',
        '{"op":"subscribe","id":4,"name":"chat.ask","input":{"sessionId":"../../x","imageId":"y","text":"","regions":[]}}',
        '{"op":"subscribe","id":5,"name":"chat.batchMasks","input":{"sessionId":"a","imageId":"b","prompts":[]}}', `${'['.repeat(5000)}${']'.repeat(5000)}`,
        '{"op":"subscribe","id":6,"name":"chat.ask","input":{"regions":[{"kind":"polygon","points":[[1e999,0]]}]}}', '{"__proto__":{"id":1},"op":"subscribe"}',
      ];
      frames = [
        ...Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => (rnd() < 0.15 ? frame(2, randomBytesSeeded(rnd, 20)) : text(pick(junk)))),
        frame(9, 'ping'),
        closeFrame(1000),
      ];
      break;
    }
    case 9: // a truncated frame, then the client leaves
      frames = [text(JSON.stringify({ op: 'subscribe', id: 9, name: 'chat.ask', input: {} })).subarray(0, 2 + Math.floor(rnd() * 10))];
      break;
    case 10: // a random frame header with a random payload
      frames = [Buffer.concat([Buffer.from([Math.floor(rnd() * 256), Math.floor(rnd() * 126) | (rnd() < 0.8 ? 0x80 : 0)]), randomBytesSeeded(rnd, 4 + Math.floor(rnd() * 130))])];
      break;
    default: // a valid frame, mutated
      frames = [mutate(text('{"op":"subscribe","id":11,"name":"chat.ask","input":{"sessionId":"s","imageId":"i","text":"","regions":[]}}'), rnd)];
  }
  // half the time the frames ride in the upgrade request itself (ws reads them from `head`)
  const steps: Step[] = rnd() < 0.5 ? [Buffer.concat([upgrade(), ...frames])] : [upgrade(), 'await-headers', ...frames];
  return { plan: { steps }, frames: frames.length };
}

function randomBytesSeeded(rnd: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
}

function mutate(bytes: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(bytes);
  for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
    const at = Math.floor(rnd() * b.length);
    switch (Math.floor(rnd() * 5)) {
      case 0:
        b[at] = Math.floor(rnd() * 256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(SPICE[Math.floor(rnd() * SPICE.length)]!, 'latin1'), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 20))]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 40), b.subarray(at)]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

// ---------------------------------------------------------------- the test

it('one vantage serve survives the reproducers and 2,000+ malformed requests and frames, then answers a legit client', async () => {
  const started = Date.now();
  const rnd = seededRandom(SEED);

  const repro = reproducers(rnd);
  const reproOut = await runAll(repro.map((r) => r.plan));
  expect(exited, 'the server died on a reproducer').toBeNull();
  repro.forEach((r, i) => r.check(reproOut[i]!));

  const http = Array.from({ length: HTTP_CASES }, () => httpCase(rnd));
  const ws = Array.from({ length: WS_CASES }, () => wsCase(rnd));
  const frames = ws.reduce((n, c) => n + c.frames, 0);
  expect(http.length + frames).toBeGreaterThanOrEqual(2000);
  const out = await runAll([...http, ...ws.map((c) => c.plan)]);

  // nothing hung: the server closed every connection soon after the client stopped sending
  expect(out.filter((o) => o.hung).length, 'connections the server left hanging').toBe(0);
  // every WebSocket case got its upgrade (the fuzzed frames reached the frame parser) unless its bytes broke the request
  expect(out.slice(http.length).filter((o) => statusOf(o.got) === 101).length).toBeGreaterThan(WS_CASES * 0.9);

  // the same process, never restarted: it is alive and the session cookie it minted once still opens it
  expect(exited, `the server died: ${stderr.join('').slice(-2000)}`).toBeNull();
  expect(serve.exitCode).toBeNull();
  // … and no malformed input reached a handler as an internal error
  expect(stderr.join('')).not.toMatch(/Uncaught|Unhandled|ERR_UNHANDLED_REJECTION|internal error|reply failed|upgrade failed/);
  const call = (name: string, body: unknown) =>
    fetch(`http://127.0.0.1:${port}/rpc/${name}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const created = await call('sessions.create', { name: 'after the storm' });
  expect(created.status).toBe(200);
  const session = ((await created.json()) as { result: { id: string } }).result;
  const list = (await (await call('sessions.list', {})).json()) as { result: { id: string }[] };
  expect(list.result.map((s) => s.id)).toContain(session.id);

  // a WebSocket subscription runs to its terminal message (a typed NOT_FOUND: the case has no such image)
  const { default: WebSocket } = await import('ws');
  const sock = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { cookie, origin: `http://127.0.0.1:${port}` } });
  const reply = await new Promise<{ id: number; op: string; error?: { code: string; message: string } }>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('open', () => sock.send(JSON.stringify({ op: 'subscribe', id: 42, name: 'chat.ask', input: { sessionId: session.id, imageId: 'no-such-image', text: 'hello', regions: [] } })));
    sock.on('message', (m) => {
      const msg = JSON.parse(m.toString()) as { id: number; op: string };
      if (msg.id === 42 && (msg.op === 'complete' || msg.op === 'error')) resolve(msg);
    });
  });
  sock.close();
  expect(reply).toMatchObject({ id: 42, op: 'error', error: { code: 'NOT_FOUND' } });

  const seconds = (Date.now() - started) / 1000;
  console.log(`fuzz: ${repro.length} reproducers, ${http.length} HTTP requests, ${ws.length} WebSocket connections (${frames} frames) in ${seconds.toFixed(1)} s`);
  expect(seconds).toBeLessThan(30);
}, 60_000);
