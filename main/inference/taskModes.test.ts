import { describe, expect, it } from 'vitest';
import { applyTaskTemplate, TASK_MODES } from '../contract/taskModes.js';
import { modesForStages } from './capabilities.js';
import { renderChatPrompt } from './chatPrompt.js';

const manifest = {
  tokens: {
    image: '<image>', region: '<region{k}>', maxRegions: 3, seg: '<SEG>', phraseOpen: '<p>', phraseClose: '</p>',
    stop: ['</s>'], pad: '<pad>', sources: { optical: '<optical>', sar: '<sar>', infrared: '<infrared>' },
  },
  chat: {
    system: '<s>system: {content} </s>', user: '<s>user: {content} </s>', assistant: '<s>assistant: {content} </s>',
    assistantPrefix: '<s>assistant:', defaultSystem: 'be brief .', groundPrefix: 'Sure, it is <SEG> .',
  },
};
const req = { history: [], source: 'optical' as const, regionCount: 0 };

describe('task modes', () => {
  it('wrap the text in the preset instruction; segment forces the grounding prefix like ground', () => {
    expect(renderChatPrompt(manifest, { ...req, mode: 'segment', text: 'the pier' }).text).toBe(
      '<s>system: be brief . </s><s>user: <optical> <image> Please segment the pier. </s><s>assistant: Sure, it is <SEG> .',
    );
    expect(renderChatPrompt(manifest, { ...req, mode: 'ground', text: 'the pier' }).text).toMatch(/<image> the pier <\/s><s>assistant: Sure, it is <SEG> \.$/);
    expect(renderChatPrompt(manifest, { ...req, mode: 'scene', text: '' }).text).toContain('<image> Classify the scene of this image in one word. </s><s>assistant:');
  });

  it('name the regions they need once, and keep hints for the others', () => {
    const r = renderChatPrompt(manifest, { ...req, mode: 'relation', text: '', regionCount: 3 });
    expect(r.text).toContain('What is the relationship between <region1> and <region2>? <region3> </s>');
    expect(r.text.match(/<region1>/g)).toHaveLength(1);
  });

  it('let a pack override a template through chat.tasks', () => {
    const custom = { ...manifest, chat: { ...manifest.chat, tasks: { scene: 'scene class: {text}' } } };
    expect(renderChatPrompt(custom, { ...req, mode: 'scene', text: 'port?' }).text).toContain('<image> scene class: port? </s>');
    expect(applyTaskTemplate('chat', '  hi  ')).toBe('hi');
  });

  it('follow the pack’s stages: chat-only packs get no mask modes, segmentation-only packs no chat modes', () => {
    const chat = ['vision', 'prompt', 'embed', 'decoder'];
    expect(modesForStages([...chat, 'grounding', 'pixel'])).toEqual([...TASK_MODES]);
    expect(modesForStages(chat)).toEqual(['chat', 'refer-classify', 'region-caption', 'relation', 'image-caption', 'scene']);
    expect(modesForStages(['grounding', 'pixel'])).toEqual([]);
    // a GeoChat-box pack answers with boxes, which are objects: the mask modes are offered without grounding/pixel
    expect(modesForStages(chat, true)).toEqual([...TASK_MODES]);
  });
});
