import { describe, expect, it } from 'vitest';
import type { ChangeStats } from '../../../main/contract/calls/change.js';
import { magnitudeUnit, methodLine } from './changeText.js';

const stats = (over: Partial<ChangeStats>): ChangeStats =>
  ({ method: 'cva', detector: 'cva-matched', sarScale: null, bandsCompared: 4, threshold: 3.27, minAreaPx: 25, ...over }) as ChangeStats;

describe('the compare panel names the detector that ran', () => {
  it('optical: the detector, its method and threshold, no SAR scale', () => {
    expect(methodLine(stats({}))).toBe(
      'Detector cva-matched: change-vector analysis, B histogram-matched to A, noise-scaled, opened/closed · 4 band(s) · Otsu threshold 3.27 · min area 25 px',
    );
    expect(methodLine(stats({ detector: 'cva-otsu', minAreaPx: 9 }))).toMatch(/^Detector cva-otsu: change-vector analysis, per-band standardised/);
    expect(magnitudeUnit(stats({ detector: 'cva-otsu' }))).toBe('in per-band standard deviations');
  });

  it('SAR: the log-ratio, and each date read as dB or as linear power', () => {
    const line = methodLine(stats({ method: 'log-ratio', bandsCompared: 1, sarScale: { a: 'db', b: 'linear', why: 'A: units dB; B: values' } }));
    expect(line).toMatch(/^Detector cva-matched: log-ratio \(dB difference\), noise-scaled/);
    expect(line).toMatch(/ · SAR scale: A dB, B linear power$/);
    expect(line).not.toMatch(/histogram-matched/);
    expect(magnitudeUnit(stats({ method: 'log-ratio', detector: 'cva-otsu' }))).toBe('in dB');
  });
});
