import { describe, expect, it } from 'vitest';
import { geometryBlob } from './geopackageWriter.js';
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

describe('pdfText', () => {
  it('keeps Latin-1 and maps typographic marks; what the standard fonts cannot show becomes ?', () => {
    expect(pdfText('area 12 m² · 3 × 4 − 1 “ok” 25°N')).toBe('area 12 m² · 3 × 4 - 1 "ok" 25°N');
    expect(pdfText('建筑 a\tb\nc')).toBe('?? a b\nc');
  });
});
