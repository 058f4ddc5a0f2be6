import { z } from 'zod';

/**
 * How one image is drawn, persisted per image. Pure (no I/O): the renderer builds presets with it, the backend
 * validates and renders with it.
 */
export const DisplayPreset = z.enum(['natural', 'false-colour-nir', 'ndvi', 'sar-db', 'thermal', 'terrain']);
export type DisplayPreset = z.infer<typeof DisplayPreset>;

export const ColourMap = z.enum(['grey', 'palette', 'inferno', 'viridis', 'rdylgn', 'terrain']);
export type ColourMap = z.infer<typeof ColourMap>;

export const DisplayStretchSpec = z.discriminatedUnion('kind', [
  /** per-band percentiles of the image's values (from its smallest overview), e.g. 2–98 */
  z.object({ kind: z.literal('percentile'), lo: z.number().min(0).max(100), hi: z.number().min(0).max(100) }).strict(),
  /** fixed values in the displayed domain (dB for sar-db, index for ndvi) */
  z.object({ kind: z.literal('minmax'), min: z.number(), max: z.number() }).strict(),
]);
export type DisplayStretchSpec = z.infer<typeof DisplayStretchSpec>;

export const ImageDisplay = z
  .object({
    preset: DisplayPreset,
    /** 0-based source bands: three → R,G,B; one → single band through colourMap; ndvi: [nir, red] */
    bands: z.array(z.number().int().min(0)).min(1).max(3),
    stretch: DisplayStretchSpec,
    /** output = t^(1/gamma): above 1 brightens dark tones */
    gamma: z.number().min(0.1).max(10),
    colourMap: ColourMap,
    /** 3×3 mean before display (SAR speckle); display only, never changes pixel values or analysis */
    sarSpeckleSmoothing: z.boolean(),
    /** elevation: shade the colour by the slope lit from the north-west (display only) */
    hillshade: z.boolean().optional(),
  })
  .strict()
  .refine((d) => d.stretch.kind !== 'percentile' || d.stretch.hi > d.stretch.lo, 'stretch hi must exceed lo')
  .refine((d) => d.stretch.kind !== 'minmax' || d.stretch.max > d.stretch.min, 'stretch max must exceed min')
  .refine((d) => (d.preset === 'ndvi' ? d.bands.length === 2 : d.bands.length !== 2), 'ndvi takes [nir, red]; other presets one or three bands');
export type ImageDisplay = z.infer<typeof ImageDisplay>;

export interface DisplayFacts {
  bandCount: number;
  dtype: string;
  /** the file carries a TIFF colour map (single-band paletted) */
  hasPalette?: boolean;
  /** 0-based bands of the composites the band roles give (imagery's source decision); absent → R,G,B,NIR order */
  composites?: {
    trueColour: [number, number, number] | null;
    falseColour: [number, number, number] | null;
    ndvi: [number, number] | null;
  } | null;
}

/** What an image looks like before the user changes anything: as stored for 8-bit, 2–98 % stretch otherwise. */
export function defaultDisplay(f: DisplayFacts): ImageDisplay {
  const bands = f.bandCount >= 3 ? [0, 1, 2] : [0];
  const byte = f.dtype === 'Byte';
  return {
    preset: 'natural',
    bands,
    stretch: byte ? { kind: 'minmax', min: 0, max: 255 } : { kind: 'percentile', lo: 2, hi: 98 },
    gamma: 1,
    colourMap: byte && f.hasPalette && bands.length === 1 ? 'palette' : 'grey',
    sarSpeckleSmoothing: false,
  };
}

/**
 * Presets need bands: those the band roles give (f.composites: Sentinel-2 B4/B3/B2 and B8, described bands …), else
 * NIR-R-G and NDVI assume R,G,B,NIR order (NAIP, drone 4-band), i.e. NIR is band 4.
 */
export function presetDisplay(preset: DisplayPreset, f: DisplayFacts): ImageDisplay | { error: string } {
  const base = defaultDisplay(f);
  const robust = { kind: 'percentile', lo: 2, hi: 98 } as const;
  const c = f.composites ?? null;
  switch (preset) {
    case 'natural':
      return c?.trueColour ? { ...base, bands: [...c.trueColour], colourMap: 'grey' } : base;
    case 'false-colour-nir':
      if (c?.falseColour) return { ...base, preset, bands: [...c.falseColour], stretch: robust, colourMap: 'grey' };
      if (f.bandCount < 4) return { error: 'false colour needs a NIR band (a 4-band R, G, B, NIR image, or bands described as NIR, red and green)' };
      return { ...base, preset, bands: [3, 0, 1], stretch: robust, colourMap: 'grey' };
    case 'ndvi':
      if (c?.ndvi) return { ...base, preset, bands: [...c.ndvi], stretch: { kind: 'minmax', min: -1, max: 1 }, colourMap: 'rdylgn' };
      if (f.bandCount < 4) return { error: 'NDVI needs a NIR and a red band (a 4-band R, G, B, NIR image, or bands described as NIR and red)' };
      return { ...base, preset, bands: [3, 0], stretch: { kind: 'minmax', min: -1, max: 1 }, colourMap: 'rdylgn' };
    case 'terrain':
      // elevation: one band through hypsometric tints, shaded by slope
      return { ...base, preset, bands: [0], stretch: robust, colourMap: 'terrain', hillshade: true };
    case 'sar-db':
      return { ...base, preset, bands: [0], stretch: robust, colourMap: 'grey' };
    case 'thermal':
      return { ...base, preset, bands: [0], stretch: robust, colourMap: 'inferno' };
  }
}

/** Short stable key of a display: goes into tile URLs so the browser never shows tiles of an older look. */
export function displayVersion(d: ImageDisplay): string {
  const s = JSON.stringify(d);
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/** How an image sits among the case's layers; persisted with its display. */
export const LayerSettings = z.object({ opacity: z.number().min(0).max(1), visible: z.boolean() }).strict();
export type LayerSettings = z.infer<typeof LayerSettings>;
export const DEFAULT_LAYER: LayerSettings = { opacity: 1, visible: true };
