import { describe, expect, it } from 'vitest';
import { OBJECT_COLOURS, colourOf, nextObjectColour, objectColour, objectLabel, objectLabels, objectName, shortQuestion } from './objectStyle.js';

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

  it('colours a new object with the colour least used by the others: never one an older object has while one is free', () => {
    expect(nextObjectColour([])).toBe(OBJECT_COLOURS[0]);
    expect(nextObjectColour([OBJECT_COLOURS[0]])).toBe(OBJECT_COLOURS[1]);
    // the first object deleted (or recoloured): its colour is free again, the second keeps its own
    expect(nextObjectColour([OBJECT_COLOURS[1]])).toBe(OBJECT_COLOURS[0]);
    // a colour chosen by the analyst counts as used, whatever its case
    expect(nextObjectColour(['#FF9F1C', '#2ec4b6', null])).toBe(OBJECT_COLOURS[2]);
    const all = [...OBJECT_COLOURS, ...OBJECT_COLOURS.slice(0, 3)];
    expect(nextObjectColour(all)).toBe(OBJECT_COLOURS[3]);
  });

  it('keeps the stored colour; the palette by place only for an object without one', () => {
    expect(colourOf({ colour: '#123456' }, 0)).toBe('#123456');
    expect(colourOf({}, 1)).toBe(OBJECT_COLOURS[1]);
    expect(colourOf({ colour: 'red' }, 2)).toBe(OBJECT_COLOURS[2]);
  });

  it('shortens a question at a word, cleaned of model markup', () => {
    expect(shortQuestion('outline what is in <region1>')).toBe('outline what is in <region 1>');
    const long = shortQuestion('find every damaged building along the northern harbour wall and the piers beside it');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toBe('find every damaged building along the…');
    expect(shortQuestion('   ')).toBe('');
  });

  it("names an object by the analyst's label, else its phrase, else its question, else its number", () => {
    expect(objectLabel({ label: ' Pier A ', phrase: 'pier' }, { index: 0, question: 'q' })).toBe('Pier A');
    expect(objectLabel({ label: null, phrase: '<p> pier </p>' }, { index: 0, question: 'q' })).toBe('pier');
    expect(objectLabel({ phrase: null }, { index: 3, question: 'segment the ships' })).toBe('segment the ships');
    expect(objectLabel({ phrase: null }, { index: 3, question: 'segment the ships', nth: 2 })).toBe('segment the ships (2)');
    expect(objectLabel({ phrase: '' }, { index: 3, question: '' })).toBe('object 4');
  });

  it('names the masks of each answer after its own question, told apart within an answer, stable when one is deleted', () => {
    const turns = [
      { id: 'q1', role: 'user' as const, text: 'outline the pier' },
      { id: 'a1', role: 'assistant' as const, text: 'Sure <SEG>' },
      { id: 'q2', role: 'user' as const, text: 'and the two ships?' },
      { id: 'a2', role: 'assistant' as const, text: '<SEG> <SEG>' },
    ];
    const masks = [
      { id: 'm1', turnId: 'a1', phrase: null, ordinal: 0 },
      { id: 'm2', turnId: 'a2', phrase: null, ordinal: 0 },
      { id: 'm3', turnId: 'a2', phrase: null, ordinal: 1 },
    ];
    expect([...objectLabels(masks, turns).values()]).toEqual(['outline the pier', 'and the two ships?', 'and the two ships? (2)']);
    // m2 deleted: m3 keeps its name
    expect(objectLabels([masks[0]!, masks[2]!], turns).get('m3')).toBe('and the two ships? (2)');
  });
});
