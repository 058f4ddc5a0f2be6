import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Position } from 'geojson';
import type { CaseObject, CaseSnapshot } from './caseObjects.js';
import { ATTRIBUTE_TYPES, attributesOf, type FeatureAttributes } from './provenance.js';

/** 'GPKG' in the SQLite header (OGC 12-128r18 §1.1.1.1.1). */
export const GPKG_APPLICATION_ID = 0x47504b47;
/** GeoPackage 1.3 */
export const GPKG_USER_VERSION = 10300;
/** srs_id for a CRS with no EPSG code: user-defined ids start above EPSG's range */
const CUSTOM_SRS_ID = 100000;

const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],' +
  'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],' +
  'AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]';

/** Layer (table) name for a case: letters, digits and underscores, stable for the case. */
export function layerName(snapshot: CaseSnapshot): string {
  const slug = snapshot.session.name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'case';
  return `vantage_${slug}_${snapshot.session.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toLowerCase()}`;
}

/**
 * Writes a GeoPackage (OGC 12-128r18) with one feature layer per CRS, geometries in their image's own CRS (never
 * reprojected). Objects of a single CRS give one layer named `layerName(snapshot)`; when the objects lie on images in
 * several CRSs, the first CRS met keeps that name and each further one gets its own table (see `planLayers`).
 * Returns the file's bytes; the caller stores and writes them atomically.
 */
export function buildGeopackage(snapshot: CaseSnapshot, objects: CaseObject[]): Uint8Array {
  const dir = mkdtempSync(path.join(tmpdir(), 'vantage-gpkg-'));
  const file = path.join(dir, 'out.gpkg');
  try {
    const db = new Database(file);
    try {
      writeInto(db, snapshot, objects);
    } finally {
      db.close();
    }
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Srs {
  id: number;
  name: string;
  organization: string;
  orgId: number;
  definition: string;
}

/** One feature table of the GeoPackage: the objects that share a CRS. */
export interface GpkgLayer {
  table: string;
  srs: Srs;
  /** pixel coordinates (x = column, y = -row): the images have no georeferencing */
  pixels: boolean;
  objects: CaseObject[];
}

const PIXELS: Srs = { id: -1, name: 'Undefined cartesian SRS', organization: 'NONE', orgId: -1, definition: 'undefined' };

function hasCrs(o: CaseObject): boolean {
  return o.summary.georeferenced && o.image.info.crs !== null;
}

/** Objects share a layer when they share an EPSG code, else the same CRS definition; all pixel-coordinate objects share one. */
function crsKey(o: CaseObject): string {
  if (!hasCrs(o)) return 'pixels';
  const crs = o.image.info.crs!;
  return crs.epsg ? `epsg:${crs.epsg}` : `def:${crs.wkt ?? crs.proj4 ?? ''}`;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
}

/**
 * Groups the objects by CRS, in the order the CRSs are first met. The first layer is named `layerName(snapshot)` (a
 * single-CRS case keeps exactly that name); further ones get a suffix a user can read: `_epsg<code>`, the first
 * image's name for a CRS without EPSG code, or `_pixels` for images without georeferencing.
 */
export function planLayers(snapshot: CaseSnapshot, objects: CaseObject[]): GpkgLayer[] {
  const base = layerName(snapshot);
  const groups = new Map<string, CaseObject[]>();
  for (const o of objects) {
    const k = crsKey(o);
    const g = groups.get(k);
    if (g) g.push(o);
    else groups.set(k, [o]);
  }
  if (groups.size === 0) return [{ table: base, srs: PIXELS, pixels: true, objects: [] }];
  const used = new Set<string>();
  let customId = CUSTOM_SRS_ID;
  return [...groups.values()].map((group, i) => {
    const first = group[0]!;
    const crs = first.image.info.crs;
    let srs: Srs;
    let suffix: string;
    if (!hasCrs(first) || !crs) {
      srs = PIXELS;
      suffix = 'pixels';
    } else if (crs.epsg) {
      srs = { id: crs.epsg, name: crs.name ?? `EPSG:${crs.epsg}`, organization: 'EPSG', orgId: crs.epsg, definition: crs.wkt ?? 'undefined' };
      suffix = `epsg${crs.epsg}`;
    } else {
      const id = customId++;
      srs = { id, name: crs.name ?? 'image CRS', organization: 'NONE', orgId: id, definition: crs.wkt ?? 'undefined' };
      suffix = slug(first.summary.imageName) || 'image';
    }
    let table = i === 0 ? base : `${base}_${suffix}`;
    for (let n = 2; used.has(table); n++) table = `${base}_${suffix}_${n}`;
    used.add(table);
    return { table, srs, pixels: srs.id === -1, objects: group };
  });
}

function writeInto(db: Database.Database, snapshot: CaseSnapshot, objects: CaseObject[]): void {
  const layers = planLayers(snapshot, objects);
  db.pragma(`application_id = ${GPKG_APPLICATION_ID}`);
  db.pragma(`user_version = ${GPKG_USER_VERSION}`);
  db.exec(`
    CREATE TABLE gpkg_spatial_ref_sys (
      srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
      organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
    CREATE TABLE gpkg_contents (
      table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
      last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
      max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
    CREATE TABLE gpkg_geometry_columns (
      table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
      z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
      CONSTRAINT uk_gc_table_name UNIQUE (table_name),
      CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
      CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
  `);
  const insSrs = db.prepare('INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)');
  insSrs.run('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system');
  insSrs.run('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
  insSrs.run('WGS 84 geodetic', 4326, 'EPSG', 4326, WGS84_WKT, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
  const written = new Set([-1, 0, 4326]);
  for (const { srs } of layers) {
    if (written.has(srs.id)) continue;
    written.add(srs.id);
    insSrs.run(srs.name, srs.id, srs.organization, srs.orgId, srs.definition, 'CRS of the source image');
  }

  const cols = Object.entries(ATTRIBUTE_TYPES).map(([k, t]) => `"${k}" ${t}`).join(', ');
  const names = Object.keys(ATTRIBUTE_TYPES) as (keyof FeatureAttributes)[];
  const insContents = db.prepare('INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insColumn = db.prepare('INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)');
  db.transaction(() => {
    for (const { table, srs, pixels, objects: group } of layers) {
      db.exec(`CREATE TABLE "${table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON, ${cols})`);
      const ins = db.prepare(`INSERT INTO "${table}" (geom, ${names.map((n) => `"${n}"`).join(', ')}) VALUES (?, ${names.map(() => '?').join(', ')})`);
      let env = [Infinity, Infinity, -Infinity, -Infinity];
      for (const o of group) {
        const g = o.geometry!;
        const coords: Position[][][] = g.crs ?? g.pixel.map((p) => p.map((r) => r.map(([x, y]) => [x, -y])));
        const blob = geometryBlob(coords, srs.id);
        env = [Math.min(env[0]!, blob.envelope[0]), Math.min(env[1]!, blob.envelope[1]), Math.max(env[2]!, blob.envelope[2]), Math.max(env[3]!, blob.envelope[3])];
        const a = attributesOf(o, snapshot);
        ins.run(blob.bytes, ...names.map((n) => a[n]));
      }
      const description = pixels
        ? `Vantage objects of case "${snapshot.session.name}" in image pixel coordinates (x = column, y = -row): the image has no georeferencing`
        : `Vantage objects of case "${snapshot.session.name}" in the source image's CRS${layers.length > 1 ? ` (${srs.organization === 'EPSG' ? `EPSG:${srs.orgId}` : srs.name})` : ''}`;
      insContents.run(table, 'features', table, description, ...(group.length ? env : [null, null, null, null]), srs.id);
      insColumn.run(table, 'geom', 'MULTIPOLYGON', srs.id);
    }
  })();
}

/**
 * GeoPackageBinary: "GP", version 0, flags (little-endian, XY envelope), srs_id, envelope [minx, maxx, miny, maxy],
 * then ISO WKB (little-endian MultiPolygon).
 */
export function geometryBlob(polys: Position[][][], srsId: number): { bytes: Buffer; envelope: [number, number, number, number] } {
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  let size = 9; // byte order + type + count
  for (const p of polys) {
    size += 9;
    for (const r of p) {
      size += 4 + r.length * 16;
      for (const [x, y] of r) {
        if (x! < minx) minx = x!;
        if (x! > maxx) maxx = x!;
        if (y! < miny) miny = y!;
        if (y! > maxy) maxy = y!;
      }
    }
  }
  const header = 8 + 32;
  const b = Buffer.alloc(header + size);
  b.write('GP', 0, 'latin1');
  b.writeUInt8(0, 2);
  b.writeUInt8(0b0000_0011, 3); // bit 0: little-endian; bits 1-3 = 1: envelope [minx, maxx, miny, maxy]
  b.writeInt32LE(srsId, 4);
  b.writeDoubleLE(minx, 8);
  b.writeDoubleLE(maxx, 16);
  b.writeDoubleLE(miny, 24);
  b.writeDoubleLE(maxy, 32);
  let o = header;
  b.writeUInt8(1, o); o += 1;
  b.writeUInt32LE(6, o); o += 4; // MultiPolygon
  b.writeUInt32LE(polys.length, o); o += 4;
  for (const p of polys) {
    b.writeUInt8(1, o); o += 1;
    b.writeUInt32LE(3, o); o += 4; // Polygon
    b.writeUInt32LE(p.length, o); o += 4;
    for (const r of p) {
      b.writeUInt32LE(r.length, o); o += 4;
      for (const [x, y] of r) {
        b.writeDoubleLE(x!, o); o += 8;
        b.writeDoubleLE(y!, o); o += 8;
      }
    }
  }
  return { bytes: b, envelope: [minx, miny, maxx, maxy] };
}
