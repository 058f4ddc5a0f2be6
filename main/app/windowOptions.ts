import type { BrowserWindowConstructorOptions } from 'electron';

export const APP_SCHEME = 'vantage';
/** The renderer's origin in the desktop app: vantage://app/index.html */
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/** All window security in one place (Electron security checklist): the renderer gets no Node and no Electron. */
export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#14171c',
    title: 'Vantage',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      webviewTag: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}

/** Only the app's own pages and resources may load; anything else (http, https, file, ws to elsewhere) is cancelled. */
export function isAllowedUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` || u.protocol === 'devtools:' || u.protocol === 'data:' || u.protocol === 'blob:';
  } catch {
    return false;
  }
}
