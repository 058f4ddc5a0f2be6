import sharp from 'sharp';
import { VantageError } from '../contract/errors.js';

/** Confusion counts of the changed class over the labelled pixels. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface Scores extends Confusion {
  precision: number;
  recall: number;
  f1: number;
  iou: number;
}

/** Single-band 8-bit pixels of an image file (PNG, BMP-free formats sharp reads, 8-bit TIFF), first channel. */
export async function readGrey(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Counts a predicted mask (non-zero = changed) against a label: 255 = changed, 0 = unchanged, anything else
 * (127 in sparse labels) = not labelled, left out.
 */
export function confusion(pred: Uint8Array, label: Uint8Array): Confusion {
  if (pred.length !== label.length) throw new VantageError('BAD_INPUT', `the mask has ${pred.length} px but the label ${label.length}`);
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < pred.length; i++) {
    const l = label[i]!;
    if (l !== 0 && l !== 255) continue;
    const p = pred[i]! !== 0;
    if (l === 255) {
      if (p) c.tp++;
      else c.fn++;
    } else if (p) c.fp++;
    else c.tn++;
  }
  return c;
}

/** Precision, recall, F1 and IoU of the changed class; 0 where undefined (no predicted or no true change). */
export function scores(c: Confusion): Scores {
  const div = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    ...c,
    precision: div(c.tp, c.tp + c.fp),
    recall: div(c.tp, c.tp + c.fn),
    f1: div(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    iou: div(c.tp, c.tp + c.fp + c.fn),
  };
}

export const pool = (cs: Confusion[]): Confusion =>
  cs.reduce((s, c) => ({ tp: s.tp + c.tp, fp: s.fp + c.fp, fn: s.fn + c.fn, tn: s.tn + c.tn }), { tp: 0, fp: 0, fn: 0, tn: 0 });
