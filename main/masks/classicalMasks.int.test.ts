import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../db/database.js';
import { CaseRepository } from '../../db/repository.js';
import { CLASSICAL_MASK_NOTE, type BatchEvent } from '../contract/calls/chat.js';
import { ImageryService } from '../imagery/imageryService.js';
import { buildInferenceWorker } from '../inference/buildWorker.js';
import { InferenceHost } from '../inference/inferenceHost.js';
import { ModelService } from '../packs/modelService.js';
import { SessionsService } from '../sessions/sessionsService.js';
import { describeWithData } from '../testing/data.js';
import { readCase } from '../reports/caseObjects.js';
import { buildGeojson } from '../reports/geojsonExport.js';
import { BatchMaskService } from './batchMasks.js';
import { maskIou, maskOnImage, rasteriseRings, spacenetObjects } from './bench/segLabels.js';
import { InstantMaskService } from './instantMasks.js';

/**
 * Masks without any model pack: the app's pack folder holds no pack, so a box gives a classical segmentation of the
 * image itself (method 'classical'), which is stored like any mask — its answer marked provider 'classical', no pack.
 * Real GeoTIFF (a SpaceNet tile with its building footprints), real SQLite, real inference worker (that finds no pack).
 */
describeWithData(
  'masks without a model pack: classical segmentation, stored and marked',
  ['labelled/seg/SpaceNet-solaris/tile_r0_c0/image.tif', 'labelled/seg/SpaceNet-solaris/tile_r0_c0/labels.geojson'],
  ([image, labels]) => {
    let tmp: string;
    let db: ReturnType<typeof openDatabase>;
    let repo: CaseRepository;
    let imagery: ImageryService;
    let host: InferenceHost;
    let instant: InstantMaskService;
    let batch: BatchMaskService;
    let sessionId: string;
    let imageId: string;

    beforeAll(async () => {
      tmp = mkdtempSync(path.join(tmpdir(), 'vantage-classical-'));
      const noPack = path.join(tmp, 'no-pack');
      mkdirSync(noPack);
      db = openDatabase(path.join(tmp, 'vantage.db'));
      repo = new CaseRepository(db);
      imagery = new ImageryService({});
      host = new InferenceHost({ workerUrl: await buildInferenceWorker(), forcedProvider: '' });
      const sessions = new SessionsService(repo, imagery);
      const models = new ModelService(host, { builtinDir: noPack });
      instant = new InstantMaskService(sessions, imagery, models, host);
      batch = new BatchMaskService(repo, sessions, instant);
      sessionId = sessions.create('no pack').id;
      imageId = (await sessions.openImage(sessionId, image!)).id;
    });

    afterAll(async () => {
      await host?.close();
      await imagery?.close();
      db?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('a box on a building gives a classical mask of that building, and it is stored like any mask, marked classical', async () => {
      const info = await imagery.inspect(image!);
      const objects = spacenetObjects(labels!, { ...info, id: imageId });
      // the largest footprint of the tile, prompted with its bounding box
      const b = objects.reduce((a, o) => (o.areaPx > a.areaPx ? o : a));
      const region = { kind: 'box' as const, x0: b.box[0], y0: b.box[1], x1: b.box[2], y1: b.box[3] };

      const preview = await instant.instantMask({ sessionId, imageId, region });
      expect(preview.method).toBe('classical');
      expect(preview.cached).toBe(false);
      expect(preview.areaPx).toBeGreaterThan(0);
      // the outline covers the building, not the whole window: IoU with the label from its own box
      const drawn = rasteriseRings(
        preview.polygons.map((p) => p[0]!),
        info.width,
        info.height,
      );
      expect(maskIou(drawn, b.truth)).toBeGreaterThan(0.4);
      const { m } = await instant.classicalRun({ ...info, id: imageId }, region);
      expect(maskIou(maskOnImage(m, info.width, info.height), drawn)).toBeGreaterThan(0.95);

      // "Keep": a batch of one prompt, saved
      const events: BatchEvent[] = [];
      const r = await batch.run({ sessionId, imageId, prompts: [{ ...region, label: `box mask, ${CLASSICAL_MASK_NOTE}` }], save: true }, (e) => events.push(e), new AbortController().signal);
      expect(r.method).toBe('classical');
      expect(r.saved).toBe(true);
      expect(r.masks).toHaveLength(1);
      expect(r.assistantTurn).toMatchObject({ pack: null, provider: 'classical', status: 'complete' });
      expect(r.assistantTurn!.text).toContain(CLASSICAL_MASK_NOTE);
      const stored = repo.listMaskRecords(sessionId);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.phrase).toBe(`box mask, ${CLASSICAL_MASK_NOTE}`);
      expect(stored[0]!.areaPx).toBeCloseTo(preview.areaPx, 6);
      expect(repo.listTurns(sessionId).find((t) => t.id === stored[0]!.turnId)).toMatchObject({ pack: null, provider: 'classical' });
      // the export keeps how it was made: provider 'classical', no pack, the answer naming it
      const snapshot = readCase(repo, sessionId);
      const props = (JSON.parse(buildGeojson(snapshot, snapshot.objects)) as { features: { properties: Record<string, unknown> }[] }).features[0]!.properties;
      expect(props).toMatchObject({ provider: 'classical', pack_name: null, phrase: `box mask, ${CLASSICAL_MASK_NOTE}` });
      expect(String(props.answer)).toContain(CLASSICAL_MASK_NOTE);
    });

    it('a point inside a building grows a bounded region around it', async () => {
      const info = await imagery.inspect(image!);
      const objects = spacenetObjects(labels!, { ...info, id: imageId });
      const b = objects.reduce((a, o) => (o.areaPx > a.areaPx ? o : a));
      const m = await instant.instantMask({ sessionId, imageId, region: { kind: 'point', x: (b.box[0] + b.box[2]) / 2, y: (b.box[1] + b.box[3]) / 2 } });
      expect(m.method).toBe('classical');
      expect(m.areaPx).toBeGreaterThan(0);
      // the size cap: never more than a third of the search window (160 px across without a view span)
      expect(m.areaPx).toBeLessThanOrEqual(160 * 160 * 0.35 + 1);
      // zoomed out (600 image px across the map): a larger search window; "Keep" with the same span stores the same mask
      const region = { kind: 'point' as const, x: (b.box[0] + b.box[2]) / 2, y: (b.box[1] + b.box[3]) / 2 };
      const wide = await instant.instantMask({ sessionId, imageId, region, viewSpanPx: 600 });
      expect(wide.tile[2] - wide.tile[0]).toBe(200);
      const kept = await batch.run({ sessionId, imageId, prompts: [region], save: false, viewSpanPx: 600 }, () => {}, new AbortController().signal);
      expect(kept.items[0]!.areaPx).toBeCloseTo(wide.areaPx, 6);
    });
  },
);
