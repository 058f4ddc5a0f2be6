import path from 'node:path';
import type { CaseRepository, ImageRow, MaskRecord, RegionRecord } from '../../db/repository.js';
import { PolygonGeoreferencer, type GeoPolygons } from '../analysis/polygonGeoreference.js';
import type { MeasuredObject } from '../contract/calls/reports.js';
import { VantageError } from '../contract/errors.js';
import { colourOf, objectLabels } from '../contract/objectStyle.js';
import { reachesImageEdge } from '../masks/measure.js';
import type { ImageInfo, SessionSummary, Turn } from '../contract/schemas.js';

export type ImageFactsRow = ImageRow & { info: ImageInfo };

/** One exportable object: the measured summary plus its geometry in every space, and its provenance. */
export interface CaseObject {
  summary: MeasuredObject;
  /** its place among the case's (live) masks (0-based): its number in the legend and tables */
  index: number;
  /** #rrggbb kept with it (contract/objectStyle.ts): the same on the map, the object list, the legend and the PDF */
  colour: string;
  geometry: GeoPolygons | null;
  image: ImageFactsRow;
  mask: MaskRecord;
  turn: Turn;
  region: RegionRecord | null;
}

/** Everything a report is made of, read from the case database only (a reopened case gives the same report). */
export interface CaseSnapshot {
  session: SessionSummary;
  images: ImageFactsRow[];
  turns: Turn[];
  regions: RegionRecord[];
  objects: CaseObject[];
}

/** Reads the case and turns every stored mask into a measured object; problems are recorded per object, not thrown. */
export function readCase(repo: CaseRepository, sessionId: string, opts: { simplifyM?: number } = {}): CaseSnapshot {
  const session = repo.getSession(sessionId);
  const images = repo.listImages(sessionId).map((row) => ({ ...row, info: { ...(row.facts as Omit<ImageInfo, 'id'>), id: row.id } }));
  const byImage = new Map(images.map((i) => [i.id, i]));
  const turns = repo.listTurns(sessionId);
  const byTurn = new Map(turns.map((t) => [t.id, t]));
  const regions = repo.listRegionRecords(sessionId);
  const byRegion = new Map(regions.map((r) => [r.id, r]));
  const georeferencers = new Map<string, PolygonGeoreferencer | Error>();
  const records = repo.listMaskRecords(sessionId);
  // the names the map, the object list and the chat give them (contract/objectStyle.ts)
  const labels = objectLabels(records, turns);
  const objects = records.map((mask, index): CaseObject => {
    const image = byImage.get(mask.imageId);
    const turn = byTurn.get(mask.turnId);
    if (!image || !turn) throw new VantageError('INTERNAL', `mask ${mask.id} refers to a missing image or turn`);
    const region = mask.regionId ? (byRegion.get(mask.regionId) ?? null) : null;
    const label = labels.get(mask.id)!;
    let geo = georeferencers.get(image.id);
    if (!geo) {
      try {
        geo = new PolygonGeoreferencer(image.info);
      } catch (err) {
        geo = err as Error;
      }
      georeferencers.set(image.id, geo);
    }
    let geometry: GeoPolygons | null = null;
    let problem: string | null = null;
    let touchesEdge = false;
    const notes: string[] = [];
    try {
      if (geo instanceof Error) throw geo;
      // the outline measured when the mask was stored (clipped to the image): read, never vectorised again
      if (mask.polygons.length === 0) throw new VantageError('BAD_INPUT', `"${label}" is empty (no pixel inside): nothing to export`);
      touchesEdge = reachesImageEdge(mask.polygons, image.info);
      if (touchesEdge) notes.push(`"${label}" reaches the image edge: the object may continue outside, its area is a lower bound`);
      geometry = geo.georeference(mask.polygons, { simplifyM: opts.simplifyM ?? 0, label: `"${label}"` });
      notes.push(...geometry.notes);
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    return {
      summary: {
        maskId: mask.id,
        turnId: mask.turnId,
        turnSeq: mask.turnSeq,
        imageId: image.id,
        imageName: image.info.name || path.basename(image.path),
        label,
        phrase: mask.phrase,
        score: mask.score,
        regionKind: region?.kind ?? null,
        regionLabel: region?.label ?? null,
        bbox: mask.bbox,
        areaPx: geometry?.measures.areaPx ?? mask.areaPx,
        areaM2: geometry?.measures.areaM2 ?? null,
        areaHa: geometry?.measures.areaHa ?? null,
        perimeterM: geometry?.measures.perimeterM ?? null,
        georeferenced: !(geo instanceof Error) && geo.georeferenced,
        touchesEdge,
        createdAt: mask.createdAt,
        problem,
        notes,
      },
      index,
      colour: colourOf(mask, index),
      geometry,
      image,
      mask,
      turn,
      region,
    };
  });
  return { session, images, turns, regions, objects };
}

/** The objects an export writes: the selected ones (all when none given), refusing any that cannot be exported. */
export function selectForExport(snapshot: CaseSnapshot, maskIds?: string[], opts: { allowNone?: boolean } = {}): CaseObject[] {
  let chosen = snapshot.objects;
  if (maskIds) {
    const ids = new Set(maskIds);
    const unknown = maskIds.filter((id) => !snapshot.objects.some((o) => o.mask.id === id));
    if (unknown.length) throw new VantageError('NOT_FOUND', `no mask ${unknown.join(', ')} in case "${snapshot.session.name}"`);
    chosen = snapshot.objects.filter((o) => ids.has(o.mask.id));
  } else {
    // "all": empty masks are simply not objects; other problems still stop the export below
    chosen = chosen.filter((o) => !(o.summary.problem && /is empty|entirely outside/.test(o.summary.problem)));
  }
  const bad = chosen.filter((o) => o.summary.problem);
  if (bad.length) {
    throw new VantageError('BAD_INPUT', `cannot export ${bad.length} object(s), nothing was written: ${bad.map((o) => o.summary.problem).join('; ')}`);
  }
  if (chosen.length === 0 && !opts.allowNone) throw new VantageError('BAD_INPUT', `case "${snapshot.session.name}" has no masks to export yet: ask a question that returns one`);
  return chosen;
}
