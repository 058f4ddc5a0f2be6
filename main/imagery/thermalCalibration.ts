import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Landsat TIRS calibration of one band: DN → radiance (ML·DN + AL) → brightness temperature K2 / ln(K1/L + 1). */
export interface ThermalCalibration {
  band: number;
  ml: number;
  al: number;
  k1: number;
  k2: number;
}

function mtlValue(text: string, key: string): number | null {
  const m = new RegExp(`^\\s*${key}\\s*=\\s*"?([-+0-9.eE]+)"?\\s*$`, 'm').exec(text);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : null;
}

/** Parses the constants of `band` from an MTL text; null when any of the four is missing. */
export function parseMtl(text: string, band: number): ThermalCalibration | null {
  const ml = mtlValue(text, `RADIANCE_MULT_BAND_${band}`);
  const al = mtlValue(text, `RADIANCE_ADD_BAND_${band}`);
  const k1 = mtlValue(text, `K1_CONSTANT_BAND_${band}`);
  const k2 = mtlValue(text, `K2_CONSTANT_BAND_${band}`);
  return ml !== null && al !== null && k1 !== null && k2 !== null ? { band, ml, al, k1, k2 } : null;
}

export function brightnessTemperatureK(c: ThermalCalibration, dn: number): number | null {
  const radiance = c.ml * dn + c.al;
  if (!(radiance > 0)) return null;
  return c.k2 / Math.log(c.k1 / radiance + 1);
}

/**
 * The calibration for an image file: its band number from the Landsat name (…_B10.TIF, …_B10_…), constants from
 * a *_MTL.txt in the same folder. Null when either is missing (not an error: most images are not thermal).
 */
export function findThermalCalibration(imagePath: string): ThermalCalibration | null {
  const m = /_B(\d{1,2})(?=[_.])/i.exec(path.basename(imagePath));
  if (!m) return null;
  const band = Number(m[1]);
  const dir = path.dirname(imagePath);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /_MTL\.txt$/i.test(n));
  } catch {
    return null;
  }
  for (const n of names) {
    try {
      const c = parseMtl(readFileSync(path.join(dir, n), 'utf8'), band);
      if (c) return c;
    } catch {
      // unreadable metadata beside the image: no calibration, the raw values still show
    }
  }
  return null;
}
