import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegionGeometry } from '../contract/geometry.js';

/** Test helpers around native-models/testpack: where the pack is, and its reference.json cases. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const testPackDir = path.join(repoRoot, 'native-models', 'testpack', 'pack');
export const referencePath = path.join(repoRoot, 'native-models', 'testpack', 'reference.json');

export interface ReferenceCase {
  name: string;
  image: string;
  question: string;
  source: 'optical' | 'sar' | 'infrared';
  /** chat.groundPrefix when the case runs in ground mode, '' otherwise */
  forcedPrefix?: string;
  regions: RegionGeometry[];
  regionMaskPixels: number[];
  prompt: string;
  inputIds: number[];
  sequenceLength: number;
  firstStepTop5: { ids: number[]; values: number[] };
  generatedIds: number[];
  generatedText: string;
  segMasks: { positivePixels: number; bbox: [number, number, number, number] | null; score: number }[];
}

export interface Reference {
  conventions: { imageFormulas: Record<string, { background: string; shape: string }> };
  cases: ReferenceCase[];
  instantMask: {
    image: string;
    points: [number, number][];
    point_labels: number[];
    positivePixels: number;
    bbox: [number, number, number, number] | null;
    score: number;
  };
}

/** The pack and its reference, or the reason they are missing (regenerate with `npm run pack:test`). */
export function loadReference(): Reference {
  if (!existsSync(path.join(testPackDir, 'manifest.json')) || !existsSync(referencePath)) {
    throw new Error(`test pack missing at ${testPackDir} (or its reference.json); build it with "npm run pack:test"`);
  }
  return JSON.parse(readFileSync(referencePath, 'utf8')) as Reference;
}

/**
 * Renders a reference image from the formula text in reference.json, e.g.
 * background "r = 70 + (7*x + 3*y) % 23; g = …; b = …" and shape "solid rgb (210, 40, 35) where 16 <= x < 40 and …".
 * The formulas are translated to JS expressions (chained comparisons split, `and` → &&, `^` → **), so a
 * regenerated reference with new formulas still renders without touching this code.
 */
export function renderFormulaImage(f: { background: string; shape: string }, size: number): Uint8Array {
  const channel = (c: 'r' | 'g' | 'b') => {
    const m = new RegExp(`(?:^|;)\\s*${c}\\s*=\\s*([^;]+)`).exec(f.background);
    if (!m?.[1]) throw new Error(`background formula has no ${c}: ${f.background}`);
    return new Function('x', 'y', `return ${m[1]};`) as (x: number, y: number) => number;
  };
  const bg = [channel('r'), channel('g'), channel('b')];
  const sm = /solid rgb \((\d+),\s*(\d+),\s*(\d+)\) where (.+?)\s*\(integer/.exec(f.shape);
  if (!sm) throw new Error(`shape formula not understood: ${f.shape}`);
  const colour = [Number(sm[1]), Number(sm[2]), Number(sm[3])];
  const cond = sm[4]!
    .replace(/(-?\d+(?:\.\d+)?)\s*(<=|<)\s*([xy])\s*(<=|<)\s*(-?\d+(?:\.\d+)?)/g, '($1 $2 $3 && $3 $4 $5)')
    .replace(/\band\b/g, '&&')
    .replace(/\^/g, '**');
  const inside = new Function('x', 'y', `return ${cond};`) as (x: number, y: number) => boolean;
  const img = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const rgb = inside(x, y) ? colour : bg.map((fn) => fn(x, y));
      for (let c = 0; c < 3; c++) img[(y * size + x) * 3 + c] = rgb[c]!;
    }
  return img;
}
