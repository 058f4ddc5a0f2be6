import { describe, expect, it } from 'vitest';
import { parseAnswer } from './answerText.js';

describe('parseAnswer', () => {
  it('separates prose, grounded phrases and numbered <SEG> markers', () => {
    expect(parseAnswer('There is <p>a ship</p> <SEG> near <p>the pier</p><SEG>.')).toEqual([
      { kind: 'text', text: 'There is ' },
      { kind: 'phrase', text: 'a ship' },
      { kind: 'text', text: ' ' },
      { kind: 'seg', index: 0 },
      { kind: 'text', text: ' near ' },
      { kind: 'phrase', text: 'the pier' },
      { kind: 'seg', index: 1 },
      { kind: 'text', text: '.' },
    ]);
  });

  it('shows an unclosed phrase while streaming and hides a half-arrived tag', () => {
    expect(parseAnswer('a <p>large bu')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'phrase', text: 'large bu' },
    ]);
    expect(parseAnswer('roof <SE')).toEqual([{ kind: 'text', text: 'roof ' }]);
    expect(parseAnswer('x </')).toEqual([{ kind: 'text', text: 'x ' }]);
  });

  it("numbers GeoChat's answer boxes like <SEG> markers (each box of a }{ run is one object) and hides a box still arriving", () => {
    expect(parseAnswer('The image shows <p>2 airplanes</p> {<34><9><44><19>|<-45>}{<55><60><70><78>} parked.')).toEqual([
      { kind: 'text', text: 'The image shows ' },
      { kind: 'phrase', text: '2 airplanes' },
      { kind: 'text', text: ' ' },
      { kind: 'seg', index: 0 },
      { kind: 'seg', index: 1 },
      { kind: 'text', text: ' parked.' },
    ]);
    expect(parseAnswer('<p>car</p> {<12><3')).toEqual([{ kind: 'phrase', text: 'car' }, { kind: 'text', text: ' ' }]);
  });

  it('leaves plain text and other angle brackets alone', () => {
    expect(parseAnswer('3 < 4 and <region 1> is dark')).toEqual([{ kind: 'text', text: '3 < 4 and <region 1> is dark' }]);
    expect(parseAnswer('')).toEqual([]);
  });

  it('cleans the prose with the one clean-text function: other special tokens go, regions read <region k>', () => {
    expect(parseAnswer('In <region1> a <p> black building </p> <SEG> </s>')).toEqual([
      { kind: 'text', text: 'In <region 1> a ' },
      { kind: 'phrase', text: 'black building' },
      { kind: 'text', text: ' ' },
      { kind: 'seg', index: 0 },
      { kind: 'text', text: ' ' },
    ]);
  });
});
