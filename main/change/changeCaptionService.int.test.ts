import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import type { ChatEvent } from '../contract/index.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { describeWithData } from '../testing/data.js';

describeWithData('change.caption in a case', ['imagery/bitemporal_naip/naip_2009-08-18.tif', 'imagery/bitemporal_naip/naip_2020-08-31.tif'], ([fileA, fileB]) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-change-caption-'));
  let services: Services | null = null;
  afterAll(async () => {
    await services?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams a caption of what changed in a region, stored as turns on image A naming both images', async () => {
    services = createServices({ dataDir, mode: 'browser', log: () => undefined, packDir: testPackDir });
    const session = services.sessions.create('two dates');
    const a = await services.sessions.openImage(session.id, fileA!);
    const b = await services.sessions.openImage(session.id, fileB!);
    const events: ChatEvent[] = [];
    const region = { kind: 'box' as const, x0: 100, y0: 100, x1: 400, y1: 400 };
    await services.dispatcher.subscribe('change.caption', { sessionId: session.id, imageA: a.id, imageB: b.id, regions: [region] }, (e) => events.push(e as ChatEvent), new AbortController().signal);

    expect(events[0]!.type).toBe('saved');
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error(`last event is ${done.type}`);
    const tokens = events.flatMap((e) => (e.type === 'token' ? [e.text] : []));
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.join('')).toBe(done.turn.text);
    expect(done.turn.status).toBe('complete');
    expect(done.turn.pack?.name).toBe('vantage-test-pack');

    const detail = await services.sessions.open(session.id);
    const [question, answer] = detail.turns.slice(-2);
    expect(question!.imageId).toBe(a.id);
    expect(question!.text).toContain(a.id);
    expect(question!.text).toContain(b.id);
    expect(question!.text).toMatch(/what changed in <region1> \?/);
    expect(answer!.text).toBe(done.turn.text);
    // masks from <SEG> are stored on image A, in A's pixels (inside A's extent)
    const masks = events.flatMap((e) => (e.type === 'mask' ? [e.mask] : []));
    for (const m of masks) {
      expect(m.imageId).toBe(a.id);
      expect(m.bbox[2]).toBeLessThanOrEqual(a.width);
      expect(m.bbox[3]).toBeLessThanOrEqual(a.height);
    }
    expect(detail.masks.filter((m) => m.turnId === answer!.id).length).toBe(masks.length);

    await expect(
      services.dispatcher.subscribe('change.caption', { sessionId: session.id, imageA: a.id, imageB: a.id, regions: [] }, () => undefined, new AbortController().signal),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  }, 30_000);
});
