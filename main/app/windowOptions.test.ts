import { describe, expect, it } from 'vitest';
import { isAllowedUrl, mainWindowOptions } from './windowOptions.js';

describe('mainWindowOptions', () => {
  it('isolates and sandboxes the renderer with no Node', () => {
    const w = mainWindowOptions('/app/preload.cjs').webPreferences!;
    expect(w).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(w.preload).toBe('/app/preload.cjs');
  });

  it('allows only app-scheme content', () => {
    expect(isAllowedUrl('vantage://app/index.html')).toBe(true);
    expect(isAllowedUrl('vantage://resource/imagery.tile?imageId=a&z=1&x=0&y=0')).toBe(true);
    expect(isAllowedUrl('https://tile.openstreetmap.org/1/0/0.png')).toBe(false);
    expect(isAllowedUrl('file:///etc/passwd')).toBe(false);
    expect(isAllowedUrl('not a url')).toBe(false);
  });
});
