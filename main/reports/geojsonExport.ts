import type { CaseObject, CaseSnapshot } from './caseObjects.js';
import { attributesOf } from './provenance.js';

/**
 * RFC 7946 FeatureCollection in WGS84 lon/lat (rings wound counter-clockwise outside, clockwise for holes). For an
 * image without georeferencing the coordinates are image pixels (x = column, y = −row) and the collection says so:
 * such a file is not RFC 7946 WGS84, and a GIS must not place it on the globe.
 */
export function buildGeojson(snapshot: CaseSnapshot, objects: CaseObject[]): string {
  const georef = objects.every((o) => o.summary.georeferenced);
  const features = objects.map((o) => {
    const g = o.geometry!;
    const coordinates = g.wgs84 ?? g.pixel.map((p) => p.map((r) => r.map(([x, y]) => [x, -y])));
    return {
      type: 'Feature',
      id: o.mask.id,
      properties: attributesOf(o, snapshot),
      geometry: { type: 'MultiPolygon', coordinates: roundCoords(coordinates, georef ? 9 : 3) },
    };
  });
  const doc: Record<string, unknown> = { type: 'FeatureCollection', name: snapshot.session.name };
  if (!georef) doc['vantage:coordinates'] = 'image pixels (x = column, y = -row), not WGS84: the source image has no georeferencing';
  doc.features = features;
  return JSON.stringify(doc, null, 1) + '\n';
}

function roundCoords(polys: number[][][][], digits: number): number[][][][] {
  const f = 10 ** digits;
  return polys.map((p) => p.map((r) => r.map(([x, y]) => [Math.round(x! * f) / f, Math.round(y! * f) / f])));
}
