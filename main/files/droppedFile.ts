import { stat } from 'node:fs/promises';
import path from 'node:path';
import { VantageError } from '../contract/errors.js';

/** images to open, and .mbtiles offline basemaps */
const DROPPABLE = new Set(['.tif', '.tiff', '.gtiff', '.jpg', '.jpeg', '.png', '.mbtiles']);

/**
 * The path the Electron preload resolved for a file dropped on the map, checked before it becomes a reference:
 * an absolute path to a regular image file (folders and other files dropped by mistake get a specific message).
 */
export async function checkDroppedImage(p: string): Promise<string> {
  if (!path.isAbsolute(p)) throw new VantageError('BAD_INPUT', 'the dropped item has no file path (drop a file from the file manager)');
  const s = await stat(p).catch(() => null);
  if (!s) throw new VantageError('NOT_FOUND', `the dropped file ${path.basename(p)} cannot be read`);
  if (!s.isFile()) throw new VantageError('BAD_INPUT', `${path.basename(p)} is a folder: drop an image file`);
  if (!DROPPABLE.has(path.extname(p).toLowerCase())) {
    throw new VantageError('BAD_INPUT', `${path.basename(p)} is not an image this app opens (.tif, .tiff, .jpg, .jpeg, .png) nor an MBTiles basemap`);
  }
  return path.resolve(p);
}
