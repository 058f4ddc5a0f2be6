import { expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { buildChangeWorker } from './buildChangeWorker.js';
import { runChangeAnalysis } from './changeRunner.js';

describeWithData('change analysis in a worker thread', ['imagery/bitemporal_naip/naip_2009-08-18.tif', 'imagery/bitemporal_naip/naip_2020-08-31.tif'], ([fileA, fileB]) => {
  it('gives the in-process result from the worker bundle, falls back in-process without one, and keeps error codes', async () => {
    const worker = await buildChangeWorker();
    const opts = { minArea: 1000 };
    const [inWorker, inProcess] = await Promise.all([runChangeAnalysis(fileA!, fileB!, opts, worker), runChangeAnalysis(fileA!, fileB!, opts, '/nonexistent/changeWorker.mjs')]);
    expect(inWorker.ranIn).toBe('worker');
    expect(inProcess.ranIn).toBe('in-process');
    expect(inWorker.stats).toEqual(inProcess.stats);
    expect(inWorker.polygons).toEqual(inProcess.polygons);
    expect(Buffer.from(inWorker.mask).equals(Buffer.from(inProcess.mask))).toBe(true);
    expect(inWorker.dates).toEqual(['2009-08-18', '2020-08-31']);
    // a service error crosses the thread with its code and message
    await expect(runChangeAnalysis(fileA!, fileB!, { tiePoints: [{ a: [0, 0], b: [1e7, 1e7] }, { a: [10, 0], b: [1e7 + 10, 1e7] }, { a: [0, 10], b: [1e7, 1e7 + 10] }] }, worker)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/do not overlap/),
    });
  }, 30_000);
});
