import { describe, expect, it } from 'vitest';
import { regionLabelText } from './regionLabel.js';
describe('regionLabelText', () => {
  it('names regions the way the model sees them', () => {
    expect(regionLabelText('1')).toBe('<region 1>');
    expect(regionLabelText('region2')).toBe('<region 2>');
    expect(regionLabelText('<region 3>')).toBe('<region 3>');
    expect(regionLabelText('pier')).toBe('<pier>');
  });
});
