import { z } from 'zod';
import { ImageDisplay, LayerSettings } from '../imageDisplay.js';
import { FileRef, Id, ImageInfo } from '../schemas.js';
import { call, empty, resource } from './define.js';

/**
 * The background overview cache of a large striped TIFF: 'none' when the image needs none (tiled, small, or has
 * its own overviews); zoomed-out tiles use it once 'ready'. progress is 0…1.
 */
export const OverviewBuild = z.object({
  state: z.enum(['none', 'building', 'ready', 'failed']),
  progress: z.number().min(0).max(1),
  message: z.string().nullable(),
});
export type OverviewBuild = z.infer<typeof OverviewBuild>;

/** The offline basemap in force (a user-supplied raster MBTiles file). */
export const BasemapInfo = z.object({
  name: z.string(),
  format: z.string(),
  minZoom: z.number().int(),
  maxZoom: z.number().int(),
  /** west, south, east, north in degrees, when the file says */
  bounds: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
  attribution: z.string().nullable(),
});
export type BasemapInfo = z.infer<typeof BasemapInfo>;

/** What the image is and what its values mean, decided once by the imagery service (sourceKind.ts). */
export const SourceKind = z.enum(['optical', 'multispectral', 'sar', 'thermal', 'elevation']);
export type SourceKind = z.infer<typeof SourceKind>;
/** how SAR intensity is stored: dB (never logged again), linear power (10·log10) or amplitude (20·log10) */
export const SarScaleSchema = z.enum(['db', 'linear', 'amplitude']);
/** what a band measures, from its description, colour interpretation or sensor band name */
export const BandRole = z.enum(['coastal', 'blue', 'green', 'red', 'rededge', 'nir', 'swir', 'pan', 'thermal', 'other']);
export type BandRole = z.infer<typeof BandRole>;
/** 0-based bands of the usual composites, where the band roles give them */
export const BandComposites = z.object({
  trueColour: z.tuple([z.number().int(), z.number().int(), z.number().int()]).nullable(),
  /** NIR, red, green (colour infrared) */
  falseColour: z.tuple([z.number().int(), z.number().int(), z.number().int()]).nullable(),
  /** NIR, red */
  ndvi: z.tuple([z.number().int(), z.number().int()]).nullable(),
});
export type BandComposites = z.infer<typeof BandComposites>;
export const SourceDecision = z.object({
  kind: SourceKind,
  why: z.string(),
  /** 0-based alpha band: pixels where it is 0 are transparent; never offered as a data band */
  alphaBand: z.number().int().nonnegative().nullable(),
  /** what the values measure (SAR backscatter in dB, temperature in K, elevation in m); null for reflectance/DN */
  calibration: z
    .object({
      quantity: z.string(),
      unit: z.string(),
      /** thermal product level: L1 brightness temperature, L2 surface temperature */
      level: z.enum(['L1', 'L2']).nullable(),
      /** SAR: stored in dB already (never logged again) or linear power/amplitude */
      sarScale: SarScaleSchema.nullable(),
      why: z.string(),
    })
    .nullable(),
  /** per band (alpha included): its role and the name it was recognised by, where known */
  bands: z.array(z.object({ role: BandRole.nullable(), name: z.string().nullable() })).optional(),
  /** true colour, colour infrared and NDVI bands picked from the band roles (multispectral); absent → R,G,B,NIR order */
  composites: BandComposites.nullable().optional(),
  /** the SAR scale the analyst set (null: decided from the file), kept in the case apart from the kind */
  sarScaleChosen: SarScaleSchema.nullable().optional(),
});
export type SourceDecision = z.infer<typeof SourceDecision>;

export const ImageInfoWithDisplay = ImageInfo.extend({ display: ImageDisplay, layer: LayerSettings, overviewBuild: OverviewBuild, sourceDecision: SourceDecision });

/** What is under one image pixel (the pixel inspector). */
export const PixelInfo = z.object({
  /** integer full-resolution pixel column/row */
  x: z.number().int(),
  y: z.number().int(),
  inside: z.boolean(),
  /** raw value per band (amplitude for complex SAR); null where the value is NaN (no JSON number) */
  values: z.array(z.number().nullable()),
  /** false when the pixel is nodata (all bands equal the nodata value), NaN, or masked out by the file */
  valid: z.boolean(),
  /** brightness temperature in kelvin when a Landsat MTL file beside the image gives the band's constants */
  brightnessK: z.number().nullable(),
  /** the calibrated quantity of band 1 by the image's source decision (dB, K, m); null where none applies */
  calibrated: z.object({ quantity: z.string(), value: z.number(), unit: z.string() }).nullable(),
  sourceKind: SourceKind,
  /** pixel centre in the image CRS (null without a geotransform) */
  crsXY: z.tuple([z.number(), z.number()]).nullable(),
  crsName: z.string().nullable(),
  lonLat: z.tuple([z.number(), z.number()]).nullable(),
  mgrs: z.string().nullable(),
});
export type PixelInfo = z.infer<typeof PixelInfo>;

export const imageryCalls = {
  'imagery.open': call(z.object({ sessionId: Id, file: FileRef }).strict(), ImageInfo),
  /** facts plus the display settings in force (stored per image, or the default) */
  'imagery.info': call(z.object({ imageId: Id }).strict(), ImageInfoWithDisplay),
  /** changes and persists how an image is drawn; returns the display now in force */
  'imagery.setDisplay': call(z.object({ imageId: Id, display: ImageDisplay }).strict(), z.object({ display: ImageDisplay })),
  /** the analyst's choice of source kind (null: the decided one), kept in the case; the display becomes its default */
  'imagery.setSourceKind': call(
    z.object({ imageId: Id, kind: SourceKind.nullable() }).strict(),
    z.object({ sourceDecision: SourceDecision, display: ImageDisplay }),
  ),
  /** the analyst's statement of how a SAR image is stored (dB, linear power, amplitude; null: as decided), kept in the case */
  'imagery.setSarScale': call(
    z.object({ imageId: Id, scale: SarScaleSchema.nullable() }).strict(),
    z.object({ sourceDecision: SourceDecision, display: ImageDisplay }),
  ),
  /** opacity/visibility of one image's layer, persisted */
  'imagery.setLayer': call(z.object({ imageId: Id, layer: LayerSettings }).strict(), z.object({ layer: LayerSettings })),
  /** layer order of a case, bottom first (every image id of the case, each once) */
  'imagery.setOrder': call(z.object({ sessionId: Id, imageIds: z.array(Id) }).strict(), z.object({ ok: z.literal(true) })),
  'imagery.pixel': call(
    z.object({ imageId: Id, x: z.number().finite(), y: z.number().finite() }).strict(),
    PixelInfo,
  ),
  /** puts an MBTiles file in force as the offline basemap (null removes it); remembered and reopened at start-up */
  'imagery.setBasemap': call(z.object({ file: FileRef.nullable() }).strict(), z.object({ basemap: BasemapInfo.nullable() })),
  /** the basemap in force; `notice` (given once) says when the one chosen earlier could not be reopened at start-up */
  'imagery.basemap': call(empty, z.object({ basemap: BasemapInfo.nullable(), notice: z.string().nullable() })),
  /** XYZ tile of the basemap as PNG; transparent where the file has none */
  'imagery.basemapTile': resource(
    z
      .object({
        z: z.coerce.number().int().min(0).max(30),
        x: z.coerce.number().int().min(0),
        y: z.coerce.number().int(),
        /** basemap name: only busts the browser cache when the basemap changes */
        v: z.string().max(200).optional(),
      })
      .strict(),
    'image/png',
  ),
  /** 256×256 PNG map tile (+pad) in Web Mercator (or pixel space for non-georeferenced images), transparent outside */
  'imagery.tile': resource(
    z
      .object({
        imageId: Id,
        z: z.coerce.number().int().min(0).max(30),
        x: z.coerce.number().int().min(0),
        y: z.coerce.number().int(),
        /** display version (displayVersion()): only busts the browser cache; the backend renders the current display */
        v: z.string().max(32).optional(),
        /** extra columns/rows of the next tiles (0–2): the map draws tiles that much larger so scaled tiles overlap */
        pad: z.coerce.number().int().min(0).max(2).optional(),
      })
      .strict(),
    'image/png',
  ),
} as const;
