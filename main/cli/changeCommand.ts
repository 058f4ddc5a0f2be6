import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseTiePoints, type ChangeResult } from '../contract/calls/change.js';
import { VantageError } from '../contract/errors.js';
import type { ChatEvent } from '../contract/index.js';
import { rasterizePolygons } from '../analysis/maskVectorizer.js';
import type { ChangeDetector } from '../change/changeAnalysis.js';
import { writeMaskFile } from '../change/maskFile.js';
import { commandServices } from './commandServices.js';

export const CHANGE_USAGE = `  change A B [--tie "xa,ya:xb,yb;…"] [--min-area M2] [--method cva-matched|cva-otsu] [--mask-out FILE]
           [--pack DIR] [--save [--session ID]] [--json]
                                      classical change detection of B against A on A's grid: overlap, offset, changes
                                      (cva-matched, the default: B histogram-matched to A, noise-scaled, cleaned up;
                                      cva-otsu: the original per-band CVA with Otsu); --mask-out writes the change mask
                                      on A's grid, 255 = changed (GeoTIFF when A is georeferenced, else PNG);
                                      with --pack (bitemporal mode): a caption of what changed;
                                      --save stores the analysis (and caption) in a case, else nothing is stored`;

const DETECTORS = ['cva-matched', 'cva-otsu'] as const;

export interface CommandContext {
  dataDir: string;
  json: boolean;
}

function imageFile(p: string | undefined, what: string): string {
  if (!p) throw new VantageError('BAD_INPUT', `missing ${what}: vantage change A B [options]`);
  const abs = path.resolve(p);
  if (!existsSync(abs)) throw new VantageError('NOT_FOUND', `${what} not found: ${abs}`);
  return abs;
}

/**
 * `vantage change A B`: opens both images in a case, runs change.analyze through the dispatcher, prints the figures.
 * Without --save nothing is stored (the pair is analysed in a throw-away data folder, as `ask` and `segment` do);
 * with --save the analysis lands in a case (new, or --session).
 */
export async function runChange(args: string[], ctx: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tie: { type: 'string' },
      'min-area': { type: 'string' },
      pack: { type: 'string' },
      method: { type: 'string' },
      'mask-out': { type: 'string' },
      save: { type: 'boolean', default: false },
      session: { type: 'string' },
    },
  });
  const fileA = imageFile(positionals[0], 'image A');
  const fileB = imageFile(positionals[1], 'image B');
  const tiePoints = values.tie !== undefined ? parseTiePoints(values.tie) : undefined;
  let minArea: number | undefined;
  if (values['min-area'] !== undefined) {
    minArea = Number(values['min-area']);
    if (!Number.isFinite(minArea) || minArea < 0) throw new VantageError('BAD_INPUT', `--min-area expects a number of m² ≥ 0, got "${values['min-area']}"`);
  }
  const detector = values.method as ChangeDetector | undefined;
  if (detector !== undefined && !DETECTORS.includes(detector)) {
    throw new VantageError('BAD_INPUT', `--method expects ${DETECTORS.join(' or ')}, got "${values.method}"`);
  }
  const maskOut = values['mask-out'] !== undefined ? path.resolve(values['mask-out']) : undefined;
  if (maskOut !== undefined && !existsSync(path.dirname(maskOut))) throw new VantageError('NOT_FOUND', `--mask-out: the folder ${path.dirname(maskOut)} does not exist`);
  let packDir: string | undefined;
  if (values.pack !== undefined) {
    packDir = path.resolve(values.pack);
    if (!existsSync(packDir) || !statSync(packDir).isDirectory()) throw new VantageError('NOT_FOUND', `--pack must be a model pack folder: ${packDir}`);
  }
  if (values.session && !values.save) throw new VantageError('BAD_INPUT', '--session needs --save (without --save nothing is stored)');
  const save = !!values.save;
  // a pack is loaded only when --pack names one (for the caption): without --save the user's data folder is not touched
  const { services, close } = await commandServices(ctx.dataDir, save, packDir, 'change', false);
  try {
    const session = values.session
      ? (await services.sessions.open(values.session)).session
      : services.sessions.create(`CLI change ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`);
    const a = await services.sessions.openImage(session.id, fileA);
    const b = await services.sessions.openImage(session.id, fileB);
    const r = (await services.dispatcher.call('change.analyze', {
      sessionId: session.id,
      imageA: a.id,
      imageB: b.id,
      ...(tiePoints ? { tiePoints } : {}),
      ...(minArea !== undefined ? { minArea } : {}),
      ...(detector ? { detector } : {}),
    })) as ChangeResult;
    let maskFile: { path: string; format: string } | null = null;
    if (maskOut) {
      // the polygons trace the mask's pixel edges, so rasterising them on A's full grid gives the mask back exactly
      const mask = rasterizePolygons(r.polygons.map((p) => p.polygon), a.width, a.height);
      maskFile = { path: maskOut, format: await writeMaskFile(maskOut, mask, a.width, a.height, fileA, a.georeferenced) };
    }
    // a caption needs a pack with the bitemporal mode (PACK_CONTRACT.md); the built-in test pack runs the mode but
    // was never trained on image pairs, so its caption shows the mechanics, not a meaningful answer
    let caption: { text: string | null; note: string; masks: number } | null = null;
    if (packDir) {
      await services.models.ensureReady();
      const pack = services.models.status().pack;
      if (pack?.modes.includes('bitemporal')) {
        let text: string | null = null;
        let masks = 0;
        await services.dispatcher.subscribe(
          'change.caption',
          { sessionId: session.id, imageA: a.id, imageB: b.id, regions: [] },
          (raw) => {
            const e = raw as ChatEvent;
            if (e.type === 'mask') masks++;
            if (e.type === 'done') text = e.turn.text;
          },
          new AbortController().signal,
        );
        caption = {
          text,
          note: `bitemporal mode of pack ${pack.name}` + (pack.builtin ? ' (the built-in test pack was never trained on image pairs: the caption is not meaningful)' : ''),
          masks,
        };
      } else {
        caption = { text: null, note: `pack ${pack?.name ?? '?'} has no bitemporal mode (modes: ${pack?.modes.join(', ') || 'none'}): no caption`, masks: 0 };
      }
    }
    print(r, save ? session.id : null, caption, maskFile, ctx.json);
  } finally {
    await close();
  }
}

function print(
  r: ChangeResult,
  caseId: string | null,
  caption: { text: string | null; note: string; masks: number } | null,
  maskFile: { path: string; format: string } | null,
  json: boolean,
): void {
  const s = r.stats;
  if (json) {
    process.stdout.write(
      JSON.stringify(
        {
          caseId,
          imageA: r.imageA,
          imageB: r.imageB,
          method: s.method,
          detector: s.detector,
          sarScale: s.sarScale,
          alignment: s.alignment,
          overlap: s.overlap,
          offset: s.offset,
          threshold: s.threshold,
          minAreaPx: s.minAreaPx,
          changedPx: s.changedPx,
          changedM2: s.changedM2,
          changedPctOfOverlap: s.changedPctOfOverlap,
          polygonCount: s.polygonCount,
          largest: r.polygons.slice(0, 10).map((p) => ({ areaPx: p.areaPx, areaM2: p.areaM2, meanMagnitude: p.meanMagnitude, ring: p.polygon[0] })),
          maskFile,
          caption,
          durationMs: r.durationMs,
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  const m2 = (v: number | null, px: number) => (v !== null ? `${v.toFixed(0)} m² (${(v / 1e4).toFixed(2)} ha)` : `${px} px (no georeference)`);
  const lines = [
    `A          ${r.imageA.name}  ${r.imageA.date ?? ''}`,
    `B          ${r.imageB.name}  ${r.imageB.date ?? ''}`,
    `alignment  ${s.alignment.mode}${s.alignment.crs ? ` on A's grid, ${s.alignment.crs}` : ''}, B resampled ${s.alignment.scaleBPerA.toFixed(3)} px/px bilinear` +
      (s.alignment.tieRmsPx !== null ? `, tie RMS ${s.alignment.tieRmsPx.toFixed(2)} px` : ''),
    `overlap    ${s.overlap.px} px, ${m2(s.overlap.m2, s.overlap.px)}, ${s.overlap.pctOfA.toFixed(1)}% of A, ${s.overlap.pctOfB.toFixed(1)}% of B`,
    `offset     ${s.offset ? `${s.offset.dxPx.toFixed(2)}, ${s.offset.dyPx.toFixed(2)} px` + (s.offset.dxM !== null ? ` (${s.offset.dxM.toFixed(2)}, ${s.offset.dyM!.toFixed(2)} m)` : '') + ` ± ${s.offset.spreadPx.toFixed(2)} px over ${s.offset.patches} patches` : 'not measurable (no patch correlates)'}`,
    `method     ${s.detector} (${s.method}), ${s.bandsCompared} band(s), Otsu threshold ${s.threshold.toFixed(3)}, min area ${s.minAreaPx} px`,
    ...(s.sarScale ? [`SAR scale  A ${s.sarScale.a}, B ${s.sarScale.b} (${s.sarScale.why})`] : []),
    `changed    ${m2(s.changedM2, s.changedPx)}, ${s.changedPctOfOverlap.toFixed(1)}% of the overlap, ${s.polygonCount} polygon(s)`,
    ...r.polygons.slice(0, 5).map((p, i) => `  #${i + 1}       ${m2(p.areaM2, p.areaPx)}, mean magnitude ${p.meanMagnitude.toFixed(2)}`),
    ...(maskFile ? [`mask       ${maskFile.path} (${maskFile.format}, 255 = changed)`] : []),
    ...s.alignment.warnings.map((w) => `warning    ${w}`),
    ...(caption ? [`caption    ${caption.text ?? caption.note}`] : []),
    `(${r.durationMs.toFixed(0)} ms · ${caseId ? `saved in case ${caseId}` : 'not saved (use --save)'})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
