import type { Handlers } from '../contract/procedures.js';
import type { FileAccess } from '../files/fileAccess.js';
import type { BasemapService } from './mbtilesBasemap.js';

/** imagery.* of the offline basemap (an MBTiles file chosen once, reopened at start-up). */
export function basemapHandlers(basemap: BasemapService, files: FileAccess): Pick<Handlers, 'imagery.setBasemap' | 'imagery.basemap' | 'imagery.basemapTile'> {
  return {
    'imagery.setBasemap': async (i) => ({ basemap: basemap.set(i.file === null ? null : files.resolve(i.file, 'file')) }),
    'imagery.basemap': async () => ({ basemap: basemap.info(), notice: basemap.takeNotice() }),
    'imagery.basemapTile': (i) => basemap.tile(i.z, i.x, i.y),
  };
}
