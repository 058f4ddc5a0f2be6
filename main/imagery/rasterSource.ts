import type { Crs, ImageInfo } from '../contract/schemas.js';

export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** One resolution level: 0 is full resolution; overviews follow, coarser and coarser. */
export interface RasterLevel {
  width: number;
  height: number;
  /** full-res pixels per level pixel, per axis */
  scaleX: number;
  scaleY: number;
}

/** Pixel values of a window, one array per requested band, row-major, `width × height`. */
export interface WindowData {
  width: number;
  height: number;
  bands: NumericArray[];
}

export type SourceFacts = Pick<
  ImageInfo,
  'width' | 'height' | 'bandCount' | 'dtype' | 'nodata' | 'geotransform' | 'gcps' | 'overviewCount'
> & {
  crs: Crs | null;
  /** free text the file carries about itself (TIFF ImageDescription), for the source heuristic */
  description: string | null;
  /** RGB triplets (0–255) of a TIFF ColorMap for single-band paletted images, shown instead of a stretch */
  palette: Uint8Array | null;
  /** striped (untiled) layout: decoding the whole level once is cheaper than windowed reads */
  striped: boolean;
  /** 0-based band that is an alpha channel (TIFF ExtraSamples associated/unassociated alpha): a mask, not data */
  alphaBand?: number | null;
  /** per band, the file's own colour model: 'Red', 'Green', 'Blue' for TIFF Photometric RGB/YCbCr and RGB photos */
  colourInterp?: (string | null)[];
};

/** An open raster file. Windows are [x0, y0, x1, y1) in that level's pixels, clamped by the caller. */
export interface RasterSource {
  readonly facts: SourceFacts;
  readonly levels: RasterLevel[];
  readWindow(level: number, window: [number, number, number, number], bands: number[]): Promise<WindowData>;
  /** per-dataset validity mask of a window (0 = no data), when the file carries one (GDAL internal masks) */
  readMask(level: number, window: [number, number, number, number]): Promise<Uint8Array | null>;
  close(): Promise<void>;
}
