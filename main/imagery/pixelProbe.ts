import { mgrsForward } from './mgrs.js';
import type { PixelInfo } from '../contract/calls/imagery.js';
import type { OpenImage } from './openImage.js';
import { calibratedValue, type SourceDecision } from './sourceKind.js';
import { temperatureK, type ThermalCalibration } from './thermalCalibration.js';

/** Everything the pixel inspector shows for full-res pixel (x, y): raw band values, CRS and geographic positions. */
export async function probePixel(img: OpenImage, px: number, py: number, thermal: ThermalCalibration | null, decision: SourceDecision): Promise<PixelInfo> {
  const x = Math.floor(px);
  const y = Math.floor(py);
  const f = img.source.facts;
  const inside = x >= 0 && y >= 0 && x < f.width && y < f.height;
  let values: (number | null)[] = [];
  let valid = false;
  if (inside) {
    const bands = Array.from({ length: f.bandCount }, (_, i) => i);
    const win: [number, number, number, number] = [x, y, x + 1, y + 1];
    const data = await img.source.readWindow(0, win, bands);
    const mask = await img.source.readMask(0, win);
    const masked = mask !== null && mask[0] === 0;
    const raw = data.bands.map((b) => Number(b[0]));
    values = raw.map((v) => (Number.isFinite(v) ? v : null));
    valid = !masked && !raw.some((v) => Number.isNaN(v)) && !raw.every((v) => v === f.nodata);
  }
  const centre: [number, number] = [x + 0.5, y + 0.5];
  let crsXY: [number, number] | null = null;
  let lonLat: [number, number] | null = null;
  let mgrs: string | null = null;
  const t = img.transform;
  if (t) {
    try {
      const c = t.pixelToCrs(centre);
      if (Number.isFinite(c[0]) && Number.isFinite(c[1])) crsXY = [c[0], c[1]];
      const ll = t.pixelToLngLat(centre);
      if (Number.isFinite(ll[0]) && Number.isFinite(ll[1]) && Math.abs(ll[1]) <= 90) {
        lonLat = [ll[0], ll[1]];
        // MGRS is undefined beyond 84°N/80°S (UPS zones are outside the mgrs package)
        if (ll[1] < 84 && ll[1] > -80) mgrs = mgrsForward([ll[0], ll[1]], 5);
      }
    } catch {
      // outside the projection's domain (geostationary off-disc): positions stay null
    }
  }
  const v0 = values[0];
  return {
    x,
    y,
    inside,
    values,
    valid,
    brightnessK: thermal?.level === 'L1' && valid && typeof v0 === 'number' ? temperatureK(thermal, v0) : null,
    calibrated: valid && typeof v0 === 'number' ? calibratedValue(decision, thermal, v0) : null,
    sourceKind: decision.kind,
    crsXY,
    crsName: f.crs ? (f.crs.epsg ? `EPSG:${f.crs.epsg}` : f.crs.name ?? 'custom CRS') : null,
    lonLat,
    mgrs,
  };
}
