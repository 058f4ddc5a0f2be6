import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import type { BatchEvent, BatchResult } from '../contract/calls/chat.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { describeWithData } from '../testing/data.js';

/**
 * Batch prompts end to end through the contract: a GeoJSON written here (coordinates from GDAL's gdaltransform, the
 * test oracle, not from our own transform), the real GeoTIFF, SQLite, the inference worker and ORT.
 */

/** pixel → lon/lat (or the image's own CRS with `own`) by GDAL */
function gdal(file: string, pixels: [number, number][], own = false): [number, number][] {
  const out = execFileSync('gdaltransform', [...(own ? [] : ['-t_srs', 'EPSG:4326']), '-output_xy', file], {
    input: pixels.map(([x, y]) => `${x} ${y}`).join('\n') + '\n',
    encoding: 'utf8',
  });
  return out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
}

const feature = (geometry: unknown, properties: Record<string, unknown> = {}) => ({ type: 'Feature', properties, geometry });
const ring = (c: [number, number][]) => [[...c, c[0]!]];

describeWithData('batch prompts from a GeoJSON file (chat.batchMasks)', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let tmp: string;
  let services: Services;
  let sessionId: string;
  let imageId: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-batch-'));
    services = createServices({ dataDir: path.join(tmp, 'data'), mode: 'browser', packDir: testPackDir });
    sessionId = services.sessions.create('batch').id;
    imageId = (await services.sessions.openImage(sessionId, file!)).id;
  }, 60_000);

  afterAll(async () => {
    await services?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function writeJson(name: string, doc: unknown): string {
    const p = path.join(tmp, name);
    writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return services.files.refFor(p, 'file');
  }

  async function batch(input: Record<string, unknown>, onEvent?: (e: BatchEvent, abort: () => void) => void): Promise<{ result: BatchResult; progress: BatchEvent[] }> {
    const events: BatchEvent[] = [];
    const ac = new AbortController();
    await services.dispatcher.subscribe('chat.batchMasks', { sessionId, imageId, ...input }, (raw) => {
      const e = raw as BatchEvent;
      events.push(e);
      onEvent?.(e, () => ac.abort());
    }, ac.signal);
    const done = events.find((e) => e.type === 'done');
    if (done?.type !== 'done') throw new Error('no done event');
    return { result: done.result, progress: events.filter((e) => e.type === 'progress') };
  }

  it('WGS84 points and polygons → masks stored where the prompts are, outside features counted, tile features reused', async () => {
    // 791×718 px, test pack S = 64 → instant tiles of 256 px: three points in tile [256,256,512,512]
    const pts: [number, number][] = [[400, 350], [300, 300], [450, 420], [700, 100], [-300, -250]];
    const ll = gdal(file!, pts);
    const boxPx: [number, number][] = [[520, 20], [620, 20], [620, 120], [520, 120]];
    const boxLl = gdal(file!, boxPx);
    const farLl = gdal(file!, [[2000, 2000], [2100, 2000], [2100, 2100]]);
    const ref = writeJson('prompts.geojson', {
      type: 'FeatureCollection',
      features: [
        feature({ type: 'Point', coordinates: ll[0] }, { id: 'P1', note: 'pier' }),
        feature({ type: 'Point', coordinates: ll[1] }, { name: 'field' }),
        feature({ type: 'Point', coordinates: ll[2] }),
        feature({ type: 'Point', coordinates: ll[3] }, { id: 7 }),
        feature({ type: 'Polygon', coordinates: ring(boxLl) }, { id: 'B1' }),
        feature({ type: 'Point', coordinates: ll[4] }, { id: 'outside' }),
        feature({ type: 'MultiPolygon', coordinates: [ring(farLl)] }, { id: 'far away' }),
      ],
    });
    const turnsBefore = services.repo.listTurns(sessionId).length;
    const { result, progress } = await batch({ file: ref });
    expect(result.total).toBe(7);
    expect(result.skippedOutside).toBe(2);
    expect(result.items.map((i) => i.label)).toEqual(['P1', 'field', 'feature 3', '7', 'B1']);
    // the file's lon/lat land on the pixels GDAL computed them from
    for (const [i, [x, y]] of pts.slice(0, 4).entries()) {
      const g = result.items[i]!.geometry;
      expect(g.kind).toBe('point');
      if (g.kind === 'point') {
        expect(Math.abs(g.x - x)).toBeLessThan(0.05);
        expect(Math.abs(g.y - y)).toBeLessThan(0.05);
      }
    }
    const box = result.items[4]!.geometry;
    expect(box.kind).toBe('box');
    if (box.kind === 'box') expect([box.x0, box.y0, box.x1, box.y1].map((v) => Math.round(v))).toEqual([520, 20, 620, 120]);
    // each mask lies in the tile of its prompt (where the prompt is), and the prompt's tile contains the prompt
    for (const it of result.items) {
      const [tx0, ty0, tx1, ty1] = it.tile;
      const g = it.geometry;
      const [px0, py0, px1, py1] = g.kind === 'point' ? [g.x, g.y, g.x, g.y] : [g.x0, g.y0, g.x1, g.y1];
      expect(px0 >= tx0 && py0 >= ty0 && px1 <= tx1 && py1 <= ty1).toBe(true);
      if (it.bbox) {
        expect(it.bbox[0]).toBeGreaterThanOrEqual(tx0);
        expect(it.bbox[1]).toBeGreaterThanOrEqual(ty0);
        expect(it.bbox[2]).toBeLessThanOrEqual(tx1);
        expect(it.bbox[3]).toBeLessThanOrEqual(ty1);
        expect(it.areaPx).toBeGreaterThan(0);
        // the mask is at the prompt: its bbox contains the point / overlaps the box
        expect(it.bbox[0] <= px1 && it.bbox[2] >= px0 && it.bbox[1] <= py1 && it.bbox[3] >= py0).toBe(true);
      }
    }
    expect(result.masks.length).toBeGreaterThan(0);
    expect(result.items.filter((i) => i.bbox).length).toBe(result.masks.length);
    expect(result.empty).toBe(result.items.length - result.masks.length);
    // three prompts share tile [256,256,512,512]: its grounding features are computed once
    expect(result.items.slice(0, 3).every((i) => i.tile.join() === '256,256,512,512')).toBe(true);
    expect(result.stats.cachedPrompts).toBeGreaterThanOrEqual(2);
    expect(result.stats.tiles).toBe(new Set(result.items.map((i) => i.tile.join())).size);
    expect(result.stats.tilesCached + result.stats.tilesNew).toBe(result.stats.tiles);
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5 });

    // stored like any answer's masks: one question (a region per prompt) + one answer turn, phrase = feature id/name
    expect(result.saved).toBe(true);
    expect(services.repo.listTurns(sessionId).length).toBe(turnsBefore + 2);
    const stored = services.repo.listMasks(sessionId).filter((m) => m.turnId === result.assistantTurn!.id);
    expect(stored.map((m) => m.id).sort()).toEqual(result.masks.map((m) => m.id).sort());
    expect(result.userTurn!.text).toMatch(/from prompts\.geojson: 7 prompts, 2 outside the image/);
    const regions = services.repo.listRegionRecords(sessionId).filter((r) => r.turnId === result.userTurn!.id);
    expect(regions).toHaveLength(5);
    expect(regions[0]!.wgs84).toMatchObject({ kind: 'point', batch: { source: 'prompts.geojson', index: 0, label: 'P1', properties: { id: 'P1', note: 'pier' } } });
    for (const m of stored) {
      const item = result.items.find((i) => i.maskId === m.id)!;
      expect(m.phrase).toBe(item.label);
      expect(m.regionId).toBe(regions[result.items.indexOf(item)]!.id);
    }
    // …and they are the case's measured objects
    const objects = await services.handlers['reports.objects']({ sessionId });
    expect(objects.objects.filter((o) => stored.some((m) => m.id === o.maskId))).toHaveLength(stored.length);
  }, 120_000);

  it("a crs member naming the image's EPSG is read in that CRS; another EPSG is refused", async () => {
    const utm = gdal(file!, [[400, 350]], true);
    const ref = writeJson('utm.geojson', {
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32618' } },
      features: [feature({ type: 'Point', coordinates: utm[0] }, { id: 'u' })],
    });
    const { result } = await batch({ file: ref, save: false });
    const g = result.items[0]!.geometry;
    expect(g.kind === 'point' && Math.abs(g.x - 400) < 0.05 && Math.abs(g.y - 350) < 0.05).toBe(true);
    expect(result.saved).toBe(false);
    expect(result.masks).toEqual([]);
    const other = writeJson('other.geojson', { type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'EPSG:3857' } }, features: [feature({ type: 'Point', coordinates: [0, 0] })] });
    await expect(batch({ file: other })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/EPSG:3857 but .* is in EPSG:32618/) });
  }, 60_000);

  it('cancel midway stores nothing; the same batch then runs to the end', async () => {
    const prompts = Array.from({ length: 300 }, (_, i) => ({ kind: 'point' as const, x: 10 + (i % 30) * 26, y: 10 + Math.floor(i / 30) * 70 }));
    const masksBefore = services.repo.listMasks(sessionId).length;
    const turnsBefore = services.repo.listTurns(sessionId).length;
    let seen = 0;
    await expect(
      batch({ prompts }, (e, abort) => {
        if (e.type === 'progress' && e.done > 0 && e.done < e.total) {
          seen = e.done;
          abort();
        }
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('nothing was stored') });
    expect(seen).toBeGreaterThan(0);
    expect(services.repo.listMasks(sessionId).length).toBe(masksBefore);
    expect(services.repo.listTurns(sessionId).length).toBe(turnsBefore);
    const { result } = await batch({ prompts, save: false });
    expect(result.items).toHaveLength(300);
    // 300 prompts over a 4×3 grid of tiles: every tile computed once at most
    expect(result.stats.tiles).toBeLessThanOrEqual(12);
    expect(result.stats.cachedPrompts).toBeGreaterThanOrEqual(300 - 12);
  }, 120_000);

  it('refuses more than 5,000 prompts and malformed features by index, storing nothing', async () => {
    const masksBefore = services.repo.listMasks(sessionId).length;
    const many = Array.from({ length: 5001 }, () => ({ kind: 'point' as const, x: 1, y: 1 }));
    await expect(batch({ prompts: many })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('5,001 prompts: a batch takes at most 5,000') });
    const manyFile = writeJson('many.geojson', { type: 'FeatureCollection', features: Array.from({ length: 5001 }, () => feature({ type: 'Point', coordinates: [0, 0] })) });
    await expect(batch({ file: manyFile })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('at most 5,000') });

    const ok = feature({ type: 'Point', coordinates: gdal(file!, [[100, 100]])[0] });
    const line = writeJson('line.geojson', { type: 'FeatureCollection', features: [ok, ok, feature({ type: 'LineString', coordinates: [[0, 0], [1, 1]] }, { id: 'road' })] });
    await expect(batch({ file: line })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('feature 2 (road): LineString geometries are not prompts') });
    const noGeom = writeJson('nogeom.geojson', { type: 'FeatureCollection', features: [ok, feature(null, { name: 'ghost' })] });
    await expect(batch({ file: noGeom })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('feature 1 (ghost) has no geometry') });
    const badRing = writeJson('ring.geojson', { type: 'FeatureCollection', features: [feature({ type: 'Polygon', coordinates: [[[0, 'a']]] })] });
    await expect(batch({ file: badRing })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('feature 0') });
    const notJson = writeJson('broken.json', '{"type": "FeatureCollection", "features": [');
    await expect(batch({ file: notJson })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('broken.json is not JSON') });
    const notFc = writeJson('feature.json', ok);
    await expect(batch({ file: notFc })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('not a GeoJSON FeatureCollection') });
    await expect(batch({ prompts: [{ kind: 'point', x: 1, y: 1 }], file: notFc })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(services.repo.listMasks(sessionId).length).toBe(masksBefore);
  }, 60_000);
});
