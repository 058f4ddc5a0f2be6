// The only module that drives Electron's lifecycle; services come from the same boot step as the loopback server.
import { app, BrowserWindow, dialog, net, protocol, session } from 'electron';
import { statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { appRoot, rendererDir } from '../appPaths.js';
import { createServices, type Services } from '../boot.js';
import { contentSecurityPolicy } from '../security/csp.js';
import { toErrorPayload } from '../server/dispatcher.js';
import { rendererFileFor } from '../server/rendererFile.js';
import { registerIpc } from './ipcRegistrar.js';
import { APP_ORIGIN, APP_SCHEME, isAllowedUrl, mainWindowOptions } from './windowOptions.js';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let services: Services | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.whenReady().then(start).catch((err: unknown) => {
    dialog.showErrorBox('Vantage could not start', String(err instanceof Error ? err.message : err));
    app.exit(1);
  });
}

async function start(): Promise<void> {
  services = createServices({
    dataDir: process.env.VANTAGE_DATA_DIR ?? app.getPath('userData'),
    mode: 'electron',
    singleInstance: true,
    dialogs: {
      async pick(purpose) {
        const r = await dialog.showOpenDialog({
          properties: purpose === 'folder' || purpose === 'pack' ? ['openDirectory'] : ['openFile'],
          filters:
            purpose === 'image'
              ? [{ name: 'Imagery', extensions: ['tif', 'tiff', 'jpg', 'jpeg', 'png'] }]
              : purpose === 'case'
                ? [{ name: 'Vantage case', extensions: ['vantage'] }]
                : purpose === 'basemap'
                  ? [{ name: 'MBTiles basemap', extensions: ['mbtiles'] }]
                  : purpose === 'prompts'
                    ? [{ name: 'GeoJSON prompts', extensions: ['geojson', 'json'] }]
                    : [],
        });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
    },
  });
  services.models.warmUp();
  const dispatcher = services.dispatcher;
  const root = path.resolve(rendererDir());

  // Every request is answered, never thrown: malformed percent-encoding or a path outside the renderer is a 404.
  protocol.handle(APP_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      if (url.host === 'resource') {
        const { body, contentType } = await dispatcher.resource(url.pathname.slice(1), Object.fromEntries(url.searchParams));
        return new Response(body, { headers: { 'content-type': contentType } });
      }
      const file = url.host === 'app' ? rendererFileFor(root, url.pathname) : null;
      if (!file || !statSync(file, { throwIfNoEntry: false })?.isFile()) return new Response('not found', { status: 404 });
      return await fetchFile(file);
    } catch (err) {
      const e = toErrorPayload(err);
      return new Response(JSON.stringify(e), { status: e.code === 'NOT_FOUND' ? 404 : e.code === 'INTERNAL' ? 500 : 400 });
    }
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedUrl(details.url) }));
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [contentSecurityPolicy().replace("img-src 'self'", `img-src 'self' ${APP_SCHEME}:`)],
      },
    });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  const unregister = registerIpc(dispatcher);
  const win = new BrowserWindow(mainWindowOptions(path.join(appRoot(), 'dist', 'main', 'preload.cjs')));
  win.once('ready-to-show', () => win.show());
  await win.loadURL(`${APP_ORIGIN}/index.html`);

  app.on('window-all-closed', async () => {
    unregister();
    await services?.close();
    app.quit();
  });
}

function fetchFile(file: string): Promise<Response> {
  return net.fetch(pathToFileURL(file).href);
}
