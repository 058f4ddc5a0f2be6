import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import type { ChatEvent, RegionGeometry } from '../contract/index.js';
import type { TaskMode } from '../contract/taskModes.js';
import type { ImageryService } from '../imagery/imageryService.js';
import type { InferenceHost } from '../inference/inferenceHost.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { ModelService } from '../packs/modelService.js';
import { SessionsService } from '../sessions/sessionsService.js';
import { describeWithData } from '../testing/data.js';
import { modelServices } from '../testing/modelFixture.js';
import { InstantMaskService } from '../masks/instantMasks.js';
import { ChatService } from './chatService.js';

/** Task modes, instant masks and bad input through the real chat service: real GeoTIFF, SQLite, worker, ORT. */

describeWithData('chat service: task modes, instant masks, bad input', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let fx: Awaited<ReturnType<typeof modelServices>>;
  let tmp: string;
  let db: Db;
  let host: InferenceHost;
  let imagery: ImageryService;
  let chat: ChatService;
  let masks: InstantMaskService;
  let sessionId: string;
  let imageId: string;

  beforeAll(async () => {
    fx = await modelServices(file!, 'chat');
    ({ tmp, db, host, imagery, sessionId, imageId } = fx);
    chat = new ChatService(fx.repo, fx.sessions, imagery, fx.models, host);
    masks = new InstantMaskService(fx.sessions, imagery, fx.models, host);
  });

  afterAll(async () => {
    await fx?.close();
  });

  async function ask(mode: TaskMode, text: string, regions: RegionGeometry[] = [], extra: { temperature?: number; topP?: number; seed?: number } = {}) {
    const events: ChatEvent[] = [];
    await chat.ask({ sessionId, imageId, text, regions, mode, maxNewTokens: 8, ...extra }, (e) => events.push(e), new AbortController().signal);
    const done = events.find((e) => e.type === 'done');
    const saved = events.find((e) => e.type === 'saved');
    return {
      answer: done?.type === 'done' ? done.turn.text : '',
      question: saved?.type === 'saved' ? saved.userTurn.text : '',
      masks: events.flatMap((e) => (e.type === 'mask' ? [e.mask] : [])),
    };
  }

  it('task modes wrap the text in their instruction and keep the session usable after refused input', async () => {
    const scene = await ask('scene', '');
    expect(scene.answer.length).toBeGreaterThan(0);
    const box: RegionGeometry = { kind: 'box', x0: 300, y0: 300, x1: 500, y1: 450 };
    const seg = await ask('segment', 'the dark field', [box]);
    expect(seg.answer).toMatch(/^Sure, it is <SEG> ?\./);
    expect(seg.masks.length).toBeGreaterThan(0);
    expect(seg.masks[0]!.phrase).toBe('the dark field');

    // bad input: clear errors, nothing half-stored, the next question works
    await expect(ask('relation', 'how are they related', [box])).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('needs 2 region(s)') });
    await expect(ask('chat', 'what is here', [{ kind: 'point', x: 5000, y: 10 }])).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('outside the image') });
    await expect(ask('chat', '   ')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('type a question') });
    await expect(ask('chat', 'what is along this line', [{ kind: 'scribble', points: [[-50, -50], [-10, -60]], width: 8 }])).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: -3, y: 900 } })).rejects.toMatchObject({ code: 'BAD_INPUT' });

    const two = await ask('relation', '', [box, { kind: 'point', x: 100, y: 100 }]);
    expect(two.question).toBe('What is the relationship between <region1> and <region2>?');
    expect(two.answer.length).toBeGreaterThan(0);
    const sampled = await ask('image-caption', '', [], { temperature: 0.8, topP: 0.9, seed: 7 });
    const again = await ask('image-caption', '', [], { temperature: 0.8, topP: 0.9, seed: 7 });
    expect(again.answer).toBe(sampled.answer);
  });

  it('an image the pack cannot take is refused up front with the reason: nothing is stored and the case goes on', async () => {
    const sarOnly = path.join(tmp, 'sar-pack');
    cpSync(testPackDir, sarOnly, { recursive: true });
    const mf = path.join(sarOnly, 'manifest.json');
    writeFileSync(mf, JSON.stringify({ ...JSON.parse(readFileSync(mf, 'utf8')), sources: ['sar'] }));
    const repo = new CaseRepository(db);
    const sessions = new SessionsService(repo, imagery);
    const sarChat = new ChatService(repo, sessions, imagery, new ModelService(host, { builtinDir: testPackDir, forcedDir: sarOnly }), host);
    const before = repo.listTurns(sessionId).length;
    const events: ChatEvent[] = [];
    await expect(
      sarChat.ask({ sessionId, imageId, text: 'what is here', regions: [], mode: 'chat', maxNewTokens: 4 }, (e) => events.push(e), new AbortController().signal),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('does not take optical imagery; it takes sar') });
    expect(events).toEqual([]);
    expect(repo.listTurns(sessionId)).toHaveLength(before);
    // with the optical pack loaded again, the same question goes through
    await host.loadPack(testPackDir);
    const ok = await ask('chat', 'what is here');
    expect(ok.answer.length).toBeGreaterThan(0);
  });
});
