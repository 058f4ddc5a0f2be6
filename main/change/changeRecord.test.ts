import { describe, expect, it } from 'vitest';
import type { ChangeStats } from '../contract/calls/change.js';
import { changeAnswer, changeQuestion, parseChangeRecord } from './changeRecord.js';

const stats = (over: Partial<ChangeStats> = {}): ChangeStats => ({
  method: 'cva',
  detector: 'cva-otsu',
  sarScale: null,
  bandsCompared: 4,
  alignment: { mode: 'georeference', crs: 'EPSG:26914', tieRmsPx: null, scaleBPerA: 1, resampling: 'bilinear', warnings: [] },
  overlap: { px: 675_000, m2: 16_849_974.4, pctOfA: 99.94, pctOfB: 100, window: [0, 1, 934, 724] },
  offset: { dxPx: 0.153, dyPx: -0.114, dxM: 0.8, dyM: -0.6, spreadPx: 0.2, patches: 40 },
  threshold: 2.44417,
  thresholdMethod: 'otsu',
  minAreaPx: 40,
  changedPx: 177_000,
  changedM2: 4_444_092.2,
  changedPctOfOverlap: 26.4,
  polygonCount: 338,
  pixelSizeM: [5, 5],
  ...over,
});

describe('change record: the stored question and answer read back', () => {
  const before = { name: 'naip (2009).tif', date: '2009-08-18', imageId: 'a1b2-c3' };
  const after = { name: 'naip_2020-08-31.tif', date: null, imageId: 'd4e5-f6' };

  it('recovers both images, dates and the figures of a georeferenced pair', () => {
    const r = parseChangeRecord(changeQuestion(before, after), changeAnswer('naip (2009).tif', stats()))!;
    expect(r.before).toEqual(before);
    expect(r.after).toEqual(after);
    expect(r).toMatchObject({ overlapM2: 16_849_974, overlapPctOfA: 99.9, overlapPctOfB: 100, offsetPx: [0.15, -0.11], threshold: 2.444, changedM2: 4_444_092, polygonCount: 338 });
  });

  it('reads pixel figures, a missing offset and SAR, and refuses other turns', () => {
    const r = parseChangeRecord(changeQuestion(before, after), changeAnswer('x', stats({ method: 'log-ratio', overlap: { ...stats().overlap, m2: null }, changedM2: null, offset: null })))!;
    expect(r).toMatchObject({ method: 'log-ratio (dB)', overlapM2: null, overlapPx: 675_000, changedM2: null, offsetPx: null, polygonCount: 338 });
    expect(parseChangeRecord('outline the boats', 'There are 3 boats.')).toBeNull();
    const matched = changeAnswer('x', stats({ detector: 'cva-matched', alignment: { ...stats().alignment, mode: 'same-grid', crs: null } }));
    expect(matched).toMatch(/^Change-vector analysis of B histogram-matched to A, noise-scaled, opened\/closed, on x's grid \(same-grid\)/);
    expect(parseChangeRecord(changeQuestion(before, after), matched)).toMatchObject({ method: 'change-vector analysis', threshold: 2.444, polygonCount: 338 });
  });
});
