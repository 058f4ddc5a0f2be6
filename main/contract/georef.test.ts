import { describe, expect, it } from 'vitest';
import {
  createPixelTransform,
  gcpsToGeotransform,
  invertGeotransform,
  lngLatToTile,
  mercatorOfGlobalPixel,
  simpleLatLngToPixel,
  simpleMaxZoom,
  simplePixelToLatLng,
  simpleTileSpan,
} from './georef.js';

const utm18 = { epsg: 32618, name: 'WGS 84 / UTM zone 18N', proj4: '+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs', wkt: null };

describe('georef', () => {
  it('inverts a rotated geotransform', () => {
    const gt = [100, 2, 0.5, 200, 0.25, -3];
    const inv = invertGeotransform(gt)!;
    const x = 7, y = 11;
    const X = gt[0]! + x * gt[1]! + y * gt[2]!;
    const Y = gt[3]! + x * gt[4]! + y * gt[5]!;
    expect(inv[0] + X * inv[1] + Y * inv[2]).toBeCloseTo(x, 9);
    expect(inv[3] + X * inv[4] + Y * inv[5]).toBeCloseTo(y, 9);
  });

  it('maps pixels to lon/lat and back through UTM', () => {
    const t = createPixelTransform({ geotransform: [101985, 300, 0, 2826915, 0, -300], crs: utm18, width: 791, height: 718 });
    const ll = t.pixelToLngLat([0, 0]);
    expect(ll[0]).toBeCloseTo(-78.9586, 3);
    expect(ll[1]).toBeCloseTo(25.5061, 3);
    const back = t.lngLatToPixel(t.pixelToLngLat([400.25, 300.75]));
    expect(back[0]).toBeCloseTo(400.25, 6);
    expect(back[1]).toBeCloseTo(300.75, 6);
  });

  it('fits an affine to GCPs exactly when they are affine', () => {
    const gcps = [[0, 0], [100, 0], [0, 50], [100, 50], [30, 20]].map(([p, l]) => ({
      pixel: p!, line: l!, x: 10 + 0.01 * p! + 0.002 * l!, y: 45 - 0.005 * l! + 0.001 * p!, z: 0,
    }));
    const gt = gcpsToGeotransform(gcps)!;
    [10, 0.01, 0.002, 45, 0.001, -0.005].forEach((v, i) => expect(gt[i]).toBeCloseTo(v, 10));
  });

  it('refuses non-georeferenced info with a clear message', () => {
    expect(() => createPixelTransform({ geotransform: null, crs: null, width: 10, height: 10 })).toThrow(/no georeferencing/);
  });

  it('uses Leaflet tile numbering', () => {
    expect(lngLatToTile(0, 0, 1)).toMatchObject({ x: 1, y: 1 });
    expect(lngLatToTile(-179.9, 85, 2)).toMatchObject({ x: 0, y: 0 });
    const [mx, my] = mercatorOfGlobalPixel(0, 128, 128);
    expect(mx).toBeCloseTo(0, 6);
    expect(my).toBeCloseTo(0, 6);
  });

  it('defines the pixel-space scheme for L.CRS.Simple', () => {
    expect(simpleMaxZoom(640, 512)).toBe(2);
    expect(simpleMaxZoom(200, 100)).toBe(0);
    expect(simpleTileSpan(640, 512, 0)).toBe(1024);
    expect(simpleTileSpan(640, 512, 2)).toBe(256);
    const ll = simplePixelToLatLng(640, 512, [320, 100]);
    expect(ll).toEqual({ lat: -25, lng: 80 });
    expect(simpleLatLngToPixel(640, 512, ll)).toEqual([320, 100]);
  });
});
