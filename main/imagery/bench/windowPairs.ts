import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GeoTiffSource, type TiffReader } from '../geotiffSource.js';
import { recycleBands } from '../tiffBlocks.js';

/** GDAL's side: gdalWindows.py in one long-lived Python with the GDAL bindings (python3-gdal) */
class GdalReader {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }

  static start(): GdalReader {
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../main/imagery/bench/gdalWindows.py');
    const candidates = [process.env.VANTAGE_GDAL_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
    const python = candidates.find((p) => spawnSync(p, ['-c', 'from osgeo import gdal'], { stdio: 'ignore' }).status === 0);
    if (!python) throw new Error('the window-read comparison needs Python with the GDAL bindings (apt-get install python3-gdal)');
    return new GdalReader(spawn(python, [script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  async read(file: string, windows: number[][], threads: number): Promise<{ seconds: number; bytes: number; sha256: string }> {
    this.proc.stdin.write(JSON.stringify({ file, windows, threads }) + '\n');
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the GDAL reader exited');
    const r = JSON.parse(value) as { seconds: number; bytes: number; sha256: string; error?: string };
    if (r.error) throw new Error(`GDAL: ${r.error}`);
    return r;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

/** ours: a fresh source per run (no decoded blocks kept between runs, as GDAL's dataset is reopened) */
async function readOurs(file: string, windows: number[][], reader: TiffReader): Promise<{ seconds: number; bytes: number; sha256: string }> {
  const source = await GeoTiffSource.open(file, { reader });
  try {
    const t0 = performance.now();
    const results = [];
    for (const [x, y, w, h] of windows) results.push(await source.readWindow(0, [x!, y!, x! + w!, y! + h!], [...Array(source.facts.bandCount).keys()]));
    const seconds = (performance.now() - t0) / 1000;
    const hash = createHash('sha256');
    let bytes = 0;
    for (const r of results) {
      for (const b of r.bands) {
        hash.update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        bytes += b.byteLength;
      }
    }
    // done with the pixels: their buffers go back for the next read, as numpy frees GDAL's arrays into malloc
    for (const r of results) recycleBands(r.bands);
    return { seconds, bytes, sha256: hash.digest('hex') };
  } finally {
    await source.close();
  }
}

export interface PairsResult {
  ours: number[];
  gdal: number[];
  ratios: number[];
  median: number;
  atLeastOne: number;
  oldReaderMBs: number;
  sha256: string;
}

const mbs = (r: { seconds: number; bytes: number }) => r.bytes / 2 ** 20 / r.seconds;

/**
 * `pairs` interleaved runs (order alternating: ours first, then GDAL first) of the same windows of the same file,
 * after one warm-up of each; every run's pixel hash must match GDAL's. Also one run of the geotiff.js reader.
 */
export async function windowPairs(file: string, windows: number[][], threads: number, pairs: number): Promise<PairsResult> {
  const gdal = GdalReader.start();
  try {
    const warm = await gdal.read(file, windows, threads);
    await readOurs(file, windows, 'blocks');
    const old = await readOurs(file, windows, 'geotiff');
    if (old.sha256 !== warm.sha256) throw new Error(`geotiff.js read other pixels than GDAL (${old.sha256} vs ${warm.sha256})`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < pairs; i++) {
      let a, b;
      if (i % 2 === 0) {
        a = await readOurs(file, windows, 'blocks');
        b = await gdal.read(file, windows, threads);
      } else {
        b = await gdal.read(file, windows, threads);
        a = await readOurs(file, windows, 'blocks');
      }
      if (a.sha256 !== b.sha256 || a.bytes !== b.bytes) throw new Error(`pair ${i + 1}: our pixels differ from GDAL's (${a.sha256} vs ${b.sha256})`);
      ours.push(mbs(a));
      theirs.push(mbs(b));
    }
    const ratios = ours.map((o, i) => o / theirs[i]!);
    const sorted = [...ratios].sort((x, y) => x - y);
    const mid = sorted.length / 2;
    const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { ours, gdal: theirs, ratios, median, atLeastOne: ratios.filter((r) => r >= 1).length, oldReaderMBs: mbs(old), sha256: warm.sha256 };
  } finally {
    gdal.close();
  }
}
