import { describe, expect, it } from 'vitest';
import type { CaseObject, CaseSnapshot } from './caseObjects.js';
import { geometryBlob, layerName, planLayers } from './geopackageWriter.js';
import { pdfText } from './pdfReport.js';

describe('geometryBlob', () => {
  it('writes the GeoPackage header (GP, v0, LE + XY envelope, srs_id) then an ISO WKB MultiPolygon', () => {
    const square = [[[0, 0], [2, 0], [2, 3], [0, 3], [0, 0]]];
    const { bytes, envelope } = geometryBlob([square], 32618);
    expect(bytes.toString('latin1', 0, 2)).toBe('GP');
    expect(bytes[2]).toBe(0);
    expect(bytes[3]).toBe(0b11);
    expect(bytes.readInt32LE(4)).toBe(32618);
    expect([bytes.readDoubleLE(8), bytes.readDoubleLE(16), bytes.readDoubleLE(24), bytes.readDoubleLE(32)]).toEqual([0, 2, 0, 3]);
    expect(envelope).toEqual([0, 0, 2, 3]);
    const wkb = bytes.subarray(40);
    expect(wkb[0]).toBe(1);
    expect(wkb.readUInt32LE(1)).toBe(6);
    expect(wkb.readUInt32LE(5)).toBe(1);
    expect(wkb.readUInt32LE(10)).toBe(3);
    expect(wkb.readUInt32LE(14)).toBe(1);
    expect(wkb.readUInt32LE(18)).toBe(5);
    expect(wkb.readDoubleLE(22 + 16 * 2 + 8)).toBe(3);
    expect(wkb.length).toBe(22 + 5 * 16);
  });
});

describe('planLayers', () => {
  const snapshot = { session: { id: 'a1b2c3d4-e5f6', name: 'Two zones' } } as CaseSnapshot;
  /** what planLayers reads of an object: whether it is georeferenced, its image's CRS and name */
  const obj = (imageName: string, crs: { epsg: number | null; wkt: string } | null): CaseObject =>
    ({ summary: { georeferenced: crs !== null, imageName }, image: { info: { crs: crs && { ...crs, name: null, proj4: null } } } }) as unknown as CaseObject;
  const base = layerName(snapshot);

  it('one CRS keeps the case layer name; further CRSs get _epsgN, the image name (no EPSG code) or _pixels', () => {
    const a = obj('a.tif', { epsg: 32618, wkt: 'UTM 18N as file a writes it' });
    const b = obj('b.tif', { epsg: 32618, wkt: 'UTM 18N as file b writes it' });
    const m = obj('m.tif', { epsg: 3857, wkt: 'mercator' });
    const g1 = obj('Disk East.tif', { epsg: null, wkt: 'geos lon_0=-75' });
    const g2 = obj('Disk East.tif', { epsg: null, wkt: 'geos lon_0=-137' });
    const p = obj('frame.jpg', null);
    expect(planLayers(snapshot, [a, b]).map((l) => [l.table, l.srs.id, l.objects.length])).toEqual([[base, 32618, 2]]);
    const layers = planLayers(snapshot, [a, m, g1, b, p, g2]);
    expect(layers.map((l) => [l.table, l.srs.id, l.srs.organization, l.pixels, l.objects.length])).toEqual([
      [base, 32618, 'EPSG', false, 2],
      [`${base}_epsg3857`, 3857, 'EPSG', false, 1],
      [`${base}_disk_east_tif`, 100000, 'NONE', false, 1],
      [`${base}_pixels`, -1, 'NONE', true, 1],
      [`${base}_disk_east_tif_2`, 100001, 'NONE', false, 1],
    ]);
    expect(layers[2]!.srs.definition).toBe('geos lon_0=-75');
    // images without georeferencing alone: today's single pixel layer under the case name
    expect(planLayers(snapshot, [p, obj('other.jpg', null)]).map((l) => [l.table, l.srs.id, l.objects.length])).toEqual([[base, -1, 2]]);
    expect(planLayers(snapshot, []).map((l) => [l.table, l.srs.id])).toEqual([[base, -1]]);
  });
});

describe('pdfText', () => {
  it('keeps Latin-1 and maps typographic marks; what the standard fonts cannot show becomes ?', () => {
    expect(pdfText('area 12 m² · 3 × 4 − 1 “ok” 25°N')).toBe('area 12 m² · 3 × 4 - 1 "ok" 25°N');
    expect(pdfText('建筑 a\tb\nc')).toBe('?? a b\nc');
  });
});
