import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Landsat TIRS calibration of one band, by product level:
 *   L1: DN → radiance (ML·DN + AL) → brightness temperature K2 / ln(K1/L + 1);
 *   L2 (Collection 2 surface temperature, …_ST_B10): K = DN × TEMPERATURE_MULT + TEMPERATURE_ADD (the MTL's own
 *   constants, 0.00341802 and 149.0 for C2). An L2 MTL also lists the L1 constants: they do not apply to ST pixels.
 */
export type ThermalCalibration =
  | { level: 'L1'; band: number; ml: number; al: number; k1: number; k2: number }
  | { level: 'L2'; band: number; mult: number; add: number };

function mtlValue(text: string, key: string): number | null {
  const m = new RegExp(`^\\s*${key}\\s*=\\s*"?([-+0-9.eE]+)"?\\s*$`, 'm').exec(text);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) ? v : null;
}

/** Parses the constants of `band` from an MTL text; null when any of the four is missing. */
export function parseMtl(text: string, band: number, surfaceTemperature = false): ThermalCalibration | null {
  if (surfaceTemperature) {
    const mult = mtlValue(text, `TEMPERATURE_MULT_BAND_ST_B${band}`);
    const add = mtlValue(text, `TEMPERATURE_ADD_BAND_ST_B${band}`);
    return mult !== null && add !== null ? { level: 'L2', band, mult, add } : null;
  }
  const ml = mtlValue(text, `RADIANCE_MULT_BAND_${band}`);
  const al = mtlValue(text, `RADIANCE_ADD_BAND_${band}`);
  const k1 = mtlValue(text, `K1_CONSTANT_BAND_${band}`);
  const k2 = mtlValue(text, `K2_CONSTANT_BAND_${band}`);
  return ml !== null && al !== null && k1 !== null && k2 !== null ? { level: 'L1', band, ml, al, k1, k2 } : null;
}

/** Kelvin of a raw DN: brightness temperature (L1) or surface temperature (L2); null where it has none. */
export function temperatureK(c: ThermalCalibration, dn: number): number | null {
  if (c.level === 'L2') return dn === 0 ? null : c.mult * dn + c.add;
  const radiance = c.ml * dn + c.al;
  if (!(radiance > 0)) return null;
  return c.k2 / Math.log(c.k1 / radiance + 1);
}

/**
 * The calibration for an image file: its band number from the Landsat name (…_B10.TIF, …_B10_…; …_ST_B10.TIF is
 * a Level-2 surface-temperature band), constants from a *_MTL.txt in the same folder. Null when either is missing
 * (not an error: most images are not thermal).
 */
export function findThermalCalibration(imagePath: string): ThermalCalibration | null {
  const m = /(_ST)?_B(\d{1,2})(?=[_.])/i.exec(path.basename(imagePath));
  if (!m) return null;
  const st = m[1] !== undefined;
  const band = Number(m[2]);
  const dir = path.dirname(imagePath);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /_MTL\.txt$/i.test(n));
  } catch {
    return null;
  }
  for (const n of names) {
    try {
      const c = parseMtl(readFileSync(path.join(dir, n), 'utf8'), band, st);
      if (c) return c;
    } catch {
      // unreadable metadata beside the image: no calibration, the raw values still show
    }
  }
  return null;
}
