import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/database.js';
import { CaseRepository, type NewMask } from '../../db/repository.js';
import { encodeRle, maskBounds, vectorizeMask, type BinaryMask } from '../analysis/maskVectorizer.js';
import { cMask, iou, ringMask } from '../analysis/testMasks.js';
import type { ImageryService } from '../imagery/imageryService.js';
import { remeasureCase } from '../masks/measure.js';
import { describeWithData } from '../testing/data.js';
import { reportCase } from '../testing/reportFixture.js';
import { ReportService } from './reportService.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const PLAIN = 'imagery/thermal_ir_uav/0_60_30_0_01614.jpg';
/** a second EPSG (Web Mercator) and a CRS with no EPSG code (geostationary), for a case over several CRSs */
const MERCATOR = 'imagery/optical_3857/cogeo.tif';
const GEOS = 'imagery/crs_edge/goes.tif';
const N = 64;
/** model-grid cells are 2×2 image pixels at an integer origin: the mask at image resolution is exact */
const CELL = 2;

interface Placed { id: string; mask: BinaryMask; x0: number; y0: number }

function storeMask(repo: CaseRepository, base: Omit<NewMask, 'bbox' | 'rle' | 'polygons' | 'areaPx' | 'phrase' | 'score'>, mask: BinaryMask, x0: number, y0: number, phrase: string | null, score: number): string {
  const placement = { x0, y0, sx: CELL, sy: CELL };
  const b = maskBounds(mask) ?? [0, 0, 0, 0];
  const area = mask.data.reduce((t, v) => t + v, 0);
  return repo.addMask({
    ...base,
    phrase,
    score,
    bbox: [x0 + b[0] * CELL, y0 + b[1] * CELL, x0 + b[2] * CELL, y0 + b[3] * CELL],
    rle: { width: mask.width, height: mask.height, origin: [x0, y0], runs: encodeRle(mask) },
    polygons: vectorizeMask(mask, placement),
    areaPx: area * CELL * CELL,
  }).id;
}

/** The mask at image resolution over the window [wx, wy, wx+ww, wy+wh). */
function maskOnImageGrid(p: Placed, wx: number, wy: number, ww: number, wh: number): Uint8Array {
  const out = new Uint8Array(ww * wh);
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    const i = Math.floor((wx + x - p.x0) / CELL);
    const j = Math.floor((wy + y - p.y0) / CELL);
    if (i >= 0 && j >= 0 && i < N && j < N && p.x0 + i * CELL >= 0 && p.y0 + j * CELL >= 0) out[y * ww + x] = p.mask.data[j * N + i]!;
  }
  return out;
}

describeWithData('reports: GeoJSON, GeoPackage and PDF from a stored case, checked with GDAL and poppler', [IMAGE, PLAIN, MERCATOR, GEOS], ([file, plainFile, mercatorFile, geosFile]) => {
  let dir: string;
  let db: Db;
  let repo: CaseRepository;
  let imagery: ImageryService;
  let service: ReportService;
  let sessionId: string;
  let gt: number[];
  const placed: Placed[] = [];
  let emptyId: string;

  let fx: Awaited<ReturnType<typeof reportCase>>;

  beforeAll(async () => {
    fx = await reportCase('vantage-reports-', 'Harbour survey', file!);
    ({ dir, db, repo, imagery, service, sessionId } = fx);
    const { facts, imageId } = fx;
    gt = facts.geotransform!;
    const q = repo.addQuestion({ sessionId, imageId, text: 'outline the <region1> features', regions: [{ geometry: { kind: 'box', x0: 280, y0: 180, x1: 560, y1: 460 }, wgs84: null }] });
    repo.finishTurn(q.assistantTurnId, { text: 'a ring <SEG> and a C <SEG>, one at the edge <SEG>', status: 'complete', durationMs: 12, pack: { name: 'test-pack', version: '0.1.0', sha256: 'ab'.repeat(32), signature: 'trusted: Survey unit (0123456789abcdef)' }, provider: 'cpu' });
    const base = { turnId: q.assistantTurnId, imageId, regionId: q.regions[0]!.id };
    const ring = ringMask(N, 28, 14);
    const c = cMask(N, 28, 12);
    placed.push({ id: storeMask(repo, base, ring, 300, 200, 'ring', 0.91), mask: ring, x0: 300, y0: 200 });
    placed.push({ id: storeMask(repo, base, c, 420, 330, 'C shape', 0.82), mask: c, x0: 420, y0: 330 });
    // reaches past the left edge: exported clipped, flagged as a lower bound
    placed.push({ id: storeMask(repo, base, ringMask(N, 28, 0), -30, 500, 'edge blob', 0.7), mask: ringMask(N, 28, 0), x0: -30, y0: 500 });
    emptyId = storeMask(repo, base, { width: N, height: N, data: new Uint8Array(N * N) }, 100, 100, 'nothing', 0.1);
    // outlines as the app stores them: measured once from the raster, clipped to the image
    remeasureCase(repo, sessionId);
  });

  afterAll(() => fx.close());

  it('lists measured objects with geodesic areas; empty and edge masks are explained', () => {
    const { objects } = service.objects(sessionId);
    expect(objects).toHaveLength(4);
    const [ring, , edge, empty] = objects;
    expect(ring!.label).toBe('ring');
    expect(ring!.areaM2! / (ring!.areaPx * 300.04 * 300.04)).toBeGreaterThan(0.99);
    expect(ring!.areaM2! / (ring!.areaPx * 300.04 * 300.04)).toBeLessThan(1.01);
    expect(ring!.perimeterM).toBeGreaterThan(0);
    expect(ring!.regionKind).toBe('box');
    expect(edge!.touchesEdge).toBe(true);
    expect(edge!.notes.join()).toMatch(/image edge/);
    expect(empty!.problem).toMatch(/empty/);
  });

  it('GeoJSON: RFC 7946 WGS84, provenance attributes, each polygon lands on its mask (gdal_rasterize, IoU ≥ 0.99)', async () => {
    const out = path.join(dir, 'geojson');
    execFileSync('mkdir', ['-p', out]);
    const r = await service.export({ sessionId, kind: 'geojson', folderPath: out, simplifyM: 0 });
    expect(r.featureCount).toBe(3);
    const f = path.join(out, r.fileName);
    const info = execFileSync('ogrinfo', ['-so', '-al', f], { encoding: 'utf8' });
    expect(info).toMatch(/Feature Count: 3/);
    expect(info).toMatch(/WGS 84/);
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { features: { properties: Record<string, unknown> }[] };
    const p = doc.features[0]!.properties;
    expect(p).toMatchObject({ label: 'ring', session_name: 'Harbour survey', region_kind: 'box', image_name: 'RGB.byte.tif', pack_name: 'test-pack', pack_version: '0.1.0', pack_signature: 'trusted: Survey unit (0123456789abcdef)', provider: 'cpu', answer_seq: 2 });
    expect(p.image_sha256).toBe('d7cbe932c7ed74a627706a9e9df99f706df3e5abc7d45a49e9d00677a6b09eb4');
    expect(p.region_geometry).toContain('"box"');
    expect(p.question).toContain('<region 1>'); // region tokens as the user sees them (contract/modelText.ts)
    // GDAL reprojects to the image CRS, then burns each feature onto the image's own pixel grid
    const utm = path.join(dir, 'back.gpkg');
    execFileSync('ogr2ogr', ['-t_srs', 'EPSG:32618', '-f', 'GPKG', utm, f]);
    for (const m of placed) checkIou(utm, m, 'mask_id');
  });

  it('GeoPackage: OGC layer in the image CRS (EPSG:32618), attributes, IoU ≥ 0.99 per polygon', async () => {
    const out = path.join(dir, 'gpkg');
    execFileSync('mkdir', ['-p', out]);
    const r = await service.export({ sessionId, kind: 'gpkg', folderPath: out, simplifyM: 0 });
    const f = path.join(out, r.fileName);
    const run = (args: string[]) => execFileSync('ogrinfo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const info = run(['-so', '-al', f]);
    expect(info).toMatch(/Layer name: vantage_harbour_survey_/);
    expect(info).toMatch(/Geometry: Multi Polygon/);
    expect(info).toMatch(/Feature Count: 3/);
    expect(info).toMatch(/ID\["EPSG",32618\]/);
    for (const field of ['label', 'score', 'area_m2', 'area_ha', 'perimeter_m', 'pack_sha256', 'pack_signature', 'provider', 'image_sha256', 'region_kind', 'created_at']) {
      expect(info).toContain(`${field}: `);
    }
    const dump = JSON.parse(execFileSync('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', f], { encoding: 'utf8' })) as { crs: { properties: { name: string } }; features: { properties: Record<string, unknown> }[] };
    expect(dump.crs.properties.name).toMatch(/EPSG::32618/);
    expect(dump.features.map((x) => x.properties.label)).toEqual(['ring', 'C shape', 'edge blob']);
    // application id 'GPKG' and version 1.3 in the SQLite header
    const header = readFileSync(f).subarray(60, 72);
    expect(header.readUInt32BE(0)).toBe(10300);
    expect(header.readUInt32BE(8)).toBe(0x47504b47);
    for (const m of placed) checkIou(f, m, 'mask_id');
  });

  it('PDF: map, legend, objects with areas, conversation, metadata and attribution; the same case gives the same text', async () => {
    const out = path.join(dir, 'pdf');
    execFileSync('mkdir', ['-p', out]);
    const a = await service.export({ sessionId, kind: 'pdf', folderPath: out, simplifyM: 0, analyst: 'R. Analyst' });
    const text = execFileSync('pdftotext', ['-layout', path.join(out, a.fileName), '-'], { encoding: 'utf8' });
    for (const s of ['Vantage report: Harbour survey', 'R. Analyst', 'Legend', 'region prompt', 'Objects', 'ring', 'C shape', 'ha', 'Conversation',
      'outline the <region 1> features', 'EPSG:32618', 'WGS 84 / UTM zone 18N', 'test-pack 0.1.0', 'trusted: Survey', 'Execution provider: cpu', 'U.S. Geological Survey', 'reaches image edge']) {
      expect(text).toContain(s);
    }
    execFileSync('pdftoppm', ['-png', '-r', process.env.VANTAGE_KEEP_PDF ? '110' : '60', '-f', '1', '-l', '1', path.join(out, a.fileName), path.join(out, 'page')]);
    const png = readdirSync(out).find((n) => n.startsWith('page') && n.endsWith('.png'));
    expect(png).toBeDefined();
    if (process.env.VANTAGE_KEEP_PDF) execFileSync('cp', [path.join(out, png!), path.join(out, a.fileName), process.env.VANTAGE_KEEP_PDF]);
    // reopened case (fresh service over the same database): the same report text
    const again = await new ReportService(new CaseRepository(db), imagery, 'test').export({ sessionId, kind: 'pdf', folderPath: out, simplifyM: 0, analyst: 'R. Analyst' });
    const text2 = execFileSync('pdftotext', ['-layout', path.join(out, again.fileName), '-'], { encoding: 'utf8' });
    const strip = (s: string) => s.replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/g, '');
    expect(strip(text2)).toBe(strip(text));
    // stored in the case and re-exportable byte for byte
    const list = service.list(sessionId);
    expect(list.map((x) => x.kind)).toContain('pdf');
    const re = service.rewrite(a.id, path.join(dir, 'geojson'));
    expect(readFileSync(path.join(dir, 'geojson', re.fileName))).toEqual(readFileSync(path.join(out, a.fileName)));
  });

  it('refuses an empty mask with a clear message and writes nothing', async () => {
    const out = path.join(dir, 'refused');
    execFileSync('mkdir', ['-p', out]);
    await expect(service.export({ sessionId, kind: 'gpkg', folderPath: out, simplifyM: 0, maskIds: [placed[0]!.id, emptyId] })).rejects.toThrow(/empty.*nothing to export/);
    expect(readdirSync(out)).toEqual([]);
    await expect(service.export({ sessionId, kind: 'geojson', folderPath: path.join(dir, 'no-such-folder'), simplifyM: 0 })).rejects.toThrow(/does not exist/);
    expect(existsSync(path.join(dir, 'no-such-folder'))).toBe(false);
  });

  it('an image without georeferencing exports pixel coordinates and pixel areas, and says so', async () => {
    const sid = repo.createSession('Thermal frame').id;
    const facts = await imagery.inspect(plainFile!);
    expect(facts.georeferenced).toBe(false);
    const { id: imageId } = repo.addImage(sid, { path: plainFile!, sha256: facts.sha256, sizeBytes: 1, facts });
    const q = repo.addQuestion({ sessionId: sid, imageId, text: 'the warm blob', regions: [] });
    repo.finishTurn(q.assistantTurnId, { text: 'here <SEG>', status: 'complete', durationMs: 1, pack: null, provider: 'cpu' });
    storeMask(repo, { turnId: q.assistantTurnId, imageId, regionId: null }, ringMask(N, 28, 14), 200, 100, 'blob', 0.5);
    const [o] = service.objects(sid).objects;
    expect(o!.areaM2).toBeNull();
    expect(o!.areaPx).toBe(ringMask(N, 28, 14).data.reduce((t, v) => t + v, 0) * CELL * CELL);
    const out = path.join(dir, 'plain');
    execFileSync('mkdir', ['-p', out]);
    const gj = await service.export({ sessionId: sid, kind: 'geojson', folderPath: out, simplifyM: 0 });
    const doc = JSON.parse(readFileSync(path.join(out, gj.fileName), 'utf8')) as Record<string, unknown> & { features: { properties: { coordinates: string } }[] };
    expect(doc['vantage:coordinates']).toMatch(/image pixels/);
    expect(doc.features[0]!.properties.coordinates).toMatch(/no georeferencing/);
    const gp = await service.export({ sessionId: sid, kind: 'gpkg', folderPath: out, simplifyM: 0 });
    const info = execFileSync('ogrinfo', ['-so', '-al', path.join(out, gp.fileName)], { encoding: 'utf8' });
    expect(info).toContain('Feature Count: 1');
    // the ring spans cells 4…60 of 2 px at origin (200, 100): columns 208…320, rows 108…220 → y = −row
    expect(info).toContain('Extent: (208.000000, -220.000000) - (320.000000, -108.000000)');
    expect(info).toMatch(/image pixel coordinates/);
    const pdf = await service.export({ sessionId: sid, kind: 'pdf', folderPath: out, simplifyM: 0 });
    const text = execFileSync('pdftotext', ['-layout', path.join(out, pdf.fileName), '-'], { encoding: 'utf8' });
    expect(text).toContain('px²');
    expect(text).toContain('not georeferenced');
    expect(text).toContain('HIT-UAV');
  });

  it('GeoPackage over images in several CRSs: one file, one layer per CRS with its own SRS and extent, IoU ≥ 0.99 per polygon', async () => {
    const sid = repo.createSession('Two zones').id;
    /** one image of the case with its masks; what the layer of its CRS must hold */
    const onImage = async (imageFile: string, masks: { mask: BinaryMask; x0: number; y0: number; label: string }[]) => {
      const facts = await imagery.inspect(imageFile);
      const { id: imageId } = repo.addImage(sid, { path: imageFile, sha256: facts.sha256, sizeBytes: 1, facts });
      const q = repo.addQuestion({ sessionId: sid, imageId, text: 'outline them', regions: [] });
      repo.finishTurn(q.assistantTurnId, { text: masks.map(() => '<SEG>').join(' '), status: 'complete', durationMs: 1, pack: null, provider: 'cpu' });
      const base = { turnId: q.assistantTurnId, imageId, regionId: null };
      const placedHere = masks.map((x): Placed => ({ id: storeMask(repo, base, x.mask, x.x0, x.y0, x.label, 0.8), mask: x.mask, x0: x.x0, y0: x.y0 }));
      return { facts, placed: placedHere, gt: facts.geotransform ?? [0, 1, 0, 0, 0, -1] };
    };
    const utm = await onImage(file!, [{ mask: ringMask(N, 28, 14), x0: 300, y0: 200, label: 'utm ring' }, { mask: cMask(N, 28, 12), x0: 420, y0: 330, label: 'utm C' }]);
    const merc = await onImage(mercatorFile!, [{ mask: cMask(N, 28, 12), x0: 300, y0: 400, label: 'mercator C' }]);
    const geos = await onImage(geosFile!, [{ mask: ringMask(N, 28, 14), x0: 210, y0: 200, label: 'disk ring' }]);
    const plain = await onImage(plainFile!, [{ mask: ringMask(N, 28, 14), x0: 200, y0: 100, label: 'frame ring' }]);
    expect(merc.facts.crs?.epsg).toBe(3857);
    expect(geos.facts.crs?.epsg ?? null).toBeNull();
    expect(plain.facts.georeferenced).toBe(false);

    const out = path.join(dir, 'multi-crs');
    execFileSync('mkdir', ['-p', out]);
    const r = await service.export({ sessionId: sid, kind: 'gpkg', folderPath: out, simplifyM: 0 });
    expect(r.featureCount).toBe(5);
    const f = path.join(out, r.fileName);
    expect(readdirSync(out)).toEqual([r.fileName]);
    const info = execFileSync('ogrinfo', ['-so', '-al', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const layers = new Map(info.split(/^Layer name: /m).slice(1).map((sec) => [sec.slice(0, sec.indexOf('\n')).trim(), sec]));
    const base = [...layers.keys()].find((n) => /^vantage_two_zones_[a-z0-9]+$/.test(n))!;
    expect(base).toBeDefined();
    const expected = [
      { table: base, count: 2, srs: /ID\["EPSG",32618\]/, img: utm },
      { table: `${base}_epsg3857`, count: 1, srs: /ID\["EPSG",3857\]/, img: merc },
      { table: `${base}_goes_tif`, count: 1, srs: /Geostationary Satellite/, img: geos },
      { table: `${base}_pixels`, count: 1, srs: /Undefined Cartesian SRS/, img: plain },
    ];
    expect([...layers.keys()].sort()).toEqual(expected.map((e) => e.table).sort());
    for (const e of expected) {
      const sec = layers.get(e.table)!;
      expect(sec).toContain(`Feature Count: ${e.count}`);
      expect(sec).toMatch(e.srs);
      expect(sec).toMatch(/Geometry: Multi Polygon/);
    }
    // each table has its own srs_id and extent in gpkg_contents / gpkg_geometry_columns
    const sql = (q: string) => execFileSync('ogrinfo', ['-q', '-ro', f, '-sql', q], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const rows = sql('SELECT c.table_name, c.srs_id, g.srs_id AS geom_srs, s.organization, c.min_x, c.min_y, c.max_x, c.max_y FROM gpkg_contents c JOIN gpkg_geometry_columns g USING (table_name) JOIN gpkg_spatial_ref_sys s ON s.srs_id = c.srs_id')
      .split(/^OGRFeature\(SELECT\):\d+$/m).slice(1)
      .map((block) => Object.fromEntries([...block.matchAll(/^\s+(\w+) \(\w+\) = (.*)$/gm)].map((x) => [x[1]!, x[2]!])));
    const byTable = new Map(rows.map((row) => [row.table_name, row]));
    const srsIds: [string, string, string][] = [[base, '32618', 'EPSG'], [`${base}_epsg3857`, '3857', 'EPSG'], [`${base}_goes_tif`, '100000', 'NONE'], [`${base}_pixels`, '-1', 'NONE']];
    for (const [table, srsId, org] of srsIds) expect(byTable.get(table)).toMatchObject({ srs_id: srsId, geom_srs: srsId, organization: org });
    // each extent lies in its own CRS: the UTM one within the image's bounds, the Mercator one within its own
    const inside = (table: string, img: { facts: { width: number; height: number }; gt: number[] }) => {
      const row = byTable.get(table)!;
      const [x0, sx, , y0, , sy] = img.gt as [number, number, number, number, number, number];
      expect(Number(row.min_x)).toBeGreaterThanOrEqual(x0);
      expect(Number(row.max_x)).toBeLessThanOrEqual(x0 + img.facts.width * sx);
      expect(Number(row.max_y)).toBeLessThanOrEqual(y0);
      expect(Number(row.min_y)).toBeGreaterThanOrEqual(y0 + img.facts.height * sy);
    };
    inside(base, utm);
    inside(`${base}_epsg3857`, merc);
    // the pixel layer keeps what a non-georeferenced export writes: x = column, y = −row
    expect(layers.get(`${base}_pixels`)).toContain('Extent: (208.000000, -220.000000) - (320.000000, -108.000000)');
    for (const e of expected) for (const m of e.img.placed) checkIou(f, m, 'mask_id', { gt: e.img.gt, layer: e.table });
  });

  /**
   * gdal_rasterize the feature onto the image's grid around the mask; compare with the mask at image resolution.
   * `grid.gt` is the image's geotransform (the case image's by default), `grid.layer` the layer to read when the file has several.
   */
  function checkIou(vectorFile: string, m: Placed, idField: string, grid: { gt: number[]; layer?: string } = { gt }): void {
    const gt = grid.gt;
    const wx = Math.max(0, m.x0 - 4);
    const wy = Math.max(0, m.y0 - 4);
    const ww = N * CELL + 8;
    const wh = N * CELL + 8;
    const tif = path.join(dir, `burn-${m.id}.tif`);
    const raw = path.join(dir, `burn-${m.id}.bin`);
    const te = [gt[0]! + wx * gt[1]!, gt[3]! + (wy + wh) * gt[5]!, gt[0]! + (wx + ww) * gt[1]!, gt[3]! + wy * gt[5]!];
    execFileSync('gdal_rasterize', ['-q', '-burn', '1', '-ot', 'Byte', '-init', '0', ...(grid.layer ? ['-l', grid.layer] : []), '-where', `${idField}='${m.id}'`, '-te', ...te.map(String), '-ts', String(ww), String(wh), vectorFile, tif]);
    execFileSync('gdal_translate', ['-q', '-of', 'ENVI', tif, raw]);
    const burnt = new Uint8Array(readFileSync(raw));
    const expected = maskOnImageGrid(m, wx, wy, ww, wh);
    expect(burnt.reduce((t, v) => t + v, 0)).toBeGreaterThan(100);
    expect(iou(burnt, expected)).toBeGreaterThanOrEqual(0.99);
  }
});
