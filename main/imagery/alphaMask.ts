import type { RasterLevel, RasterSource, SourceFacts, WindowData } from './rasterSource.js';

/**
 * A source whose alpha band (TIFF ExtraSamples) makes pixels transparent: its mask is the file's own mask (if any)
 * and alpha > 0. The alpha band stays readable (the facts still count it, as GDAL does) but is not a data band: the
 * display refuses it and the default display takes the colour bands.
 */
export class AlphaMaskedSource implements RasterSource {
  readonly facts: SourceFacts;
  readonly levels: RasterLevel[];

  private constructor(private readonly inner: RasterSource, private readonly alpha: number) {
    this.facts = inner.facts;
    this.levels = inner.levels;
  }

  static wrap(source: RasterSource): RasterSource {
    const a = source.facts.alphaBand;
    return a === null || a === undefined ? source : new AlphaMaskedSource(source, a);
  }

  readWindow(level: number, window: [number, number, number, number], bands: number[]): Promise<WindowData> {
    return this.inner.readWindow(level, window, bands);
  }

  async readMask(level: number, window: [number, number, number, number]): Promise<Uint8Array | null> {
    const [own, a] = await Promise.all([this.inner.readMask(level, window), this.inner.readWindow(level, window, [this.alpha])]);
    const alpha = a.bands[0]!;
    const out = new Uint8Array(alpha.length);
    for (let i = 0; i < out.length; i++) out[i] = alpha[i]! > 0 && (own === null || own[i] !== 0) ? 255 : 0;
    return out;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
