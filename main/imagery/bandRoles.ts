import path from 'node:path';
import type { BandComposites, BandRole } from '../contract/calls/imagery.js';
import type { GdalBandMeta } from './sarScale.js';

export type { BandComposites, BandRole };

/**
 * What each band of a multi-band image measures, for picking its true-colour (R,G,B), colour-infrared (NIR,R,G)
 * and NDVI (NIR,R) bands. Per band, by precedence:
 *   1. words in the band's GDAL description ("red", "near infrared", "SWIR 1", …);
 *   2. a sensor band name in the description (Sentinel-2 "B08"/"B8A", Landsat "SR_B5"), read by the sensor the
 *      file or its descriptions name (Sentinel-2, Landsat 8/9 OLI, Landsat 4–7 TM/ETM+: B4 is red on the first two
 *      and NIR on the last);
 *   3. the colour interpretation (GDAL COLORINTERP metadata, TIFF Photometric RGB);
 *   4. a list of sensor band names in the file name, one per data band in order ("…_B08_B04_B03_B02.tif");
 *   5. a product whose band order is fixed (NAIP: R, G, B, NIR).
 * Bands with none of these stay unknown; with no red, green and blue known the display keeps its R,G,B,NIR-order
 * defaults (a plain RGB stays RGB).
 */
export interface BandRoleInputs {
  file: string;
  bandCount: number;
  alphaBand: number | null;
  /** per band, from GDAL's metadata */
  meta: GdalBandMeta[];
  /** per band, from the file's own colour model (TIFF Photometric RGB → red, green, blue) */
  colourInterp: (string | null)[];
  /** the file's ImageDescription */
  description: string | null;
}

type Sensor = 's2' | 'oli' | 'tm';

const SENSOR_BANDS: Record<Sensor, Record<string, BandRole>> = {
  s2: { '1': 'coastal', '2': 'blue', '3': 'green', '4': 'red', '5': 'rededge', '6': 'rededge', '7': 'rededge', '8': 'nir', '8a': 'nir', '9': 'other', '10': 'other', '11': 'swir', '12': 'swir' },
  oli: { '1': 'coastal', '2': 'blue', '3': 'green', '4': 'red', '5': 'nir', '6': 'swir', '7': 'swir', '8': 'pan', '9': 'other', '10': 'thermal', '11': 'thermal' },
  tm: { '1': 'blue', '2': 'green', '3': 'red', '4': 'nir', '5': 'swir', '6': 'thermal', '7': 'swir', '8': 'pan' },
};

const S2_WORD = /(^|[^a-z0-9])(s2[abc]?|sentinel[\s_-]?2[abc]?|msil[12][ac])([^a-z0-9]|$)/i;
const OLI_WORD = /(^|[^a-z0-9])(l[co]0?[89]|landsat[\s_-]?[89]|oli(_tirs)?)([^a-z0-9]|$)/i;
const TM_WORD = /(^|[^a-z0-9])(l[et]0?[4-7]|landsat[\s_-]?[4-7]|etm\+?|tm)([^a-z0-9]|$)/i;
/** "B8A", "B08", "b4", "SR_B5", "band 4", "Band_11" */
const BAND_TOKEN = /(?:^|[^a-z0-9])(?:sr_|st_|toa_)?b(?:and)?[\s_-]?(\d{1,2}a?)(?![a-z0-9])/gi;

function bandKey(token: string): string {
  return token.toLowerCase().replace(/^0(?=\d)/, '');
}

/** Words of a description or colour interpretation → a role; null when it names none. */
export function roleFromWords(text: string): BandRole | null {
  const t = text.toLowerCase().replace(/[_-]/g, ' ');
  if (/\b(coastal|aerosol|ultra ?blue)\b/.test(t)) return 'coastal';
  if (/\b(red ?edge|vre|rededge)\b/.test(t)) return 'rededge';
  if (/\b(nir|near ?infra ?red|nearir|vnir)\b/.test(t)) return 'nir';
  if (/\b(swir|short ?wave ?infra ?red|mir)\b/.test(t)) return 'swir';
  if (/\b(thermal|tirs?|lwir|brightness temperature|surface temperature)\b/.test(t)) return 'thermal';
  if (/\b(pan|panchromatic)\b/.test(t)) return 'pan';
  if (/\bred\b/.test(t)) return 'red';
  if (/\bgreen\b/.test(t)) return 'green';
  if (/\bblue\b/.test(t)) return 'blue';
  return null;
}

function sensorOf(texts: string[], tokens: string[]): Sensor | null {
  const all = texts.join(' ');
  if (S2_WORD.test(all)) return 's2';
  if (OLI_WORD.test(all)) return 'oli';
  if (TM_WORD.test(all)) return 'tm';
  // no sensor named: zero-padded or "8A" band names are Sentinel-2's; B5 without B8 is most likely Landsat 8's NIR
  if (tokens.some((t) => /^0\d$|^8a$/i.test(t))) return 's2';
  const keys = tokens.map(bandKey);
  if (keys.includes('5') && !keys.includes('8')) return 'oli';
  return keys.length > 0 ? 's2' : null;
}

function tokensOf(text: string): string[] {
  return [...text.matchAll(BAND_TOKEN)].map((m) => m[1]!);
}

export interface BandRoles {
  bands: { role: BandRole | null; name: string | null }[];
  composites: BandComposites | null;
}

export function decideBandRoles(i: BandRoleInputs): BandRoles {
  const n = i.bandCount;
  const stem = path.basename(i.file).replace(/\.[a-z0-9]+$/i, '');
  const descs = Array.from({ length: n }, (_, b) => i.meta[b]?.description ?? null);
  const descTokens = descs.flatMap((d) => (d ? tokensOf(d) : []));
  const fileTokens = tokensOf(stem);
  const sensor = sensorOf([stem, path.basename(path.dirname(i.file)), i.description ?? '', ...descs.filter((d): d is string => d !== null)], [...descTokens, ...fileTokens]);
  const dataBands = Array.from({ length: n }, (_, b) => b).filter((b) => b !== i.alphaBand);
  const out: BandRoles['bands'] = Array.from({ length: n }, () => ({ role: null, name: null }));
  for (const b of dataBands) {
    const d = descs[b];
    const byWords = d ? roleFromWords(d) : null;
    if (byWords) {
      out[b] = { role: byWords, name: d!.slice(0, 40) };
      continue;
    }
    const tok = d ? tokensOf(d)[0] : undefined;
    if (tok && sensor && SENSOR_BANDS[sensor][bandKey(tok)]) {
      out[b] = { role: SENSOR_BANDS[sensor][bandKey(tok)]!, name: d!.slice(0, 40) };
      continue;
    }
    const ci = i.meta[b]?.colourInterp ?? i.colourInterp[b] ?? null;
    const byInterp = ci ? roleFromWords(ci) : null;
    if (byInterp) out[b] = { role: byInterp, name: ci!.slice(0, 40) };
  }
  // a file name listing one band name per data band, in order
  if (fileTokens.length === dataBands.length && sensor && dataBands.some((b) => out[b]!.role === null)) {
    dataBands.forEach((b, k) => {
      const role = SENSOR_BANDS[sensor][bandKey(fileTokens[k]!)];
      if (out[b]!.role === null && role) out[b] = { role, name: `B${fileTokens[k]!.toUpperCase()}` };
    });
  }
  // NAIP quarter-quads are always red, green, blue, NIR
  if (dataBands.length === 4 && /(^|[^a-z])naip([^a-z]|$)/i.test(`${stem} ${path.basename(path.dirname(i.file))}`) && dataBands.every((b) => out[b]!.role === null)) {
    (['red', 'green', 'blue', 'nir'] as const).forEach((role, k) => (out[dataBands[k]!] = { role, name: `NAIP ${role === 'nir' ? 'NIR' : role}` }));
  }
  return { bands: out, composites: compositesOf(out.map((b) => b.role)) };
}

/** The first band of each role (a wider "nir" than a narrow one is fine for display) → the composites it makes. */
export function compositesOf(roles: (BandRole | null)[]): BandComposites | null {
  const first = (r: BandRole): number | null => {
    const k = roles.indexOf(r);
    return k < 0 ? null : k;
  };
  const [r, g, b, nir] = [first('red'), first('green'), first('blue'), first('nir')];
  const trueColour = r !== null && g !== null && b !== null ? ([r, g, b] as [number, number, number]) : null;
  const falseColour = nir !== null && r !== null && g !== null ? ([nir, r, g] as [number, number, number]) : null;
  const ndvi = nir !== null && r !== null ? ([nir, r] as [number, number]) : null;
  return trueColour || falseColour || ndvi ? { trueColour, falseColour, ndvi } : null;
}
