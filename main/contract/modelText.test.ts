import { describe, expect, it } from 'vitest';
import { cleanModelText } from './modelText.js';

describe('cleanModelText', () => {
  it('keeps the grounded phrase and drops <SEG>, as the test pack answers', () => {
    expect(cleanModelText('<p> black building </p> <SEG>')).toBe('black building');
    expect(cleanModelText('the image shows a <p> white building </p> <SEG>.')).toBe('the image shows a white building.');
    expect(cleanModelText('Sure, it is <SEG> .')).toBe('Sure, it is.');
  });

  it('survives nested, unbalanced and half-arrived tags', () => {
    expect(cleanModelText('<p><p> pier </p></p> <SEG><SEG>')).toBe('pier');
    expect(cleanModelText('a <p> ship near </p> </p> the dock <p> crane')).toBe('a ship near the dock crane');
    expect(cleanModelText('roof <SE')).toBe('roof');
    expect(cleanModelText('done </s><s>assistant: <|im_end|> <image> <optical>')).toBe('done assistant:');
  });

  it('writes region tokens as the user sees them and leaves other angle brackets alone', () => {
    expect(cleanModelText('what is in <region1> and <region 2>?')).toBe('what is in <region 1> and <region 2>?');
    expect(cleanModelText('3 < 4 and a <-> b, {x} <b>')).toBe('3 < 4 and a <-> b, {x}');
    // GeoChat's answer boxes are objects on the map, not text (geochatBoxes.test.ts)
    expect(cleanModelText('3 < 4 and a <-> b, {<12><34><56><78>}')).toBe('3 < 4 and a <-> b,');
    expect(cleanModelText('  two\t\tspaces \n\n\n\nnext  ')).toBe('two spaces\n\nnext');
    expect(cleanModelText(null)).toBe('');
  });
});
