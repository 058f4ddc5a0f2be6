import { describe, expect, it } from 'vitest';
import { renderChatPrompt, withRegionHints, type PromptRequest } from './chatPrompt.js';

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
