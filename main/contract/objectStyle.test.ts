import { describe, expect, it } from 'vitest';
import { OBJECT_COLOURS, objectColour, objectName } from './objectStyle.js';

describe('object palette and names', () => {
  it('gives each object of the case one colour, cycling, the same for the same index', () => {
    expect(objectColour(0)).toBe('#ff9f1c');
    expect(objectColour(1)).toBe('#2ec4b6');
    expect(new Set(OBJECT_COLOURS.map((_, i) => objectColour(i))).size).toBe(OBJECT_COLOURS.length);
    expect(objectColour(OBJECT_COLOURS.length + 2)).toBe(objectColour(2));
    for (const c of OBJECT_COLOURS) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    expect(objectColour(-1)).toBe(OBJECT_COLOURS[OBJECT_COLOURS.length - 1]);
  });

  it('names an object by its cleaned phrase, else by its number in the case (not always 1)', () => {
    expect(objectName('<p> black building </p>', 4)).toBe('black building');
    expect(objectName(null, 0)).toBe('object 1');
    expect(objectName('', 2)).toBe('object 3');
  });
});
