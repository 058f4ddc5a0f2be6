import path from 'node:path';
import type { SourceDecision, SourceKind } from '../contract/calls/imagery.js';
import type { ImageInfo } from '../contract/schemas.js';
import { defaultDisplay, presetDisplay, type ImageDisplay } from '../contract/imageDisplay.js';
import type { RasterSource, SourceFacts } from './rasterSource.js';
import { decideBandRoles } from './bandRoles.js';
import { decideSarScale, readScaleMetadata, sarToDb, type GdalBandMeta, type SarScale } from './sarScale.js';
import { findThermalCalibration, temperatureK, type ThermalCalibration } from './thermalCalibration.js';

export type { SourceDecision, SourceKind };

/**
 * What kind of sensor made the image, for the model's source tag. Order: name hints on the file name (thermal
 * band names → infrared; SAR product words → sar; optical band/colour words → optical), then the data (complex
 * samples or a Sentinel-1 description → sar), then hints in the parent folder's name, else optical.
 */
export function guessSource(file: string, facts: Pick<SourceFacts, 'dtype' | 'description'>): ImageInfo['source'] {
  const base = path.basename(file).toLowerCase();
  const thermal = /(thermal|tirs|lwir|infrared|(^|[^a-z0-9])(b10|b11|ir|tir)([^a-z0-9]|$))/;
  const sar = /(^|[^a-z0-9])(sar|s1[ab]?|grd|slc|rtc|gamma0|sigma0|beta0|vv|vh|hh|hv|quadpol)([^a-z0-9]|$)/;
  const optical = /(rgb|tci|blue|green|red|nir|pan|naip|(^|[^a-z0-9])b0?[1-9]([^a-z0-9]|$))/;
  if (thermal.test(base)) return 'infrared';
  if (sar.test(base)) return 'sar';
  if (optical.test(base)) return 'optical';
  if (facts.dtype.startsWith('C') || /sentinel-1|\bsar\b/i.test(facts.description ?? '')) return 'sar';
  const dir = path.basename(path.dirname(file)).toLowerCase();
  if (thermal.test(dir)) return 'infrared';
  if (sar.test(dir)) return 'sar';
  return 'optical';
}

/**
 * The one decision of what an image is and what its values mean (source kind and calibration), made once per open
 * image and used by the display default, the SAR dB preset, change and the pixel inspector. Precedence, as for the
 * SAR scale: metadata and units first, then names, then value statistics; negative floats alone never make SAR
 * (elevation below sea level, °C and NDVI are negative too).
 */
export interface SourceInputs {
  /** the file's path (its name and folder carry hints; an MTL beside it carries thermal constants) */
  file: string;
  dtype: string;
  bandCount: number;
  description: string | null;
  units: string[];
  descriptions: string[];
  /** a strided sample of band 1 (smallest overview), NaN/nodata excluded */
  sample: Float32Array | null;
  thermal: ThermalCalibration | null;
  alphaBand: number | null;
  /** per band: GDAL description and colour interpretation (metadata) */
  bandMeta?: GdalBandMeta[];
  /** per band: the file's own colour model (TIFF Photometric RGB → Red, Green, Blue) */
  colourInterp?: (string | null)[];
}

const ELEVATION_WORD = /(^|[^a-z])(dem|dsm|dtm|elev|elevation|height|altitude|srtm|gdem|terrain|topo)([^a-z]|$)/i;
const METRE_UNIT = /^(m|metres?|meters?|ft|feet|foot)$/i;

function words(s: string): string {
  return s.replace(/\.[a-z0-9]+$/i, '').replace(/[_\-.]/g, ' ');
}

/**
 * `chosen`: the kind the analyst set for this image (kept in the case); its calibration is still decided from the
 * file (the MTL's constants, the SAR scale by the same precedence).
 */
export function decideSource(i: SourceInputs, chosen: SourceKind | null = null, chosenSarScale: SarScale | null = null): SourceDecision {
  const roles = decideBandRoles({ file: i.file, bandCount: i.bandCount, alphaBand: i.alphaBand, meta: i.bandMeta ?? [], colourInterp: i.colourInterp ?? [], description: i.description });
  const k = decideKind(i, chosen, roles.bands.some((b) => b.role === 'nir' || b.role === 'swir' || b.role === 'rededge'));
  // the analyst's word on the SAR scale overrides the file's (metadata, names, values) but not the kind
  const c = k.calibration;
  const calibration = c && k.kind === 'sar' && chosenSarScale ? { ...c, sarScale: chosenSarScale, why: `set by the analyst (decided: ${c.sarScale}, ${c.why})` } : c;
  const d: SourceDecision = { ...k, calibration, alphaBand: i.alphaBand, bands: roles.bands, composites: roles.composites, sarScaleChosen: chosenSarScale };
  return chosen ? { ...d, why: `set by the analyst (${d.why})` } : d;
}

function decideKind(i: SourceInputs, chosen: SourceKind | null, beyondVisible: boolean): Pick<SourceDecision, 'kind' | 'why' | 'calibration'> {
  const name = path.basename(i.file);
  const guess = chosen ? null : guessSource(i.file, { dtype: i.dtype, description: i.description });
  const float = i.dtype.startsWith('Float');
  if (chosen === 'thermal' || (!chosen && (i.thermal || guess === 'infrared'))) {
    const c = i.thermal;
    return {
      kind: 'thermal',
      why: c ? `Landsat band ${c.band} with its MTL beside it` : 'thermal band name',
      calibration: c
        ? c.level === 'L2'
          ? { quantity: 'surface temperature', unit: 'K', level: 'L2', sarScale: null, why: `Level-2 ST: K = DN × ${c.mult} + ${c.add} (MTL)` }
          : { quantity: 'brightness temperature', unit: 'K', level: 'L1', sarScale: null, why: 'Level-1: radiance → brightness temperature (MTL K1, K2)' }
        : null,
    };
  }
  if (chosen === 'sar' || guess === 'sar') {
    const s = decideSarScale({ name, units: i.units, descriptions: [...i.descriptions, ...(i.description ? [i.description] : [])], float }, i.sample);
    return { kind: 'sar', why: 'SAR product words in the name or metadata', calibration: { quantity: 'backscatter', unit: 'dB', level: null, sarScale: s.scale, why: s.why } };
  }
  const dataBands = i.bandCount - (i.alphaBand === null ? 0 : 1);
  if (chosen === 'elevation') return { kind: 'elevation', why: 'elevation', calibration: { quantity: 'elevation', unit: 'm', level: null, sarScale: null, why: 'set by the analyst' } };
  if (chosen) return { kind: chosen, why: chosen, calibration: null };
  if (dataBands === 1 && i.dtype !== 'Byte' && !i.dtype.startsWith('C')) {
    const unit = i.units.find((u) => METRE_UNIT.test(u.trim()));
    const desc = i.descriptions.find((d) => ELEVATION_WORD.test(words(d)));
    const named = ELEVATION_WORD.test(words(name)) || ELEVATION_WORD.test(words(path.basename(path.dirname(i.file))));
    if (unit || desc || named) {
      const why = unit ? `unit "${unit}" in the file's metadata` : desc ? `band described as "${desc.slice(0, 40)}"` : `elevation word in the name ${name}`;
      return { kind: 'elevation', why, calibration: { quantity: 'elevation', unit: unit && /f/i.test(unit) ? 'ft' : 'm', level: null, sarScale: null, why } };
    }
  }
  if (dataBands >= 4) return { kind: 'multispectral', why: `${dataBands} data bands`, calibration: null };
  if (dataBands > 1 && beyondVisible) return { kind: 'multispectral', why: 'a near- or short-wave infrared band', calibration: null };
  return { kind: 'optical', why: 'no SAR, thermal or elevation hint', calibration: null };
}

/** Gathers the decision's inputs: GDAL metadata, a value sample, an MTL beside the file. */
export async function sourceInputsOf(file: string, source: RasterSource): Promise<SourceInputs> {
  const f = source.facts;
  const meta = await readScaleMetadata(file);
  let sample: Float32Array | null = null;
  if (f.dtype.startsWith('Float')) {
    const level = source.levels.length - 1;
    const lv = source.levels[level]!;
    const side = 512;
    const x0 = Math.max(0, Math.floor((lv.width - side) / 2));
    const y0 = Math.max(0, Math.floor((lv.height - side) / 2));
    const w = await source.readWindow(level, [x0, y0, Math.min(lv.width, x0 + side), Math.min(lv.height, y0 + side)], [0]);
    const b = w.bands[0]!;
    const out: number[] = [];
    const step = Math.max(1, Math.floor(b.length / 65536));
    for (let k = 0; k < b.length; k += step) {
      const v = b[k]!;
      if (Number.isFinite(v) && v !== f.nodata) out.push(v);
    }
    sample = Float32Array.from(out);
  }
  return {
    file,
    dtype: f.dtype,
    bandCount: f.bandCount,
    description: f.description,
    units: meta.units,
    descriptions: meta.descriptions,
    sample,
    thermal: findThermalCalibration(file),
    alphaBand: f.alphaBand ?? null,
    bandMeta: meta.bands,
    colourInterp: f.colourInterp ?? [],
  };
}

/** The display an image opens with when the analyst has not chosen one: by its source kind. */
export function sourceDefaultDisplay(d: SourceDecision, f: { bandCount: number; dtype: string; hasPalette: boolean }): ImageDisplay {
  const base = defaultDisplay(f);
  const robust = { kind: 'percentile', lo: 2, hi: 98 } as const;
  switch (d.kind) {
    case 'sar':
    case 'thermal': {
      const p = presetDisplay(d.kind === 'sar' ? 'sar-db' : 'thermal', f);
      return 'error' in p ? base : p;
    }
    case 'elevation': {
      const p = presetDisplay('terrain', f);
      return 'error' in p ? { ...base, bands: [0], stretch: robust, colourMap: 'terrain', hillshade: true } : p;
    }
    default: {
      // multispectral: true colour from the band roles, else colour infrared (a NIR,R,G image has no blue)
      const c = d.composites;
      if (!c) return base;
      const p = presetDisplay(c.trueColour ? 'natural' : c.falseColour ? 'false-colour-nir' : 'natural', { ...f, composites: c });
      return 'error' in p ? base : p;
    }
  }
}

/** The calibrated quantity of a pixel's raw first-band value, or null where the decision gives none. */
export function calibratedValue(d: SourceDecision, thermal: ThermalCalibration | null, raw: number): { quantity: string; value: number; unit: string } | null {
  const c = d.calibration;
  if (!c || !Number.isFinite(raw)) return null;
  let value: number | null = raw;
  if (d.kind === 'sar' && c.sarScale && c.sarScale !== 'db') value = raw > 0 ? sarToDb(c.sarScale, raw) : null;
  else if (d.kind === 'thermal') value = thermal ? temperatureK(thermal, raw) : null;
  return value === null || !Number.isFinite(value) ? null : { quantity: c.quantity, value, unit: c.unit };
}
