import { describe, expect, it } from 'vitest';
import { geochatBox, renderChatPrompt, withRegionHints, type PromptRequest } from './chatPrompt.js';

const manifest = {
  tokens: {
    image: '<image>',
    region: '<region{k}>',
    maxRegions: 3,
    seg: '<SEG>',
    phraseOpen: '<p>',
    phraseClose: '</p>',
    stop: ['</s>'],
    pad: '<pad>',
    sources: { optical: '<optical>', sar: '<sar>', infrared: '<infrared>' },
  },
  chat: {
    system: '<s>system: {content} </s>',
    user: '<s>user: {content} </s>',
    assistant: '<s>assistant: {content} </s>',
    assistantPrefix: '<s>assistant:',
    defaultSystem: 'be brief .',
    groundPrefix: 'Sure, it is <SEG> .',
  },
};

const base: PromptRequest = { text: 'what is this ?', history: [], source: 'optical', mode: 'chat', regionCount: 0 };
/** whitespace word count: a stand-in tokenizer that makes budgets easy to reason about */
const words = (t: string) => t.split(/\s+/).filter(Boolean).length;

describe('renderChatPrompt', () => {
  it('renders system, the first user turn with source tag and <image>, and the assistant prefix', () => {
    const r = renderChatPrompt(manifest, base);
    expect(r.text).toBe('<s>system: be brief . </s><s>user: <optical> <image> what is this ? </s><s>assistant:');
    expect(r.droppedTurns).toBe(0);
  });

  it('puts the image in the first history turn only, and uses the caller’s system text', () => {
    const r = renderChatPrompt(manifest, {
      ...base,
      source: 'sar',
      system: 'custom',
      history: [
        { role: 'user', text: 'hello' },
        { role: 'assistant', text: 'hi' },
      ],
    });
    expect(r.text).toBe('<s>system: custom </s><s>user: <sar> <image> hello </s><s>assistant: hi </s><s>user: what is this ? </s><s>assistant:');
  });

  it('appends hints for regions the text does not name, in order', () => {
    expect(withRegionHints(manifest, 'compare <region2> with the rest', 3)).toBe('compare <region2> with the rest <region1> <region3>');
    const r = renderChatPrompt(manifest, { ...base, regionCount: 1 });
    expect(r.text).toContain('<image> what is this ? <region1> </s>');
  });

  it('forces the grounding prefix in ground mode', () => {
    const r = renderChatPrompt(manifest, { ...base, mode: 'ground' });
    expect(r.text.endsWith('<s>assistant: Sure, it is <SEG> .')).toBe(true);
  });

  it('drops the oldest turns first to fit, keeping the image on the first surviving user turn', () => {
    const history = [
      { role: 'user' as const, text: 'one one one one one' },
      { role: 'assistant' as const, text: 'a a a a a' },
      { role: 'user' as const, text: 'two' },
      { role: 'assistant' as const, text: 'b' },
    ];
    const full = renderChatPrompt(manifest, { ...base, history });
    const budget = { maxTokens: words(full.text) + 10 - 1, imageExtraTokens: 10, countTokens: words };
    const r = renderChatPrompt(manifest, { ...base, history }, budget);
    expect(r.droppedTurns).toBe(2);
    expect(r.text).toBe('<s>system: be brief . </s><s>user: <optical> <image> two </s><s>assistant: b </s><s>user: what is this ? </s><s>assistant:');
    expect(words(r.text) + 10).toBeLessThanOrEqual(budget.maxTokens);
  });

  it('fails with the numbers when even the new question does not fit', () => {
    expect(() => renderChatPrompt(manifest, base, { maxTokens: 5, imageExtraTokens: 3, countTokens: words })).toThrow(/needs \d+ tokens with the image but the model allows 5/);
  });

  it('refuses more regions than the pack takes, naming the limit', () => {
    expect(() => renderChatPrompt(manifest, { ...base, regionCount: 4 })).toThrow(/at most 3 regions/);
  });
});

describe('regionFormat geochat-box', () => {
  const geo = { ...manifest, tokens: { ...manifest.tokens, regionFormat: 'geochat-box' as const } };
  const view: [number, number, number, number] = [0, 0, 200, 200];
  const prefix = '<s>system: be brief . </s><s>user: <optical> <image> ';

  it('writes a box region as its 0–100 box, with [identify] for refer-classify', () => {
    const r = renderChatPrompt(geo, { ...base, text: '', mode: 'refer-classify', regionCount: 1, regions: [{ kind: 'box', x0: 150, y0: 20, x1: 50, y1: 100 }], view });
    expect(r.text).toBe(`${prefix}[identify] What is the category of the object in {<25><10><75><50>}? </s><s>assistant:`);
  });

  it('writes a polygon as its bounding box, rounded outwards', () => {
    const polygon = { kind: 'polygon' as const, points: [[21, 41], [99, 45], [60, 171]] as [number, number][] };
    const r = renderChatPrompt(geo, { ...base, text: 'what is it ?', regionCount: 1, regions: [polygon], view });
    // x 21..99 → 10.5..49.5 → 10..50; y 41..171 → 20.5..85.5 → 20..86; chat mode has no tag
    expect(r.text).toBe(`${prefix}what is it ? {<10><20><50><86>} </s><s>assistant:`);
  });

  it('writes two regions in order, wherever the text and the hints name them', () => {
    const regions = [
      { kind: 'circle' as const, cx: 100, cy: 100, r: 20 },
      { kind: 'point' as const, x: 10, y: 190 },
    ];
    const r = renderChatPrompt(geo, { ...base, text: 'is <region2> near', mode: 'relation', regionCount: 2, regions, view });
    expect(r.text).toBe(
      `${prefix}What is the relationship between {<40><40><60><60>} and {<4><94><6><96>}? is {<4><94><6><96>} near </s><s>assistant:`,
    );
    expect(r.text).not.toContain('<region');
  });

  it('normalises x by the view width and y by its height on a non-square view', () => {
    const wide: [number, number, number, number] = [100, 50, 500, 250]; // 400 × 200 px
    expect(geochatBox({ kind: 'box', x0: 200, y0: 100, x1: 300, y1: 150 }, wide)).toBe('{<25><25><50><50>}');
    const r = renderChatPrompt(geo, { ...base, text: '', mode: 'region-caption', regionCount: 1, regions: [{ kind: 'scribble', points: [[140, 90], [420, 130]], width: 8 }], view: wide });
    // x 136..424 → 9..81; y 86..134 → 18..42
    expect(r.text).toBe(`${prefix}[identify] Describe {<9><18><81><42>} briefly. </s><s>assistant:`);
  });

  it('clamps to 0–100 and gives a point at the edge a box inside the view', () => {
    expect(geochatBox({ kind: 'point', x: 0, y: 200 }, view)).toBe('{<0><99><1><100>}');
    expect(geochatBox({ kind: 'box', x0: -50, y0: -10, x1: 250, y1: 300 }, view)).toBe('{<0><0><100><100>}');
  });

  it('tags grounded descriptions with [grounding] and keeps modes without a tag plain', () => {
    expect(renderChatPrompt(geo, { ...base, text: '', mode: 'grounded-description' }).text).toContain('<image> [grounding] Describe the image in detail');
    expect(renderChatPrompt(geo, { ...base, mode: 'scene', text: '' }).text).toBe(`${prefix}Classify the scene of this image in one word. </s><s>assistant:`);
  });

  it('refuses to render regions without their geometry', () => {
    expect(() => renderChatPrompt(geo, { ...base, regionCount: 1 })).toThrow(/needs the 1 region geometries/);
  });

  it('leaves the default format unchanged: <region{k}> tokens, no tags, geometry ignored', () => {
    const req = { ...base, text: '', mode: 'refer-classify' as const, regionCount: 1, regions: [{ kind: 'box' as const, x0: 0, y0: 0, x1: 10, y1: 10 }], view };
    const expected = `${prefix}What is the category of the object in <region1>? </s><s>assistant:`;
    expect(renderChatPrompt(manifest, req).text).toBe(expected);
    expect(renderChatPrompt({ ...manifest, tokens: { ...manifest.tokens, regionFormat: 'embedding' as const } }, req).text).toBe(expected);
  });
});
