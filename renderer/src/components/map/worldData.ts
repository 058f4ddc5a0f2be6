import type { Feature, FeatureCollection, MultiLineString, MultiPolygon, Polygon } from 'geojson';
import { feature, mesh } from 'topojson-client';
import world from 'world-atlas/countries-50m.json';

/** Natural Earth 1:50m (public domain) via world-atlas: land fill, coastlines (land outlines) and country borders. */
export interface WorldGeometry {
  land: FeatureCollection<Polygon | MultiPolygon> | Feature<Polygon | MultiPolygon>;
  coast: MultiLineString;
  borders: MultiLineString;
}

export function decodeWorld(): WorldGeometry {
  return {
    land: feature(world, world.objects.land) as WorldGeometry['land'],
    coast: mesh(world, world.objects.land),
    // borders between two countries only: a country's coast is already the land's outline
    borders: mesh(world, world.objects.countries, (a, b) => a !== b),
  };
}
