import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import proj4 from 'proj4';
import type { Crs } from '../contract/schemas.js';

/** GeoTIFF geokeys as geotiff.js parses them (names from the GeoTIFF spec). */
export type GeoKeys = Partial<Record<string, unknown>>;

const USER_DEFINED = 32767;

interface EpsgRecord {
  code: string;
  name: string | null;
  wkt: string | null;
  proj4: string | null;
}

let epsgDir: string | null = null;
const epsgCache = new Map<number, EpsgRecord | null>();

/** epsg-index ships one small JSON per code under s/; reading just that file keeps the 8 MB all.json out of memory. */
function epsgIndexDir(): string {
  if (epsgDir === null) {
    const req = createRequire(import.meta.url);
    epsgDir = path.join(path.dirname(req.resolve('epsg-index/package.json')), 's');
  }
  return epsgDir;
}

export async function lookupEpsg(code: number): Promise<EpsgRecord | null> {
  if (!Number.isInteger(code) || code <= 0) return null;
  const cached = epsgCache.get(code);
  if (cached !== undefined) return cached;
  let rec: EpsgRecord | null;
  try {
    const raw = JSON.parse(await readFile(path.join(epsgIndexDir(), `${code}.json`), 'utf8')) as EpsgRecord;
    rec = { code: String(raw.code), name: raw.name ?? null, wkt: raw.wkt ?? null, proj4: raw.proj4 ?? null };
  } catch {
    rec = null;
  }
  epsgCache.set(code, rec);
  return rec;
}

/** proj4js rejects some PROJ-only tokens; "+type=crs" is harmless but noisy. */
function cleanProj4(def: string): string {
  return def.replace(/\s*\+type=crs\b/g, '').trim();
}

/** True when proj4js can build a transform from this definition (it throws on unsupported projections). */
export function proj4Usable(def: string): boolean {
  try {
    proj4(def, 'EPSG:4326');
    return true;
  } catch {
    return false;
  }
}

function num(keys: GeoKeys, name: string): number | undefined {
  const v = keys[name];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return undefined;
}

function str(keys: GeoKeys, name: string): string | undefined {
  const v = keys[name];
  return typeof v === 'string' ? v : undefined;
}

/** GDAL writes user-defined CRSs as "ESRI PE String = <WKT>" in a citation key. */
function wktFromCitations(keys: GeoKeys): string | null {
  for (const name of ['PCSCitationGeoKey', 'GTCitationGeoKey', 'GeogCitationGeoKey']) {
    const c = str(keys, name);
    if (!c) continue;
    const i = c.indexOf('ESRI PE String = ');
    if (i >= 0) return c.slice(i + 'ESRI PE String = '.length).replace(/\|+$/, '').trim();
  }
  return null;
}

function proj4FromWkt(wkt: string): string | null {
  const ext = /EXTENSION\["PROJ4","([^"]+)"\]/.exec(wkt);
  if (ext?.[1]) return cleanProj4(ext[1]);
  return null;
}

/** Ellipsoid / datum part of a user-defined CRS, from the geographic geokeys. */
async function datumProj4(keys: GeoKeys): Promise<string> {
  const gcs = num(keys, 'GeographicTypeGeoKey');
  if (gcs !== undefined && gcs !== USER_DEFINED) {
    const rec = await lookupEpsg(gcs);
    const m = rec?.proj4 ? /(\+datum=\S+|\+ellps=\S+(?:\s+\+towgs84=\S+)?)/.exec(rec.proj4) : null;
    if (m?.[1]) return m[1];
  }
  const a = num(keys, 'GeogSemiMajorAxisGeoKey');
  const b = num(keys, 'GeogSemiMinorAxisGeoKey');
  const invF = num(keys, 'GeogInvFlatteningGeoKey');
  if (a !== undefined && b !== undefined) return `+a=${a} +b=${b}`;
  if (a !== undefined && invF !== undefined) return invF === 0 ? `+a=${a} +b=${a}` : `+a=${a} +rf=${invF}`;
  return '+datum=WGS84';
}

/**
 * User-defined projected CRS from the ProjCoordTrans geokeys (GeoTIFF spec codes). Only the projections that
 * remote-sensing products commonly write are mapped; anything else stays unknown rather than guessed.
 */
async function proj4FromProjectionKeys(keys: GeoKeys): Promise<string | null> {
  const ct = num(keys, 'ProjCoordTransGeoKey');
  if (ct === undefined) return null;
  const g = (n: string, d = 0): number => num(keys, n) ?? d;
  const lon0 = g('ProjNatOriginLongGeoKey', g('ProjCenterLongGeoKey', g('ProjFalseOriginLongGeoKey')));
  const lat0 = g('ProjNatOriginLatGeoKey', g('ProjCenterLatGeoKey', g('ProjFalseOriginLatGeoKey')));
  const x0 = g('ProjFalseEastingGeoKey', g('ProjFalseOriginEastingGeoKey'));
  const y0 = g('ProjFalseNorthingGeoKey', g('ProjFalseOriginNorthingGeoKey'));
  const k0 = g('ProjScaleAtNatOriginGeoKey', g('ProjScaleAtCenterGeoKey', 1));
  const lat1 = g('ProjStdParallel1GeoKey');
  const lat2 = g('ProjStdParallel2GeoKey');
  const common = `+x_0=${x0} +y_0=${y0}`;
  let p: string;
  switch (ct) {
    case 1: // TransverseMercator
      p = `+proj=tmerc +lat_0=${lat0} +lon_0=${lon0} +k=${k0} ${common}`;
      break;
    case 7: // Mercator
      p = `+proj=merc +lon_0=${lon0} +k=${k0} ${common}`;
      break;
    case 8: // LambertConfConic_2SP
      p = `+proj=lcc +lat_1=${lat1} +lat_2=${lat2} +lat_0=${lat0} +lon_0=${lon0} ${common}`;
      break;
    case 9: // LambertConfConic_1SP
      p = `+proj=lcc +lat_1=${lat0} +lat_0=${lat0} +lon_0=${lon0} +k_0=${k0} ${common}`;
      break;
    case 10: // LambertAzimEqualArea
      p = `+proj=laea +lat_0=${lat0} +lon_0=${lon0} ${common}`;
      break;
    case 11: // AlbersEqualArea
      p = `+proj=aea +lat_1=${lat1} +lat_2=${lat2} +lat_0=${lat0} +lon_0=${lon0} ${common}`;
      break;
    case 15: // PolarStereographic
      p = `+proj=stere +lat_0=${lat0 >= 0 ? 90 : -90} +lat_ts=${lat0} +lon_0=${g('ProjStraightVertPoleLongGeoKey', lon0)} +k=${k0} ${common}`;
      break;
    case 17: // Equirectangular
      p = `+proj=eqc +lat_ts=${lat1 || lat0} +lon_0=${lon0} ${common}`;
      break;
    case 24: // Sinusoidal
      p = `+proj=sinu +lon_0=${lon0} ${common}`;
      break;
    default:
      return null;
  }
  return `${p} ${await datumProj4(keys)} +units=m +no_defs`;
}

/**
 * CRS of a GeoTIFF from its geokeys. EPSG codes resolve through the offline epsg-index table; user-defined
 * CRSs through an embedded WKT's PROJ4 extension, the WKT itself, or the projection geokeys. Never touches the network.
 */
export async function crsFromGeoKeys(keys: GeoKeys | null): Promise<Crs | null> {
  if (!keys) return null;
  const model = num(keys, 'GTModelTypeGeoKey');
  const pcs = num(keys, 'ProjectedCSTypeGeoKey');
  const gcs = num(keys, 'GeographicTypeGeoKey');
  const code =
    pcs !== undefined && pcs !== USER_DEFINED && pcs > 0
      ? pcs
      : model !== 1 && gcs !== undefined && gcs !== USER_DEFINED && gcs > 0
        ? gcs
        : undefined;
  if (code !== undefined) {
    const rec = await lookupEpsg(code);
    if (rec?.proj4) {
      return { epsg: code, name: rec.name, proj4: cleanProj4(rec.proj4), wkt: rec.wkt };
    }
  }
  const wkt = wktFromCitations(keys);
  const name = str(keys, 'GTCitationGeoKey')?.replace(/\|+$/, '') ?? null;
  if (wkt) {
    const fromExt = proj4FromWkt(wkt);
    if (fromExt && proj4Usable(fromExt)) return { epsg: null, name, proj4: fromExt, wkt };
    if (proj4Usable(wkt)) return { epsg: null, name, proj4: wkt, wkt };
  }
  if (model === 1) {
    const p = await proj4FromProjectionKeys(keys);
    if (p && proj4Usable(p)) return { epsg: null, name, proj4: p, wkt };
  }
  if (model === 2) {
    const p = `+proj=longlat ${await datumProj4(keys)} +no_defs`;
    if (proj4Usable(p)) return { epsg: null, name, proj4: p, wkt };
  }
  return wkt ? { epsg: null, name, proj4: null, wkt } : null;
}
