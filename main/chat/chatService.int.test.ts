import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import type { ChatEvent, RegionGeometry } from '../contract/index.js';
import type { TaskMode } from '../contract/taskModes.js';
import { ImageryService } from '../imagery/imageryService.js';
import { buildInferenceWorker } from '../inference/buildWorker.js';
import { InferenceHost } from '../inference/inferenceHost.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { ModelService } from '../packs/modelService.js';
import { SessionsService } from '../sessions/sessionsService.js';
import { describeWithData } from '../testing/data.js';
import { ChatService } from './chatService.js';

/** Task modes, instant masks and bad input through the real chat service: real GeoTIFF, SQLite, worker, ORT. */

describeWithData('chat service: task modes, instant masks, bad input', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let tmp: string;
  let db: Db;
  let host: InferenceHost;
  let imagery: ImageryService;
  let chat: ChatService;
  let sessionId: string;
  let imageId: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-chat-'));
    db = openDatabase(path.join(tmp, 'vantage.db'));
    const repo = new CaseRepository(db);
    imagery = new ImageryService({});
    host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
    const sessions = new SessionsService(repo, imagery);
    const models = new ModelService(host, { builtinDir: testPackDir });
    chat = new ChatService(repo, sessions, imagery, models, host);
    sessionId = sessions.create('modes').id;
    imageId = (await sessions.openImage(sessionId, file!)).id;
  });

  afterAll(async () => {
    await host?.close();
    await imagery?.close();
    db?.close();
    rmSync(tmp, { recursive: true, force: true });
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

  it('instant mask: features are cached per image tile — same tile only runs the pixel decoder, another tile computes its own', async () => {
    // 791×718 image, test pack S = 64: tiles of 4·64 = 256 px; the last column/row is shifted back to end on the edge
    const first = await chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: 400, y: 350 } }); // tile [256,256,512,512]
    expect(first.cached).toBe(false);
    const second = await chat.instantMask({ sessionId, imageId, region: { kind: 'box', x0: 300, y0: 300, x1: 500, y1: 450 } });
    expect(second.cached).toBe(true);
    const other = await chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: 700, y: 100 } }); // tile [512,0,768,256]
    expect(other.cached).toBe(false);
    const otherAgain = await chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: 600, y: 30 } });
    expect(otherAgain.cached).toBe(true);
    const edge = await chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: 780, y: 700 } }); // tile [535,462,791,718]
    expect(edge.cached).toBe(false);
    const back = await chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: 260, y: 500 } });
    expect(back.cached).toBe(true);
    // the masks lie in their tile
    for (const [m, [x0, y0, x1, y1]] of [[other, [512, 0, 768, 256]], [otherAgain, [512, 0, 768, 256]], [edge, [535, 462, 791, 718]]] as const) {
      if (!m.bbox) continue;
      expect(m.bbox[0]).toBeGreaterThanOrEqual(x0);
      expect(m.bbox[1]).toBeGreaterThanOrEqual(y0);
      expect(m.bbox[2]).toBeLessThanOrEqual(x1);
      expect(m.bbox[3]).toBeLessThanOrEqual(y1);
    }
    for (const m of [first, second, other, edge]) {
      expect(Number.isFinite(m.score)).toBe(true);
      if (m.bbox) {
        expect(m.bbox[0]).toBeGreaterThanOrEqual(0);
        expect(m.bbox[2]).toBeLessThanOrEqual(791);
        expect(m.polygons.length).toBeGreaterThan(0);
        expect(m.areaPx).toBeGreaterThan(0);
      }
    }
  });

  it('instant mask: the tile follows the zoom — view size when zoomed in, larger when zoomed out, cached per zoom', async () => {
    const at = (x: number, y: number, viewSpanPx?: number) =>
      chat.instantMask({ sessionId, imageId, region: { kind: 'point', x, y }, ...(viewSpanPx === undefined ? {} : { viewSpanPx }) });
    // zoomed far in (40 image px across the map): tile = one view S = 64 px, mask cells of 1 image px (M = 64)
    const fine = await at(100, 100, 40);
    expect(fine.tile).toEqual([64, 64, 128, 128]);
    expect(fine.cached).toBe(false);
    if (fine.bbox) {
      expect(fine.bbox[0]).toBeGreaterThanOrEqual(64);
      expect(fine.bbox[2]).toBeLessThanOrEqual(128);
    }
    // the same zoom, another click in that tile: cached; a slightly different span snaps to the same tile size
    const fineAgain = await at(120, 70, 50);
    expect(fineAgain.tile).toEqual([64, 64, 128, 128]);
    expect(fineAgain.cached).toBe(true);
    // zoomed out (700 px across → 8·S = 512): a larger tile, its own features; the same zoom elsewhere in it hits
    const coarse = await at(100, 100, 700);
    expect(coarse.tile).toEqual([0, 0, 512, 512]);
    expect(coarse.cached).toBe(false);
    const coarseAgain = await at(450, 300, 600);
    expect(coarseAgain.tile).toEqual([0, 0, 512, 512]);
    expect(coarseAgain.cached).toBe(true);
    // another zoom at the same point does not share a tile
    const mid = await at(100, 100, 300);
    expect(mid.tile).toEqual([0, 0, 256, 256]);
    expect(mid.cached).toBe(false);
    // zoomed out past the image: clamped to the whole image (791×718); never below one view when zoomed in further
    const whole = await at(100, 100, 50_000);
    expect(whole.tile).toEqual([0, 0, 791, 718]);
    expect((await at(700, 650, 1e6)).cached).toBe(true);
    expect((await at(100, 100, 1)).tile).toEqual([64, 64, 128, 128]);
    // no span (CLI, older callers): today's 4·S tiles
    const plain = await at(400, 350);
    expect(plain.tile).toEqual([256, 256, 512, 512]);
    const plainEdge = await at(780, 700);
    expect(plainEdge.tile).toEqual([535, 462, 791, 718]);
  });

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
    await expect(chat.instantMask({ sessionId, imageId, region: { kind: 'point', x: -3, y: 900 } })).rejects.toMatchObject({ code: 'BAD_INPUT' });

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
