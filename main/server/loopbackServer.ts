import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { LOOPBACK, type WsClientMessage, type WsServerMessage } from '../contract/bridge.js';
import { VantageError } from '../contract/errors.js';
import { contentSecurityPolicy } from '../security/csp.js';
import { type Dispatcher, httpStatusOf, toErrorPayload } from './dispatcher.js';
import { rendererFileFor } from './rendererFile.js';
import { receiveUpload, type UploadTarget } from './uploadRoute.js';

export interface LoopbackOptions {
  dispatcher: Dispatcher;
  /** built renderer (index.html + assets); null serves the API only */
  staticDir: string | null;
  port?: number;
  log?: (msg: string) => void;
  /** enables POST /upload (dropped files in browser mode) into this folder */
  uploads?: UploadTarget;
}

export interface LoopbackServer {
  /** the launch URL, `<origin>/?token=<launchToken>`: opens one browser session, once */
  url: string;
  origin: string;
  port: number;
  launchToken: string;
  /** `Authorization: Bearer <apiToken>` for in-process clients (tests); never printed, never on a command line */
  apiToken: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_MESSAGE = LOOPBACK.maxMessageBytes;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const secret = () => randomBytes(32).toString('base64url');
const secretEquals = (candidate: string | null | undefined, expected: string | null) => {
  if (!candidate || !expected) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Transport B: the services behind HTTP + WebSocket on 127.0.0.1 only. Every request needs a Host of this server
 * (DNS rebinding), this server's origin when an Origin is sent (other web pages), and a secret:
 * - the launch token, in the URL `vantage serve` prints (and start.mjs passes to Chromium as `--app=URL`, so any
 *   local user can read it in /proc/PID/cmdline), is single-use: the first `GET /?token=` trades it for a fresh
 *   session secret in an HttpOnly SameSite=Strict cookie (never the launch token itself); after that the launch token
 *   opens nothing and a second `/?token=` is refused with a message saying so. Reloads keep working (cookie).
 * - the API token, for in-process non-browser clients (tests), as `Authorization: Bearer`: it exists only in the
 *   returned object; it is never printed nor put on a command line.
 * No input ends the process: every request and socket is a boundary (malformed targets and percent-encoding,
 * socket errors, WebSocket protocol errors and over-size messages, throwing handlers) that fails alone.
 */
export async function startLoopbackServer(opts: LoopbackOptions): Promise<LoopbackServer> {
  const launchToken = secret();
  const apiToken = secret();
  /** minted at the one launch-token exchange; null until then */
  let sessionSecret: string | null = null;
  const log = opts.log ?? (() => {});
  let port = 0;
  const allowedHosts = () => new Set([`${HOST}:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://${HOST}:${port}`, `http://localhost:${port}`]);
  const cookieName = () => `${LOOPBACK.sessionCookie}_${port}`;

  const hasSessionCookie = (req: IncomingMessage) =>
    (req.headers.cookie ?? '').split(';').some((part) => {
      const eq = part.indexOf('=');
      return eq > 0 && part.slice(0, eq).trim() === cookieName() && secretEquals(part.slice(eq + 1).trim(), sessionSecret);
    });
  const authenticated = (req: IncomingMessage) => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return secretEquals(auth.slice(7), apiToken);
    return hasSessionCookie(req);
  };
  /** null when allowed, else the reason */
  const refusal = (req: IncomingMessage, needToken: boolean): string | null => {
    if (!allowedHosts().has(req.headers.host ?? '')) return 'unexpected Host header';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return `foreign origin ${origin}`;
    if (needToken && !authenticated(req)) return 'missing or wrong token: open the URL printed by `vantage serve`';
    return null;
  };
  /** `req.url` as a URL of this server; null unless it is a path (origin-form) that parses */
  const targetOf = (req: IncomingMessage): URL | null => {
    const target = req.url ?? '';
    if (!target.startsWith('/')) return null;
    try {
      return new URL(`http://${HOST}:${port}${target}`);
    } catch {
      return null;
    }
  };

  const securityHeaders = (res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy([`ws://${HOST}:${port}`, `ws://localhost:${port}`]));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
  };
  /** Never throws: a reply that cannot be sent any more (headers gone, socket gone) ends the connection instead. */
  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded) return;
    try {
      const text = JSON.stringify(body);
      if (res.headersSent) throw new Error('reply already started');
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(text);
    } catch (err) {
      log(`reply failed: ${err instanceof Error ? err.message : String(err)}`);
      res.destroy();
    }
  };
  const sendError = (res: ServerResponse, err: unknown) => {
    const payload = toErrorPayload(err);
    if (payload.code === 'INTERNAL') log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
    sendJson(res, httpStatusOf(payload.code), { ok: false, error: payload });
  };
  const badTarget = (res: ServerResponse) => {
    res.setHeader('Connection', 'close');
    sendJson(res, 400, { ok: false, error: { code: 'BAD_INPUT', message: 'malformed request target' } });
  };
  const refuse = (res: ServerResponse, reason: string) => {
    sendJson(res, /token/.test(reason) ? 401 : 403, { ok: false, error: { code: 'UNAUTHORIZED', message: reason } });
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const collect = (c: Buffer) => {
        size += c.length;
        if (size <= MAX_MESSAGE) return void chunks.push(c);
        // answered at once; the rest is discarded, and the connection closes after the reply (Connection: close)
        req.off('data', collect);
        req.resume();
        reject(new VantageError('BAD_INPUT', `request body over ${MAX_MESSAGE} bytes`));
      };
      req.on('data', collect);
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve({});
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new VantageError('BAD_INPUT', 'request body is not valid JSON'));
        }
      });
      req.on('error', () => reject(new VantageError('BAD_INPUT', 'the request body was cut off')));
    });

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (!opts.staticDir) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'no renderer bundled' } });
    const file = rendererFileFor(opts.staticDir, pathname);
    if (!file || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `not found: ${pathname.slice(0, 200)}` } });
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': path.basename(file) === 'index.html' ? 'no-store' : 'private, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') return res.end();
    pipeline(createReadStream(file), res, (err) => {
      if (err) res.destroy(); // gone between stat and read, or the client left: this response only
    });
  };

  /** The launch URL: trade the single-use token for a session cookie, then drop it from the address bar. */
  const exchangeLaunchToken = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const hostRefusal = refusal(req, false);
    if (hostRefusal) return refuse(res, hostRefusal);
    const redirect = (headers: Record<string, string> = {}) => {
      res.writeHead(302, { ...headers, Location: '/', 'Cache-Control': 'no-store' });
      res.end();
    };
    if (hasSessionCookie(req)) return redirect(); // this browser already holds the session (e.g. the launch URL reopened)
    if (sessionSecret !== null) {
      return refuse(res, 'this launch token was already used: restart `vantage serve` (or reopen Vantage) for a new link');
    }
    if (!secretEquals(url.searchParams.get('token'), launchToken)) return refuse(res, 'wrong token: open the URL printed by `vantage serve`');
    sessionSecret = secret();
    redirect({ 'Set-Cookie': `${cookieName()}=${sessionSecret}; HttpOnly; SameSite=Strict; Path=/` });
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    securityHeaders(res);
    const url = targetOf(req);
    if (!url) return badTarget(res);
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token')) return exchangeLaunchToken(req, res, url);
    const why = refusal(req, true);
    if (why) return refuse(res, why);

    // browser-mode drag-and-drop: the bytes of a dropped image, streamed into the imports folder (token checked above)
    if (url.pathname === LOOPBACK.uploadPath && opts.uploads) {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: 'uploads are POST' } });
      receiveUpload(req, opts.uploads, url.searchParams.get('name'))
        .then((result) => sendJson(res, 200, { ok: true, result }))
        .catch((err: unknown) => {
          res.setHeader('Connection', 'close'); // a refused body is not read to its end
          sendError(res, err);
        });
      return;
    }
    if (url.pathname.startsWith(LOOPBACK.rpcPrefix)) {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: 'calls are POST' } });
      const name = url.pathname.slice(LOOPBACK.rpcPrefix.length);
      readBody(req)
        .then((payload) => opts.dispatcher.call(name, payload))
        .then((result) => sendJson(res, 200, { ok: true, result }))
        .catch((err: unknown) => {
          if (!req.complete) res.setHeader('Connection', 'close'); // an over-size body is not read to its end
          sendError(res, err);
        });
      return;
    }
    if (url.pathname.startsWith(LOOPBACK.resourcePrefix)) {
      if (req.method !== 'GET') return sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: 'resources are GET' } });
      const name = url.pathname.slice(LOOPBACK.resourcePrefix.length);
      opts.dispatcher
        .resource(name, Object.fromEntries(url.searchParams))
        .then(({ body, contentType }) => {
          if (res.writableEnded || res.headersSent) return;
          res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'private, max-age=3600', 'Content-Length': body.byteLength });
          res.end(body);
        })
        .catch((err: unknown) => sendError(res, err));
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(req, res, url.pathname);
    sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: `${String(req.method).slice(0, 32)} not allowed` } });
  };

  const server = createServer((req, res) => {
    // errors on a request or its reply (a client that left) concern that exchange only
    req.on('error', () => res.destroy());
    res.on('error', () => res.destroy());
    try {
      handleRequest(req, res);
    } catch (err) {
      sendError(res, err);
    }
  });
  // unparseable requests (bad method, bad Content-Length, huge or truncated headers …): answer and close that socket
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const replying = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || replying) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  wss.on('error', (err) => log(`websocket server error: ${err.message}`));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node has detached its own handlers: until ws takes the socket, its errors are ours to absorb
    socket.on('error', () => socket.destroy());
    try {
      const url = targetOf(req);
      const why = !url ? 'malformed request target' : url.pathname === LOOPBACK.wsPath ? refusal(req, true) : 'no such endpoint';
      if (why) {
        const status = why.startsWith('malformed') ? '400 Bad Request' : /token/.test(why) ? '401 Unauthorized' : '403 Forbidden';
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`, () =>
          socket.destroy(),
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => handleSocket(ws));
    } catch (err) {
      log(`upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
      socket.destroy();
    }
  });

  const handleSocket = (ws: WebSocket) => {
    const active = new Map<number, AbortController>();
    const send = (m: WsServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      try {
        ws.send(JSON.stringify(m));
      } catch (err) {
        log(`websocket reply failed: ${err instanceof Error ? err.message : String(err)}`);
        ws.close(1011, 'reply could not be sent');
      }
    };
    // protocol errors (reserved opcodes, RSV bits, bad UTF-8, bad close codes, over-size messages): ws has already
    // closed this socket with the matching code; nothing else is affected
    ws.on('error', (err) => log(`websocket closed: ${err.message}`));
    ws.on('message', (raw, isBinary) => {
      try {
        onMessage(raw, isBinary);
      } catch (err) {
        log(`websocket message failed: ${err instanceof Error ? err.stack : String(err)}`);
        send({ id: -1, op: 'error', error: toErrorPayload(err) });
      }
    });
    const onMessage = (raw: RawData, isBinary: boolean) => {
      if (isBinary) return send({ id: -1, op: 'error', error: { code: 'BAD_INPUT', message: 'messages are JSON text' } });
      let msg: WsClientMessage;
      try {
        msg = JSON.parse(raw.toString()) as WsClientMessage;
      } catch {
        return send({ id: -1, op: 'error', error: { code: 'BAD_INPUT', message: 'message is not valid JSON' } });
      }
      if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') {
        return send({ id: -1, op: 'error', error: { code: 'BAD_INPUT', message: 'message needs a numeric id' } });
      }
      if (msg.op === 'unsubscribe') {
        active.get(msg.id)?.abort();
        active.delete(msg.id);
        return;
      }
      if (msg.op !== 'subscribe' || typeof msg.name !== 'string') {
        return send({ id: msg.id, op: 'error', error: { code: 'BAD_INPUT', message: 'op must be subscribe or unsubscribe' } });
      }
      if (active.has(msg.id)) return send({ id: msg.id, op: 'error', error: { code: 'CONFLICT', message: `subscription ${msg.id} already active` } });
      const controller = new AbortController();
      active.set(msg.id, controller);
      const id = msg.id;
      opts.dispatcher
        .subscribe(msg.name, msg.input, (data) => send({ id, op: 'event', data }), controller.signal)
        .then(() => send({ id, op: 'complete' }))
        .catch((err: unknown) => {
          const payload = toErrorPayload(err);
          if (payload.code === 'INTERNAL') log(`stream error: ${err instanceof Error ? err.stack : String(err)}`);
          send({ id, op: 'error', error: payload });
        })
        .finally(() => active.delete(id));
    };
    ws.on('close', () => {
      for (const c of active.values()) c.abort();
      active.clear();
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => resolve());
  });
  server.on('error', (err) => log(`server error: ${err.message}`)); // e.g. EMFILE on accept: the server keeps listening
  port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  return {
    url: `${origin}/?token=${launchToken}`,
    origin,
    port,
    launchToken,
    apiToken,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
