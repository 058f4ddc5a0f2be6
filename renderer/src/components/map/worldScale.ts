/** Natural Earth 1:50m is good to about 1:5 000 000: past FADE_FROM it fades, gone at FADE_TO (coasts km off there). */
const FADE_FROM = 9;
const FADE_TO = 13;
export const WORLD_ATTRIBUTION = `Natural Earth 1:50m (coastlines ± km; fades past zoom ${FADE_FROM})`;

/** Opacity of the Natural Earth layers at a map zoom. */
export function worldOpacity(zoom: number): number {
  return Math.min(1, Math.max(0, 1 - (zoom - FADE_FROM) / (FADE_TO - FADE_FROM)));
}

const STEPS = [30, 20, 10, 5, 2, 1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
const MIN_GAP_PX = 110;

/** The finest round graticule step (degrees) whose lines stay at least MIN_GAP_PX apart at this view. */
export function graticuleStep(degreesAcross: number, widthPx: number): number {
  const pxPerDeg = widthPx / Math.max(degreesAcross, 1e-9);
  let step = STEPS[0]!;
  for (const s of STEPS) if (s * pxPerDeg >= MIN_GAP_PX) step = s;
  return step;
}

/** A graticule label: degrees with as many decimals as the step needs, and the hemisphere (longitude wrapped). */
export function graticuleLabel(value: number, step: number, axis: 'lat' | 'lng'): string {
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const v = axis === 'lng' ? ((((value + 180) % 360) + 360) % 360) - 180 : value;
  const rounded = Number(v.toFixed(decimals));
  const hemi = rounded === 0 ? '' : axis === 'lat' ? (rounded > 0 ? 'N' : 'S') : rounded > 0 ? 'E' : 'W';
  return `${Math.abs(rounded).toFixed(decimals)}°${hemi}`;
}
