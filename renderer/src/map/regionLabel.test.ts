import { describe, expect, it } from 'vitest';
import { caseRegionLabels, regionLabelText } from './regionLabel.js';
describe('regionLabelText', () => {
  it('names regions the way the model sees them', () => {
    expect(regionLabelText('1')).toBe('<region 1>');
    expect(regionLabelText('region2')).toBe('<region 2>');
    expect(regionLabelText('<region 3>')).toBe('<region 3>');
    expect(regionLabelText('pier')).toBe('<pier>');
  });
});

describe('caseRegionLabels', () => {
  it('labels a new point and an older box differently', () => {
    // question 1 carried one box; a point is pending for the next question
    const l = caseRegionLabels(['region1'], [1], 1);
    expect(l).toEqual({ stored: ['Q1 <region 1>'], pending: ['<region 1>'] });
    expect(new Set([...l.stored, ...l.pending]).size).toBe(2);
  });

  it('names each stored region by its question, skipping questions without regions', () => {
    const l = caseRegionLabels(['region1', 'region2', 'region1'], [2, 0, 1], 2);
    expect(l.stored).toEqual(['Q1 <region 1>', 'Q1 <region 2>', 'Q3 <region 1>']);
    expect(l.pending).toEqual(['<region 1>', '<region 2>']);
    expect(new Set([...l.stored, ...l.pending]).size).toBe(5);
    // regions the questions do not account for start a new group where the numbering restarts
    expect(caseRegionLabels(['1', '2', '1'], [], 0).stored).toEqual(['Q1 <region 1>', 'Q1 <region 2>', 'Q2 <region 1>']);
  });
});
