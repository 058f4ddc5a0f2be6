import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccess } from './fileAccess.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vantage-files-'));
  mkdirSync(path.join(root, 'scenes'));
  writeFileSync(path.join(root, 'scenes', 'a.tif'), 'x');
  writeFileSync(path.join(root, 'scenes', 'notes.txt'), 'x');
  writeFileSync(path.join(root, 'scenes', '.hidden.tif'), 'x');
  writeFileSync(path.join(root, 'scenes', 'harbour.MBTiles'), 'x');
  writeFileSync(path.join(root, 'scenes', 'survey.GeoJSON'), 'x');
  writeFileSync(path.join(root, 'scenes', 'sites.json'), 'x');
  writeFileSync(path.join(root, 'pack.zip'), 'x');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('FileAccess', () => {
  it('lists a typed folder with opaque references and names only, filtered by purpose', async () => {
    const fa = new FileAccess([{ name: 'Test', path: root }]);
    const listing = await fa.browse({ typedPath: path.join(root, 'scenes'), purpose: 'image' });
    expect(listing.entries.map((e) => e.name)).toEqual(['a.tif']);
    expect(JSON.stringify(listing)).not.toContain(root); // no absolute path reaches the page
    expect(listing.crumbs.at(-1)!.name).toBe('scenes');
    const ref = listing.entries[0]!.ref;
    expect(ref).toMatch(/^f_/);
    expect(fa.resolve(ref, 'file')).toBe(path.join(root, 'scenes', 'a.tif'));
    expect(() => fa.resolve(ref, 'dir')).toThrow(/expected a folder/);
  });

  it('lists .mbtiles files (any case) only when a basemap is being chosen', async () => {
    const fa = new FileAccess([{ name: 'Test', path: root }]);
    const listing = await fa.browse({ typedPath: path.join(root, 'scenes'), purpose: 'basemap' });
    expect(listing.entries.map((e) => [e.name, e.kind])).toEqual([['harbour.MBTiles', 'file']]);
    expect(fa.resolve(listing.entries[0]!.ref, 'file')).toBe(path.join(root, 'scenes', 'harbour.MBTiles'));
  });

  it('lists .geojson/.json files only when batch prompts are being chosen', async () => {
    const fa = new FileAccess([{ name: 'Test', path: root }]);
    const listing = await fa.browse({ typedPath: path.join(root, 'scenes'), purpose: 'prompts' });
    expect(listing.entries.map((e) => e.name)).toEqual(['sites.json', 'survey.GeoJSON']);
    const images = await fa.browse({ typedPath: path.join(root, 'scenes'), purpose: 'image' });
    expect(images.entries.map((e) => e.name)).toEqual(['a.tif']);
  });

  it('navigates by folder reference and offers packs as folders or zips', async () => {
    const fa = new FileAccess([{ name: 'Test', path: root }]);
    const home = await fa.browse({ purpose: 'pack' });
    expect(home.entries.map((e) => [e.name, e.kind])).toEqual([['scenes', 'dir'], ['pack.zip', 'file']]);
    const inner = await fa.browse({ folder: home.entries[0]!.ref, purpose: 'folder' });
    expect(inner.entries).toEqual([]);
  });

  it('refuses references it never issued and relative typed paths, with specific messages', async () => {
    const fa = new FileAccess([{ name: 'Test', path: root }]);
    expect(() => fa.resolve('f_notissuedbyme00')).toThrow(/unknown file reference/);
    await expect(fa.browse({ typedPath: 'scenes', purpose: 'image' })).rejects.toThrow(/full folder path/);
    await expect(fa.browse({ typedPath: path.join(root, 'nope'), purpose: 'image' })).rejects.toThrow(/folder not found: nope/);
  });
});
