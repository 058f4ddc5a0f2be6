import path from 'node:path';
import sharp from 'sharp';
import { VantageError } from '../contract/errors.js';
import type { RasterLevel, RasterSource, SourceFacts, WindowData } from './rasterSource.js';

/**
 * Plain photos (JPEG, PNG, WebP) without georeferencing. They are small enough to decode whole once; the
 * decoded pixels stay in this object for as long as the image is open.
 */
export class PlainImageSource implements RasterSource {
  readonly levels: RasterLevel[];

  private constructor(
    readonly facts: SourceFacts,
    private readonly pixels: Uint8Array,
    private readonly channels: number,
  ) {
    this.levels = [{ width: facts.width, height: facts.height, scaleX: 1, scaleY: 1 }];
  }

  static async open(file: string): Promise<PlainImageSource> {
    try {
      const img = sharp(file, { failOn: 'error' });
      const meta = await img.metadata();
      // greyscale JPEGs stay one band, like GDAL reports them; an alpha channel (PNG, WebP) stays the last band,
      // as GDAL counts it, and is the image's mask (alphaMask.ts): transparent pixels, never a data band
      const grey = meta.channels === 1 || (meta.channels === 2 && meta.space === 'b-w');
      const alpha = meta.hasAlpha === true;
      const { data, info } = await img
        .toColourspace(grey ? 'b-w' : 'srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      const channels = info.channels;
      const alphaBand = alpha && channels === (grey ? 2 : 4) ? channels - 1 : null;
      const facts: SourceFacts = {
        width: info.width,
        height: info.height,
        bandCount: channels,
        dtype: 'Byte',
        nodata: null,
        geotransform: null,
        gcps: null,
        overviewCount: 0,
        crs: null,
        description: null,
        palette: null,
        striped: true,
        alphaBand,
        colourInterp: Array.from({ length: channels }, (_, i) => (i === alphaBand ? 'Alpha' : grey ? 'Gray' : (['Red', 'Green', 'Blue'] as const)[i] ?? null)),
      };
      return new PlainImageSource(facts, new Uint8Array(data.buffer, data.byteOffset, data.length), channels);
    } catch (e) {
      throw new VantageError(
        'BAD_INPUT',
        `cannot open ${path.basename(file)} as an image: ${(e as Error).message}`,
      );
    }
  }

  async readWindow(_level: number, [x0, y0, x1, y1]: [number, number, number, number], bands: number[]): Promise<WindowData> {
    const width = x1 - x0;
    const height = y1 - y0;
    const W = this.facts.width;
    const c = this.channels;
    const out = bands.map((b) => {
      const a = new Uint8Array(width * height);
      for (let y = 0; y < height; y++) {
        const row = ((y0 + y) * W + x0) * c + b;
        for (let x = 0; x < width; x++) a[y * width + x] = this.pixels[row + x * c]!;
      }
      return a;
    });
    return { width, height, bands: out };
  }

  async readMask(): Promise<Uint8Array | null> {
    return null;
  }

  async close(): Promise<void> {}
}
