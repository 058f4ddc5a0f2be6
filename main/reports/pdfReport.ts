import PDFDocument from 'pdfkit';
import { pointsBounds } from '../contract/geometry.js';
import { createPixelTransform, type PixelTransform, type XY } from '../contract/georef.js';
import type { ImageryPort } from '../imagery/imageryPort.js';
import { geodesicDistance } from '../analysis/polygonGeoreference.js';
import type { CaseObject, CaseSnapshot } from './caseObjects.js';
import { attributionLines } from './dataAttribution.js';
import type { ReportExtent } from '../contract/calls/reports.js';
import { VantageError } from '../contract/errors.js';
import { caseChanges, type CaseChange } from './caseChanges.js';
import { caseExtent, extentRect, matchingRect, renderSnapshot, type Rect } from './mapSnapshot.js';
import { cleanModelText } from '../contract/modelText.js';

export interface PdfOptions {
  title: string;
  analyst: string;
  /** ISO time the report is dated: fixed by the caller so the same case gives the same document */
  createdAt: string;
  appVersion: string;
  /** the map snapshot's extent */
  extent: ReportExtent;
}

const PAGE = { w: 595.28, h: 841.89, m: 42 };
const INK = '#1d1d1f';
const MUTED = '#6e6e73';

/** Standard PDF fonts speak WinAnsi: map what we can, replace the rest, so no glyph comes out as garbage. */
export function pdfText(s: string): string {
  return s
    .replace(/[\u2212\u2013\u2014]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u2192/g, '->')
    .replace(/\t/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[^\u0020-\u007e\u00a0-\u00ff\u2026]/g, '?'))
    .join('\n');
}

function fmtArea(o: CaseObject): string {
  const s = o.summary;
  if (s.areaM2 === null) return `${Math.round(s.areaPx).toLocaleString('en-US')} px²`;
  return s.areaM2 >= 10_000 ? `${s.areaHa!.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })} ha` : `${Math.round(s.areaM2).toLocaleString('en-US')} m²`;
}

/** Builds the case report: map with masks and prompts, legend, scale, north, grid; objects; conversation; metadata. */
export async function buildPdf(snapshot: CaseSnapshot, objects: CaseObject[], imagery: ImageryPort, opts: PdfOptions): Promise<Uint8Array> {
  // the map image and extent first: a bad extent stops the report before anything is drawn
  const ext = opts.extent;
  let image = objects[0]?.image ?? snapshot.images[0];
  if (ext.kind === 'pixels' && ext.imageId) {
    image = snapshot.images.find((i) => i.id === ext.imageId);
    if (!image) throw new VantageError('NOT_FOUND', `the extent refers to image ${ext.imageId}, which is not in case "${snapshot.session.name}"`);
  }
  const onImage = image ? objects.filter((o) => o.image.id === image.id) : [];
  const regions = image ? snapshot.regions.filter((r) => r.imageId === image.id) : [];
  const rect = image ? extentRect(image, ext, () => caseExtent(image.info, onImage, regions)) : null;

  const date = new Date(opts.createdAt);
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.m,
    info: { Title: pdfText(opts.title), Author: pdfText(opts.analyst), Creator: `Vantage ${opts.appVersion}`, CreationDate: date, ModDate: date },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  const T = (s: string) => pdfText(s);
  const width = PAGE.w - 2 * PAGE.m;

  doc.font('Helvetica-Bold').fontSize(18).fillColor(INK).text(T(opts.title), { width });
  doc.font('Helvetica').fontSize(10).fillColor(MUTED)
    .text(T(`Case "${snapshot.session.name}"  ·  analyst ${opts.analyst}  ·  ${opts.createdAt.slice(0, 10)} ${opts.createdAt.slice(11, 16)} UTC`), { width });
  doc.moveDown(0.6);

  if (image && rect) {
    const snap = await renderSnapshot(imagery, image, rect, onImage, regions);
    const mapW = width - 30;
    const mapH = Math.min(430, (mapW * snap.height) / snap.width);
    const drawW = (mapH * snap.width) / snap.height;
    const left = PAGE.m + 22;
    const top = doc.y + 4;
    doc.image(snap.jpeg, left, top, { width: drawW, height: mapH });
    doc.rect(left, top, drawW, mapH).lineWidth(0.8).strokeColor(INK).stroke();
    let transform: PixelTransform | null = null;
    if (image.info.georeferenced) {
      try {
        transform = createPixelTransform(image.info);
      } catch {
        transform = null;
      }
    }
    const frame = { left, top, w: drawW, h: mapH, rect };
    drawGrid(doc, frame, transform);
    if (transform) {
      drawScaleBar(doc, frame, transform);
      drawNorthArrow(doc, frame, transform);
    }
    if (!snap.imageRead) {
      doc.fontSize(9).fillColor('#b00020').text(T(`The image file ${image.path} could not be read: only the outlines are drawn.`), left + 6, top + 6, { width: drawW - 12 });
    }
    const extentText =
      ext.kind === 'case'
        ? 'whole case (all masks and prompts)'
        : ext.kind === 'wgs84'
          ? `chosen view, lon ${ext.bbox[0].toFixed(5)} to ${ext.bbox[2].toFixed(5)}, lat ${ext.bbox[1].toFixed(5)} to ${ext.bbox[3].toFixed(5)}`
          : `chosen view, pixels ${rect.map((v) => Math.round(v)).join(', ')}`;
    doc.font('Helvetica').fontSize(7.5).fillColor(MUTED).text(T(`Map extent: ${extentText} on ${image.info.name}`), PAGE.m, top + mapH + 4, { width });
    doc.y = top + mapH + 18;
    doc.x = PAGE.m;
    // legend
    doc.font('Helvetica-Bold').fontSize(9).fillColor(INK).text('Legend', PAGE.m, doc.y);
    let lx = PAGE.m;
    let ly = doc.y + 2;
    const item = (draw: () => void, label: string) => {
      const w = Math.min(200, doc.widthOfString(T(label)) + 22);
      if (lx + w > PAGE.m + width) { lx = PAGE.m; ly += 13; }
      doc.save();
      doc.translate(lx, ly);
      draw();
      doc.restore();
      doc.font('Helvetica').fontSize(8).fillColor(INK).text(T(label), lx + 14, ly + 1, { lineBreak: false, width: w - 14, ellipsis: true });
      lx += w;
    };
    for (const o of onImage) {
      // the map's colour and number for this object (contract/objectStyle.ts), solid so the swatch reads as that colour
      const c = o.colour;
      item(() => doc.rect(0, 0, 10, 9).fillAndStroke(c, c), `${objects.indexOf(o) + 1}. ${o.summary.label}`);
    }
    item(() => doc.rect(0, 0, 10, 9).dash(2, { space: 1.5 }).lineWidth(1).stroke('#555555').undash(), 'region prompt');
    doc.y = ly + 18;
    doc.x = PAGE.m;
  }

  section(doc, 'Objects');
  objectTable(doc, objects, width);

  const changes = [...caseChanges(snapshot).values()].filter((c) => {
    const obj = snapshot.objects.find((o) => o.turn.id === c.turnId);
    return !obj || objects.includes(obj);
  });
  for (const c of changes) await changeSection(doc, snapshot, c, imagery, width);

  section(doc, 'Conversation');
  const masksOfTurn = new Map<string, string[]>();
  for (const o of objects) masksOfTurn.set(o.turn.id, [...(masksOfTurn.get(o.turn.id) ?? []), o.summary.label]);
  for (const t of snapshot.turns) {
    const who = t.role === 'user' ? 'Question' : 'Answer';
    const masks = masksOfTurn.get(t.id);
    doc.font('Helvetica-Bold').fontSize(9).fillColor(INK).text(T(`${who} ${t.role === 'user' ? '' : `(${t.status})`}`.trim()), { continued: true });
    doc.font('Helvetica').text(T(`  ${cleanModelText(t.text) || '(no text)'}`), { width });
    if (masks) doc.fontSize(8).fillColor(MUTED).text(T(`masks: ${masks.join(', ')}`), { width });
    doc.moveDown(0.3);
  }

  section(doc, 'Image, CRS and model');
  const meta: string[] = [];
  for (const img of snapshot.images) {
    const i = img.info;
    meta.push(`Image ${i.name}: ${i.width} × ${i.height} px, ${i.bandCount} band(s) ${i.dtype}, source ${i.source}; sha256 ${img.sha256}`);
    meta.push(
      i.crs
        ? `CRS ${i.crs.epsg ? `EPSG:${i.crs.epsg}` : 'custom'}${i.crs.name ? ` (${i.crs.name})` : ''}; ${i.geotransform ? `geotransform ${i.geotransform.map((v) => +v.toPrecision(10)).join(', ')}` : `${i.gcps?.length ?? 0} GCPs (polynomial model)`}`
        : 'not georeferenced: areas in pixels, coordinates are image pixels',
    );
  }
  const packs = new Set<string>();
  for (const t of snapshot.turns) if (t.pack) packs.add(`Model pack ${t.pack.name} ${t.pack.version} (sha256 ${t.pack.sha256}; ${t.pack.signature ?? 'signature not recorded'})\nExecution provider: ${t.provider ?? 'unknown'}`);
  meta.push(...(packs.size ? packs : ['No model answer recorded in this case.']));
  meta.push(`Areas and perimeters are geodesic on the WGS 84 ellipsoid, from outlines following the mask's pixel edges. Generated by Vantage ${opts.appVersion}.`);
  doc.font('Helvetica').fontSize(8.5).fillColor(INK);
  for (const m of meta) doc.text(T(m), { width }).moveDown(0.2);

  section(doc, 'Data attribution');
  doc.font('Helvetica').fontSize(8.5).fillColor(INK);
  for (const a of attributionLines(snapshot.images.map((i) => i.info.name))) doc.text(T(a), { width }).moveDown(0.2);

  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

const fmtM2 = (m2: number | null) =>
  m2 === null ? '-' : m2 >= 10_000 ? `${(m2 / 1e4).toLocaleString('en-US', { maximumFractionDigits: 2 })} ha (${Math.round(m2).toLocaleString('en-US')} m²)` : `${Math.round(m2).toLocaleString('en-US')} m²`;

/** Before / after: both dates side by side at the change extent with the change polygons, the figures and both images. */
async function changeSection(doc: PDFKit.PDFDocument, snapshot: CaseSnapshot, c: CaseChange, imagery: ImageryPort, width: number): Promise<void> {
  const T = (s: string) => pdfText(s);
  const r = c.record;
  const dateOf = (d: string | null) => d ?? 'date unknown';
  doc.addPage();
  section(doc, T(`Before / after: ${dateOf(r.before.date)} to ${dateOf(r.after.date)}`));
  const obj = snapshot.objects.find((o) => o.turn.id === c.turnId) ?? null;
  const gap = 10;
  const half = (width - gap) / 2;
  if (c.before && c.after) {
    const a = c.before;
    const rect = caseExtent(a.info, obj ? [obj] : [], []);
    const match = matchingRect(a, rect, c.after);
    const objs = obj ? [obj] : [];
    const before = await renderSnapshot(imagery, a, rect, objs, [], { maxSide: 700 });
    const after = await renderSnapshot(imagery, a, rect, objs, [], { maxSide: 700, source: { image: c.after, rect: match.rect }, outline: true });
    const h = Math.min(300, (half * before.height) / before.width);
    const w = (h * before.width) / before.height;
    const top = doc.y + 14;
    const frames: [string, Buffer, number][] = [
      [`Before: ${r.before.name} (${dateOf(r.before.date)})`, before.jpeg, PAGE.m],
      [`After: ${r.after.name} (${dateOf(r.after.date)})`, after.jpeg, PAGE.m + half + gap],
    ];
    for (const [label, jpeg, left] of frames) {
      doc.font('Helvetica-Bold').fontSize(8.5).fillColor(INK).text(T(label), left, top - 12, { width: half, lineBreak: false, ellipsis: true });
      doc.image(jpeg, left, top, { width: w, height: h });
      doc.rect(left, top, w, h).lineWidth(0.8).strokeColor(INK).stroke();
    }
    doc.y = top + h + 6;
    doc.x = PAGE.m;
    doc.font('Helvetica').fontSize(7.5).fillColor(MUTED).text(
      T(
        `Extent: pixels ${rect.map((v) => Math.round(v)).join(', ')} of ${a.info.name}; change polygons filled on the earlier date, outlined on the later` +
          (match.exact ? ' (the later image placed by its georeferencing).' : ' (the later image placed by the image size ratio: approximate, the pair has no common georeferencing).'),
      ),
      { width },
    );
  } else {
    doc.font('Helvetica').fontSize(9).fillColor('#b00020').text(T('One of the two images is no longer in this case: only the figures are shown.'), { width });
  }
  doc.moveDown(0.5);
  const offset = r.offsetPx ? `${r.offsetPx[0].toFixed(2)}, ${r.offsetPx[1].toFixed(2)} px (x, y)` : 'not measurable';
  const changedM2 = obj?.summary.areaM2 ?? r.changedM2;
  const overlap = r.overlapM2 !== null ? fmtM2(r.overlapM2) : r.overlapPx !== null ? `${r.overlapPx.toLocaleString('en-US')} px` : '-';
  const rows: [string, string][] = [
    ['Method', `${r.method}, automatic (Otsu) threshold`],
    ['Overlap', `${overlap}${r.overlapPctOfA !== null ? ` (${r.overlapPctOfA}% of before, ${r.overlapPctOfB}% of after)` : ''}`],
    ['Residual offset', offset],
    ['Threshold', r.threshold === null ? '-' : String(r.threshold)],
    ['Changed area', changedM2 !== null ? fmtM2(changedM2) : obj ? `${Math.round(obj.summary.areaPx).toLocaleString('en-US')} px` : '-'],
    ['Change polygons', String(obj ? obj.mask.polygons.length : (r.polygonCount ?? 0))],
  ];
  for (const side of ['before', 'after'] as const) {
    const img = c[side];
    const ref = r[side];
    rows.push([
      side === 'before' ? 'Before image' : 'After image',
      `${img?.info.name ?? ref.name}, ${dateOf(ref.date)}, image ${ref.imageId}, sha256 ${img?.sha256 ?? 'unknown (image removed)'}`,
    ]);
  }
  for (const [k, v] of rows) {
    if (doc.y > PAGE.h - PAGE.m - 20) doc.addPage();
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(8.5).fillColor(INK).text(T(k), PAGE.m, y, { width: 95 });
    doc.font('Helvetica').text(T(v), PAGE.m + 100, y, { width: width - 100 });
    doc.y = Math.max(doc.y, y + 11) + 2;
  }
  doc.x = PAGE.m;
}

function section(doc: PDFKit.PDFDocument, title: string): void {
  if (doc.y > PAGE.h - PAGE.m - 60) doc.addPage();
  doc.moveDown(0.5);
  doc.font('Helvetica-Bold').fontSize(12).fillColor(INK).text(title, PAGE.m, doc.y);
  doc.moveDown(0.2);
}

function objectTable(doc: PDFKit.PDFDocument, objects: CaseObject[], width: number): void {
  const cols = [
    { h: '#', w: 22 },
    { h: 'label', w: 150 },
    { h: 'answer', w: 45 },
    { h: 'score', w: 40 },
    { h: 'area', w: 80 },
    { h: 'perimeter', w: 70 },
    { h: 'notes', w: width - 407 },
  ];
  const row = (cells: string[], bold: boolean) => {
    if (doc.y > PAGE.h - PAGE.m - 20) doc.addPage();
    const y = doc.y;
    let x = PAGE.m;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8.5).fillColor(INK);
    let maxH = 0;
    cells.forEach((c, i) => {
      const w = cols[i]!.w;
      const h = doc.heightOfString(pdfText(c), { width: w - 4 });
      doc.text(pdfText(c), x, y, { width: w - 4 });
      maxH = Math.max(maxH, h);
      x += w;
    });
    doc.y = y + maxH + 3;
    doc.moveTo(PAGE.m, doc.y - 1.5).lineTo(PAGE.m + width, doc.y - 1.5).lineWidth(0.3).strokeColor('#cccccc').stroke();
  };
  row(cols.map((c) => c.h), true);
  if (objects.length === 0) row(['', 'no masks in this case', '', '', '', '', ''], false);
  objects.forEach((o, i) => {
    const s = o.summary;
    row(
      [
        String(i + 1),
        s.label,
        String(s.turnSeq),
        s.score.toFixed(3),
        fmtArea(o),
        s.perimeterM === null ? '-' : `${Math.round(s.perimeterM).toLocaleString('en-US')} m`,
        s.touchesEdge ? 'reaches image edge (lower bound)' : '',
      ],
      false,
    );
  });
  doc.x = PAGE.m;
}

interface Frame {
  left: number;
  top: number;
  w: number;
  h: number;
  rect: Rect;
}

function toPage(f: Frame, p: XY): XY {
  const [x0, y0, x1, y1] = f.rect;
  return [f.left + ((p[0] - x0) / (x1 - x0)) * f.w, f.top + ((p[1] - y0) / (y1 - y0)) * f.h];
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Lon/lat graticule (pixel grid for plain images), drawn as curves through the image model, labelled on the frame. */
function drawGrid(doc: PDFKit.PDFDocument, f: Frame, t: PixelTransform | null): void {
  const [x0, y0, x1, y1] = f.rect;
  doc.save();
  doc.rect(f.left, f.top, f.w, f.h).clip();
  doc.lineWidth(0.4).strokeColor('#ffffff').strokeOpacity(0.7).dash(3, { space: 3 });
  const labels: { text: string; x: number; y: number; side: 'top' | 'left' }[] = [];
  if (!t) {
    const step = niceStep(Math.max(x1 - x0, y1 - y0), 5);
    for (let x = Math.ceil(x0 / step) * step; x <= x1; x += step) {
      const [px] = toPage(f, [x, y0]);
      doc.moveTo(px, f.top).lineTo(px, f.top + f.h).stroke();
      labels.push({ text: `${x} px`, x: px, y: f.top, side: 'top' });
    }
    for (let y = Math.ceil(y0 / step) * step; y <= y1; y += step) {
      const [, py] = toPage(f, [x0, y]);
      doc.moveTo(f.left, py).lineTo(f.left + f.w, py).stroke();
      labels.push({ text: `${y} px`, x: f.left, y: py, side: 'left' });
    }
  } else {
    const corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map((p) => t.pixelToLngLat(p as XY));
    const [lon0, lat0, lon1, lat1] = pointsBounds(corners);
    const step = niceStep(Math.max(lon1 - lon0, lat1 - lat0), 4);
    const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
    const N = 24;
    for (let lon = Math.ceil(lon0 / step) * step; lon <= lon1; lon += step) {
      const pts = Array.from({ length: N + 1 }, (_, k) => toPage(f, t.lngLatToPixel([lon, lat0 + ((lat1 - lat0) * k) / N])));
      polyline(doc, pts);
      const top = pts.reduce((a, b) => (Math.abs(b[1] - f.top) < Math.abs(a[1] - f.top) ? b : a));
      labels.push({ text: `${lon.toFixed(digits)}°${lon >= 0 ? 'E' : 'W'}`.replace('-', ''), x: top[0], y: f.top, side: 'top' });
    }
    for (let lat = Math.ceil(lat0 / step) * step; lat <= lat1; lat += step) {
      const pts = Array.from({ length: N + 1 }, (_, k) => toPage(f, t.lngLatToPixel([lon0 + ((lon1 - lon0) * k) / N, lat])));
      polyline(doc, pts);
      const left = pts.reduce((a, b) => (Math.abs(b[0] - f.left) < Math.abs(a[0] - f.left) ? b : a));
      labels.push({ text: `${lat.toFixed(digits)}°${lat >= 0 ? 'N' : 'S'}`.replace('-', ''), x: f.left, y: left[1], side: 'left' });
    }
  }
  doc.undash().strokeOpacity(1);
  doc.restore();
  doc.font('Helvetica').fontSize(6.5).fillColor(MUTED);
  for (const l of labels) {
    if (l.side === 'top' && l.x >= f.left && l.x <= f.left + f.w) doc.text(pdfText(l.text), l.x - 30, f.top - 9, { width: 60, align: 'center', lineBreak: false });
    if (l.side === 'left' && l.y >= f.top && l.y <= f.top + f.h) {
      doc.save().rotate(-90, { origin: [f.left - 4, l.y] });
      doc.text(pdfText(l.text), f.left - 34, l.y - 7, { width: 60, align: 'center', lineBreak: false });
      doc.restore();
    }
  }
}

function polyline(doc: PDFKit.PDFDocument, pts: XY[]): void {
  doc.moveTo(pts[0]![0], pts[0]![1]);
  for (const p of pts.slice(1)) doc.lineTo(p[0], p[1]);
  doc.stroke();
}

function drawScaleBar(doc: PDFKit.PDFDocument, f: Frame, t: PixelTransform): void {
  const [x0, y0, x1, y1] = f.rect;
  const cy = (y0 + y1) / 2;
  const metresAcross = geodesicDistance(t.pixelToLngLat([x0, cy]), t.pixelToLngLat([x1, cy]));
  const perPt = metresAcross / f.w;
  const len = niceStep(metresAcross / 4, 1);
  const barPt = len / perPt;
  const bx = f.left + 10;
  const by = f.top + f.h - 16;
  doc.save();
  doc.rect(bx - 4, by - 10, barPt + 50, 20).fillOpacity(0.75).fill('#ffffff').fillOpacity(1);
  doc.rect(bx, by, barPt / 2, 4).fill(INK);
  doc.rect(bx + barPt / 2, by, barPt / 2, 4).lineWidth(0.6).stroke(INK);
  const label = len >= 1000 ? `${len / 1000} km` : `${len} m`;
  doc.font('Helvetica').fontSize(7).fillColor(INK).text(label, bx + barPt + 4, by - 2, { lineBreak: false });
  doc.text('0', bx - 1, by - 9, { lineBreak: false });
  doc.restore();
}

/** North as the image model has it at the frame centre (rotated or projected images do not point up). */
function drawNorthArrow(doc: PDFKit.PDFDocument, f: Frame, t: PixelTransform): void {
  const [x0, y0, x1, y1] = f.rect;
  const c: XY = [(x0 + x1) / 2, (y0 + y1) / 2];
  const ll = t.pixelToLngLat(c);
  const n = t.lngLatToPixel([ll[0], ll[1] + 1e-4]);
  const a = toPage(f, c);
  const b = toPage(f, n);
  const angle = (Math.atan2(b[0] - a[0], -(b[1] - a[1])) * 180) / Math.PI;
  const cx = f.left + f.w - 20;
  const cy = f.top + 26;
  doc.save();
  doc.circle(cx, cy, 15).fillOpacity(0.75).fill('#ffffff').fillOpacity(1);
  doc.rotate(angle, { origin: [cx, cy] });
  doc.polygon([cx, cy - 11], [cx + 5, cy + 6], [cx, cy + 2], [cx - 5, cy + 6]).fill(INK);
  doc.restore();
  doc.font('Helvetica-Bold').fontSize(7).fillColor(INK).text('N', cx - 10, cy + 8, { width: 20, align: 'center', lineBreak: false });
}
