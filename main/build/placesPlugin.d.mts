import type { Plugin } from 'vite';

export const MIN_POPULATION: number;
export interface GeoNamesCity {
  name: string;
  population: number;
  featureCode: string;
  loc: { coordinates: [number, number] | number[] };
}
export function buildPlaces(cities: GeoNamesCity[], minPopulation?: number): [string, number, number, number, 0 | 1][];
export function placesPlugin(): Plugin;
