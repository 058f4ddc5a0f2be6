import { fromFile } from 'geotiff';

/**
 * Is a SAR image's intensity stored in decibels or as linear power/amplitude? Decided once, by precedence:
 *   1. metadata: the band unit (GDAL's UNITTYPE, e.g. "dB", "decibel", "linear"), then a description that states it;
 *   2. names: the file's or a band's name (`_db`, `dB`, `sigma0_db`, `gamma0_dB` …);
 *   3. value statistics: negative floats are impossible in linear power, so a float band that is largely negative
 *      is in dB. On its own this test would also match elevation below sea level, °C or NDVI, which is why it
 *      comes last and is only asked of images already known to be SAR.
 * Part of the one source-kind and calibration decision (sourceKind.ts) that display, change and the pixel
 * inspector share.
 */
export type SarScale = 'db' | 'linear' | 'amplitude';

/** SAR intensity on the dB scale: dB as it is, 10·log10 of linear power, 20·log10 of amplitude; NaN for v ≤ 0 (linear). */
export function sarToDb(scale: SarScale, v: number): number {
  if (scale === 'db') return v;
  return v > 0 ? (scale === 'amplitude' ? 20 : 10) * Math.log10(v) : NaN;
}

export interface SarScaleHints {
  /** the file's base name */
  name: string;
  /** unit strings from the file's metadata (GDAL UNITTYPE per band), if any */
  units: string[];
  /** band descriptions and the image description */
  descriptions: string[];
  /** whether samples are floating point */
  float: boolean;
}

const DB_WORD = /(^|[^a-z])(db|decibels?)([^a-z]|$)/i;
const LINEAR_UNIT = /^(linear|power|intensity|amplitude|dn|natural)$/i;

export function decideSarScale(h: SarScaleHints, sample: Float32Array | null): { scale: SarScale; why: string } {
  for (const u of h.units) {
    const t = u.trim();
    if (DB_WORD.test(t)) return { scale: 'db', why: `unit "${t}" in the file's metadata` };
    if (/^(amplitude|magnitude)$/i.test(t)) return { scale: 'amplitude', why: `unit "${t}" in the file's metadata` };
    if (LINEAR_UNIT.test(t)) return { scale: 'linear', why: `unit "${t}" in the file's metadata` };
  }
  for (const d of h.descriptions) if (/\b(in )?(db|decibels?)\b/i.test(d)) return { scale: 'db', why: `described as dB ("${d.slice(0, 40)}")` };
  // names: "_db", "-dB", "sigma0_db", "VV_dB" (a word boundary or an underscore/dash around "db")
  const stem = h.name.replace(/\.[a-z0-9]+$/i, '');
  if (DB_WORD.test(stem.replace(/[_\-.]/g, ' '))) return { scale: 'db', why: `"dB" in the name ${h.name}` };
  for (const d of h.descriptions) if (DB_WORD.test(d.replace(/[_\-.]/g, ' '))) return { scale: 'db', why: `"dB" in a band name ("${d.slice(0, 40)}")` };
  if (!h.float) return { scale: 'linear', why: 'integer samples (digital numbers of linear amplitude or power)' };
  if (sample) {
    let n = 0, neg = 0;
    for (const v of sample) {
      if (!Number.isFinite(v)) continue;
      n++;
      if (v < 0) neg++;
    }
    // linear backscatter is ≥ 0 everywhere; a few negative values come from calibration noise, a quarter does not
    if (n > 0 && neg / n > 0.25) return { scale: 'db', why: `${((100 * neg) / n).toFixed(0)} % of the values are negative (impossible in linear power)` };
  }
  return { scale: 'linear', why: 'no unit, no "dB" in the names, non-negative values' };
}

/** Per-band items of GDAL's metadata (sample="N"): the band's description and colour interpretation. */
export interface GdalBandMeta {
  description?: string;
  colourInterp?: string;
}

export interface GdalMetadata {
  units: string[];
  descriptions: string[];
  /** by 0-based band (GDAL's sample attribute) */
  bands: GdalBandMeta[];
}

/** UNITTYPE, DESCRIPTION and COLORINTERP items of GDAL's metadata XML (TIFF tag 42112). */
export function parseGdalMetadata(xml: string): GdalMetadata {
  const units: string[] = [];
  const descriptions: string[] = [];
  const bands: GdalBandMeta[] = [];
  for (const m of xml.matchAll(/<Item\s+([^>]*)>([^<]*)<\/Item>/gi)) {
    const attrs = m[1]!;
    const value = m[2]!.trim();
    const name = /name="([^"]*)"/i.exec(attrs)?.[1] ?? '';
    const role = /role="([^"]*)"/i.exec(attrs)?.[1] ?? '';
    const sample = /sample="(\d+)"/i.exec(attrs)?.[1];
    const band = sample === undefined ? null : Number(sample);
    if (/unittype/i.test(role) || /^units?$/i.test(name)) units.push(value);
    else if (/description/i.test(role) || /^description$/i.test(name)) {
      descriptions.push(value);
      if (band !== null && band < 1 << 16) (bands[band] ??= {}).description = value;
    } else if (band !== null && band < 1 << 16 && (/colou?rinterp/i.test(role) || /^colou?rinterp/i.test(name))) {
      (bands[band] ??= {}).colourInterp = value;
    }
  }
  for (let i = 0; i < bands.length; i++) bands[i] ??= {};
  return { units, descriptions, bands };
}

/** Units, band descriptions and colour interpretations a GeoTIFF carries in its GDAL metadata; empty for other files. */
export async function readScaleMetadata(file: string): Promise<GdalMetadata> {
  const none: GdalMetadata = { units: [], descriptions: [], bands: [] };
  if (!/\.tiff?$/i.test(file)) return none;
  try {
    const tiff = await fromFile(file);
    try {
      const fd = (await tiff.getImage(0)).fileDirectory;
      const xml = fd.hasTag('GDAL_METADATA') ? await fd.loadValue('GDAL_METADATA') : null;
      return typeof xml === 'string' ? parseGdalMetadata(xml) : none;
    } finally {
      await Promise.resolve(tiff.close()).catch(() => undefined);
    }
  } catch {
    // the image itself opened through the imagery service; missing metadata only means no hint
    return none;
  }
}
