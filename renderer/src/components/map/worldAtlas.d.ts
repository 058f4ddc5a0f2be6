// The Natural Earth 1:50m TopoJSON of world-atlas, typed as a topology (TypeScript would otherwise infer a type
// for the whole 750 kB JSON file).
declare module 'world-atlas/countries-50m.json' {
  import type { GeometryCollection, Topology } from 'topojson-specification';
  const world: Topology<{ countries: GeometryCollection; land: GeometryCollection }>;
  export default world;
}

// GeoNames place names cut at build time (main/build/placesPlugin.mjs): [name, lon, lat, population, capital 1/0].
declare module 'virtual:vantage-places' {
  const places: readonly (readonly [string, number, number, number, number])[];
  export default places;
}
