import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Test helper: small GeoTIFFs written by GDAL's own gdal_translate from an ASCII grid (values are exact). */
export class TestTiffDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'vantage-imagery-'));

  /** rows of values → GeoTIFF; `args` are extra gdal_translate options (-a_srs, -a_ullr, -ot, -a_nodata …) */
  grid(name: string, rows: number[][], args: string[]): string {
    const asc = path.join(this.dir, `${name}.asc`);
    const header = `ncols ${rows[0]!.length}\nnrows ${rows.length}\nxllcorner 0\nyllcorner 0\ncellsize 1\n`;
    writeFileSync(asc, header + rows.map((r) => r.join(' ')).join('\n') + '\n');
    const out = path.join(this.dir, `${name}.tif`);
    execFileSync('gdal_translate', ['-q', '-of', 'GTiff', ...args, asc, out]);
    return out;
  }

  file(name: string, bytes: Uint8Array | string): string {
    const p = path.join(this.dir, name);
    writeFileSync(p, bytes);
    return p;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function gdalInfoJson(file: string): Record<string, unknown> {
  return JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}
