import { z } from 'zod';
import { FileRef, FolderListing } from '../schemas.js';
import { call } from './define.js';

/** what the user is choosing; 'case' lists .vantage case files, 'basemap' .mbtiles offline basemaps, 'prompts' .geojson/.json */
const Purpose = z.enum(['image', 'pack', 'folder', 'case', 'basemap', 'prompts']);

export const fileCalls = {
  'files.browse': call(
    z
      .object({
        folder: FileRef.optional(),
        /** a folder path the user typed into the browser's location field */
        typedPath: z.string().max(4096).optional(),
        purpose: Purpose,
      })
      .strict(),
    FolderListing,
  ),
  'files.pick': call(z.object({ purpose: Purpose }).strict(), z.object({ ref: FileRef.nullable() })),
  /** Electron only: the preload's path of a file dropped on the map → a reference (the page never sees the path) */
  'files.fromDrop': call(z.object({ path: z.string().min(1).max(4096) }).strict(), z.object({ ref: FileRef })),
} as const;
