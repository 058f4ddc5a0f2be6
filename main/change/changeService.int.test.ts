import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import type { ChangeResult } from '../contract/calls/change.js';
import { describeWithData } from '../testing/data.js';

describeWithData('change.analyze in a case', ['imagery/bitemporal_naip/naip_2009-08-18.tif', 'imagery/bitemporal_naip/naip_2020-08-31.tif'], ([fileA, fileB]) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-change-'));
  let services: Services | null = null;
  afterAll(async () => {
    await services?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores the change polygons as a mask on image A, with both images and dates recorded, through the dispatcher', async () => {
    services = createServices({ dataDir, mode: 'browser', log: () => undefined });
    const session = services.sessions.create('two dates');
    const a = await services.sessions.openImage(session.id, fileA!);
    const b = await services.sessions.openImage(session.id, fileB!);
    const r = (await services.dispatcher.call('change.analyze', { sessionId: session.id, imageA: a.id, imageB: b.id, minArea: 1000 })) as ChangeResult;
    expect(r.imageA).toEqual({ imageId: a.id, name: 'naip_2009-08-18.tif', date: '2009-08-18' });
    expect(r.imageB.date).toBe('2020-08-31');
    expect(r.stats.minAreaPx).toBe(Math.ceil(1000 / (r.stats.pixelSizeM![0] * r.stats.pixelSizeM![1])));
    expect(r.polygons.length).toBe(r.stats.polygonCount);
    expect(r.polygons.every((p) => p.areaM2! >= 1000 * 0.99)).toBe(true);

    const detail = await services.sessions.open(session.id);
    const mask = detail.masks.find((m) => m.id === r.maskId)!;
    expect(mask.imageId).toBe(a.id);
    expect(mask.phrase).toBe('change 2009-08-18 → 2020-08-31');
    expect(mask.polygons.length).toBe(r.stats.polygonCount);
    expect(mask.areaPx).toBe(r.stats.changedPx);
    const [question, answer] = detail.turns.slice(-2);
    expect(question!.text).toContain(a.id);
    expect(question!.text).toContain(b.id);
    expect(answer!.id).toBe(r.turnId);
    expect(answer!.provider).toBe('classical');
    expect(answer!.text).toMatch(/changed area\(s\)/);

    await expect(services.dispatcher.call('change.analyze', { sessionId: session.id, imageA: a.id, imageB: a.id })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/two different images/),
    });
  });
});
