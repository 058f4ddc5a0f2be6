import { cleanModelText } from '../contract/modelText.js';
import { caseChanges } from './caseChanges.js';
import type { CaseObject, CaseSnapshot } from './caseObjects.js';

/** Flat attributes every exported feature carries (the same names in GeoJSON and GeoPackage). */
export interface FeatureAttributes {
  mask_id: string;
  label: string;
  phrase: string | null;
  score: number;
  session_id: string;
  session_name: string;
  turn_id: string;
  answer_seq: number;
  question: string | null;
  /** the answer that produced the mask, as the analyst reads it (model markup removed) */
  answer: string | null;
  region_kind: string | null;
  region_label: string | null;
  /** the prompt's geometry in image pixels, as JSON */
  region_geometry: string | null;
  image_name: string;
  image_sha256: string;
  pack_name: string | null;
  pack_version: string | null;
  pack_sha256: string | null;
  /** the pack's signature when the answer was made: "trusted: NAME (fingerprint)", "untrusted: fingerprint", "unsigned" */
  pack_signature: string | null;
  provider: string | null;
  created_at: string;
  area_px: number;
  area_m2: number | null;
  area_ha: number | null;
  perimeter_m: number | null;
  touches_edge: number;
  coordinates: string;
  /** change masks (two dates): the earlier image ("before", the grid the change is drawn on) and the later one; null otherwise */
  before_image_id: string | null;
  before_image_name: string | null;
  before_image_sha256: string | null;
  before_date: string | null;
  after_image_id: string | null;
  after_image_name: string | null;
  after_image_sha256: string | null;
  after_date: string | null;
}

export const ATTRIBUTE_TYPES: Record<keyof FeatureAttributes, 'TEXT' | 'REAL' | 'INTEGER'> = {
  mask_id: 'TEXT',
  label: 'TEXT',
  phrase: 'TEXT',
  score: 'REAL',
  session_id: 'TEXT',
  session_name: 'TEXT',
  turn_id: 'TEXT',
  answer_seq: 'INTEGER',
  question: 'TEXT',
  answer: 'TEXT',
  region_kind: 'TEXT',
  region_label: 'TEXT',
  region_geometry: 'TEXT',
  image_name: 'TEXT',
  image_sha256: 'TEXT',
  pack_name: 'TEXT',
  pack_version: 'TEXT',
  pack_sha256: 'TEXT',
  pack_signature: 'TEXT',
  provider: 'TEXT',
  created_at: 'TEXT',
  area_px: 'REAL',
  area_m2: 'REAL',
  area_ha: 'REAL',
  perimeter_m: 'REAL',
  touches_edge: 'INTEGER',
  coordinates: 'TEXT',
  before_image_id: 'TEXT',
  before_image_name: 'TEXT',
  before_image_sha256: 'TEXT',
  before_date: 'TEXT',
  after_image_id: 'TEXT',
  after_image_name: 'TEXT',
  after_image_sha256: 'TEXT',
  after_date: 'TEXT',
};

export function attributesOf(o: CaseObject, snapshot: CaseSnapshot): FeatureAttributes {
  const s = o.summary;
  // the question is the user turn just before the answer that produced the mask
  const change = caseChanges(snapshot).get(o.turn.id) ?? null;
  const question = snapshot.turns.find((t) => t.role === 'user' && snapshot.turns.indexOf(t) === snapshot.turns.indexOf(o.turn) - 1);
  return {
    mask_id: s.maskId,
    label: cleanModelText(s.label),
    phrase: cleanModelText(s.phrase) || null,
    score: s.score,
    session_id: snapshot.session.id,
    session_name: snapshot.session.name,
    turn_id: s.turnId,
    answer_seq: s.turnSeq,
    question: question ? cleanModelText(question.text) : null,
    answer: cleanModelText(o.turn.text) || null,
    region_kind: s.regionKind,
    region_label: s.regionLabel,
    region_geometry: o.region ? JSON.stringify(o.region.geometry) : null,
    image_name: s.imageName,
    image_sha256: o.image.sha256,
    pack_name: o.turn.pack?.name ?? null,
    pack_version: o.turn.pack?.version ?? null,
    pack_sha256: o.turn.pack?.sha256 ?? null,
    pack_signature: o.turn.pack?.signature ?? null,
    provider: o.turn.provider,
    created_at: s.createdAt,
    area_px: s.areaPx,
    area_m2: s.areaM2,
    area_ha: s.areaHa,
    perimeter_m: s.perimeterM,
    touches_edge: s.touchesEdge ? 1 : 0,
    coordinates: s.georeferenced ? 'georeferenced' : 'image pixels (x = column, y = -row): the image has no georeferencing',
    before_image_id: change?.record.before.imageId ?? null,
    before_image_name: change ? (change.before?.info.name ?? change.record.before.name) : null,
    before_image_sha256: change?.before?.sha256 ?? null,
    before_date: change?.record.before.date ?? null,
    after_image_id: change?.record.after.imageId ?? null,
    after_image_name: change ? (change.after?.info.name ?? change.record.after.name) : null,
    after_image_sha256: change?.after?.sha256 ?? null,
    after_date: change?.record.after.date ?? null,
  };
}
