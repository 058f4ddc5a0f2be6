import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { FileRef, FolderListing } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';

export type Purpose = 'image' | 'pack' | 'folder' | 'case' | 'basemap' | 'prompts';

const IMAGE_EXT = new Set(['.tif', '.tiff', '.gtiff', '.jpg', '.jpeg', '.png']);
const PACK_EXT = new Set(['.zip']);
const CASE_EXT = new Set(['.vantage']);
const BASEMAP_EXT = new Set(['.mbtiles']);
const PROMPTS_EXT = new Set(['.geojson', '.json']);

/**
 * Hands the page opaque references instead of paths. A reference exists only for a file or folder the user reached
 * (a listed entry, a typed folder, a native dialog's answer); services get the path back through resolve().
 */
export class FileAccess {
  private readonly byRef = new Map<string, { path: string; kind: 'dir' | 'file' }>();
  private readonly byPath = new Map<string, string>();

  constructor(private readonly places: { name: string; path: string }[] = FileAccess.defaultPlaces()) {}

  static defaultPlaces(): { name: string; path: string }[] {
    const home = homedir();
    const cwd = process.cwd();
    const places = [{ name: 'Home', path: home }];
    if (cwd !== home) places.push({ name: 'Working folder', path: cwd });
    places.push({ name: 'Computer', path: path.parse(cwd).root });
    return places;
  }

  refFor(p: string, kind: 'dir' | 'file'): FileRef {
    const abs = path.resolve(p);
    const existing = this.byPath.get(abs);
    if (existing) return existing;
    const ref = `f_${randomBytes(12).toString('base64url')}`;
    this.byRef.set(ref, { path: abs, kind });
    this.byPath.set(abs, ref);
    return ref;
  }

  resolve(ref: FileRef, kind?: 'dir' | 'file'): string {
    const entry = this.byRef.get(ref);
    if (!entry) throw new VantageError('NOT_FOUND', 'unknown file reference: browse to the file again');
    if (kind && entry.kind !== kind) throw new VantageError('BAD_INPUT', `expected a ${kind === 'dir' ? 'folder' : 'file'}, got a ${entry.kind === 'dir' ? 'folder' : 'file'}`);
    return entry.path;
  }

  async browse(req: { folder?: FileRef; typedPath?: string; purpose: Purpose }): Promise<FolderListing> {
    let dir: string;
    if (req.typedPath !== undefined) {
      const typed = req.typedPath.trim().replace(/^~(?=$|\/)/, homedir());
      if (!path.isAbsolute(typed)) throw new VantageError('BAD_INPUT', `type a full folder path (starting with / or ~), not "${req.typedPath}"`);
      dir = path.resolve(typed);
    } else if (req.folder) {
      dir = this.resolve(req.folder, 'dir');
    } else {
      dir = this.places[0]!.path;
    }
    let st;
    try {
      st = await stat(dir);
    } catch {
      throw new VantageError('NOT_FOUND', `folder not found: ${path.basename(dir) || dir}`);
    }
    if (!st.isDirectory()) {
      // a typed path to a file: list its folder (the file will be among the entries)
      dir = path.dirname(dir);
    }
    let names: import('node:fs').Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new VantageError('UNSUPPORTED', `cannot read folder ${path.basename(dir)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const entries: FolderListing['entries'] = [];
    for (const d of names) {
      if (d.name.startsWith('.')) continue;
      const full = path.join(dir, d.name);
      let isDir = d.isDirectory();
      let size: number | null = null;
      if (d.isSymbolicLink() || (!isDir && !d.isFile())) {
        try {
          const s = await stat(full);
          isDir = s.isDirectory();
          if (!isDir && !s.isFile()) continue;
          size = isDir ? null : s.size;
        } catch {
          continue;
        }
      }
      if (!isDir) {
        const ext = path.extname(d.name).toLowerCase();
        if (req.purpose === 'folder') continue;
        if (req.purpose === 'image' && !IMAGE_EXT.has(ext)) continue;
        if (req.purpose === 'pack' && !PACK_EXT.has(ext)) continue;
        if (req.purpose === 'case' && !CASE_EXT.has(ext)) continue;
        if (req.purpose === 'basemap' && !BASEMAP_EXT.has(ext)) continue;
        if (req.purpose === 'prompts' && !PROMPTS_EXT.has(ext)) continue;
        if (size === null) size = (await stat(full)).size;
      }
      entries.push({ ref: this.refFor(full, isDir ? 'dir' : 'file'), name: d.name, kind: isDir ? 'dir' : 'file', size });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const crumbs: FolderListing['crumbs'] = [];
    for (let p = dir; ; p = path.dirname(p)) {
      crumbs.unshift({ ref: this.refFor(p, 'dir'), name: path.basename(p) || p });
      if (path.dirname(p) === p) break;
    }
    return {
      folder: { ref: this.refFor(dir, 'dir'), name: path.basename(dir) || dir },
      crumbs,
      entries,
      places: this.places.map((pl) => ({ ref: this.refFor(pl.path, 'dir'), name: pl.name })),
    };
  }
}
