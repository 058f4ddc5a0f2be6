import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { LOOPBACK, type WsClientMessage, type WsServerMessage } from '../contract/bridge.js';
import { VantageError } from '../contract/errors.js';
import { contentSecurityPolicy } from '../security/csp.js';
import { type Dispatcher, httpStatusOf, toErrorPayload } from './dispatcher.js';
import { receiveUpload, type UploadTarget } from './uploadRoute.js';

export interface LoopbackOptions {
  dispatcher: Dispatcher;
  /** built renderer (index.html + assets); null serves the API only */
  staticDir: string | null;
  port?: number;
  /** fixed token for tests; a fresh random one per launch otherwise */
  token?: string;
  log?: (msg: string) => void;
  /** enables POST /upload (dropped files in browser mode) into this folder */
  uploads?: UploadTarget;
}

export interface LoopbackServer {
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_BODY = 2 * 1024 * 1024;
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

/**
 * Transport B: the services behind HTTP + WebSocket on 127.0.0.1 only. Every request needs the per-launch token
 * (HttpOnly SameSite=Strict cookie set from the launch URL, or a Bearer header for non-browser clients), a Host of
 * this server (DNS rebinding) and, when an Origin is sent, this server's origin.
 */
export async function startLoopbackServer(opts: LoopbackOptions): Promise<LoopbackServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const log = opts.log ?? (() => {});
  let port = 0;
  const allowedHosts = () => new Set([`${HOST}:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://${HOST}:${port}`, `http://localhost:${port}`]);

  const tokenMatches = (candidate: string | undefined | null) => {
    if (!candidate) return false;
    const b = Buffer.from(candidate);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  const presentedToken = (req: IncomingMessage): string | null => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    const cookies = req.headers.cookie ?? '';
    for (const part of cookies.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === LOOPBACK.tokenCookie) return v.join('=');
    }
    return null;
  };
  /** null when allowed, else the reason */
  const refusal = (req: IncomingMessage, needToken: boolean): string | null => {
    if (!allowedHosts().has(req.headers.host ?? '')) return 'unexpected Host header';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return `foreign origin ${origin}`;
    if (needToken && !tokenMatches(presentedToken(req))) return 'missing or wrong token: open the URL printed by `vantage serve`';
    return null;
  };

  const securityHeaders = (res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy([`ws://${HOST}:${port}`, `ws://localhost:${port}`]));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
  };
  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const sendError = (res: ServerResponse, err: unknown) => {
    const payload = toErrorPayload(err);
    if (payload.code === 'INTERNAL') log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
    sendJson(res, httpStatusOf(payload.code), { ok: false, error: payload });
  };
  const refuse = (res: ServerResponse, reason: string) => {
    sendJson(res, /token/.test(reason) ? 401 : 403, { ok: false, error: { code: 'UNAUTHORIZED', message: reason } });
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(new VantageError('BAD_INPUT', `request body over ${MAX_BODY} bytes`));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve({});
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new VantageError('BAD_INPUT', 'request body is not valid JSON'));
        }
      });
      req.on('error', reject);
    });

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (!opts.staticDir) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'no renderer bundled' } });
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(opts.staticDir, rel);
    if (!file.startsWith(path.resolve(opts.staticDir) + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `not found: ${pathname}` } });
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': rel === 'index.html' ? 'no-store' : 'private, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };

  const server = createServer((req, res) => {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    // The launch URL: trade the token in the query for a cookie, then drop it from the address bar.
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token')) {
      const hostRefusal = refusal(req, false);
      if (hostRefusal) return refuse(res, hostRefusal);
      if (!tokenMatches(url.searchParams.get('token'))) return refuse(res, 'wrong token: open the URL printed by `vantage serve`');
      res.writeHead(302, {
        'Set-Cookie': `${LOOPBACK.tokenCookie}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
        'Cache-Control': 'no-store',
      });
      return res.end();
    }
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
        .catch((err: unknown) => sendError(res, err));
      return;
    }
    if (url.pathname.startsWith(LOOPBACK.resourcePrefix)) {
      if (req.method !== 'GET') return sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: 'resources are GET' } });
      const name = url.pathname.slice(LOOPBACK.resourcePrefix.length);
      opts.dispatcher
        .resource(name, Object.fromEntries(url.searchParams))
        .then(({ body, contentType }) => {
          res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'private, max-age=3600', 'Content-Length': body.byteLength });
          res.end(body);
        })
        .catch((err: unknown) => sendError(res, err));
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(req, res, url.pathname);
    sendJson(res, 405, { ok: false, error: { code: 'BAD_INPUT', message: `${req.method} not allowed` } });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const why = url.pathname === LOOPBACK.wsPath ? refusal(req, true) : 'no such endpoint';
    if (why) {
      socket.write(`HTTP/1.1 ${/token/.test(why) ? '401 Unauthorized' : '403 Forbidden'}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => handleSocket(ws));
  });

  const handleSocket = (ws: WebSocket) => {
    const active = new Map<number, AbortController>();
    const send = (m: WsServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    ws.on('message', (raw) => {
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
    });
    ws.on('close', () => {
      for (const c of active.values()) c.abort();
      active.clear();
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
