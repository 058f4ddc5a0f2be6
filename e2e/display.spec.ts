import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { requireData } from './data.js';
import { openImageThroughBrowser, openStack, waitForAppEvent } from './stack.js';

const GREY = 180;
const [demFile] = requireData('imagery/dem/terra_elev_vinschgau_float32.tif');

/**
 * Tiles drawn scaled (the fitted, fractional zoom levels) must meet without a seam. The image is written here with
 * GDAL (gdal_create: one grey value everywhere; synthetic on purpose, the property checked is "no line across a
 * uniform region"); on the screenshot, every pixel inside its footprint must be that grey. Before the fix, rows and
 * columns at tile boundaries showed the dark map (or a lighter line) through antialiased tile edges.
 */
test('no 1-px seams at tile boundaries at a fractional zoom; a DEM names its terrain preset; the pixel inspector follows the active image', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-seam-'));
  const file = path.join(dir, 'uniform_grey.tif');
  // 3 km × 3 km of one grey in UTM 33N: at the fitted zoom it spans about 4 × 4 tiles
  execFileSync('gdal_create', ['-q', '-of', 'GTiff', '-outsize', '1500', '1500', '-bands', '3', '-burn', String(GREY), '-ot', 'Byte', '-a_srs', 'EPSG:32633', '-a_ullr', '500000', '5000000', '503000', '4997000', file]);
  const stack = await openStack('vantage-e2e-seam-data-');
  try {
    const { page, problems } = stack;
    // nothing drawn over the image: world layers, graticule, place names and scale bar off
    for (const k of ['world', 'graticule', 'places', 'scale']) await page.getByTestId(`world-toggle-${k}`).uncheck();
    await openImageThroughBrowser(page, file);
    await waitForAppEvent(page, 'tiles-loaded');
    const scale = () =>
      page.locator('.vantage-image-layer .leaflet-tile-container').last().evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);
    // the fitted zoom is fractional unless the fit landed on a whole level: then half a level in
    if (!/scale\((?!1\))/.test(await scale())) {
      await page.locator('.leaflet-control-zoom-in').click();
      await expect.poll(scale).toMatch(/scale\((?!1\))/);
    }
    await expect.poll(() => page.locator('.vantage-image-layer img.leaflet-tile-loaded').count()).toBeGreaterThan(3);
    await expect(page.locator('.vantage-image-layer img.leaflet-tile:not(.leaflet-tile-loaded)')).toHaveCount(0);
    await page.mouse.move(1, 1);
    const png = await page.getByTestId('map').screenshot();
    if (process.env.VANTAGE_SHOTS) await sharp(png).toFile(path.join(process.env.VANTAGE_SHOTS, 'seam-check.png'));
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const isGrey = (x: number, y: number) => {
      const o = (y * info.width + x) * 3;
      return Math.abs(data[o]! - GREY) <= 2 && Math.abs(data[o + 1]! - GREY) <= 2 && Math.abs(data[o + 2]! - GREY) <= 2;
    };
    // the grey block's bounding box on screen; its interior (3 px in from its own edges) must be all grey
    let x0 = Infinity, x1 = -1, y0 = Infinity, y1 = -1;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        if (!isGrey(x, y)) continue;
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
    expect(x1 - x0).toBeGreaterThan(300);
    expect(y1 - y0).toBeGreaterThan(300);
    const off: string[] = [];
    let bad = 0;
    for (let y = y0 + 3; y <= y1 - 3; y++) {
      for (let x = x0 + 3; x <= x1 - 3; x++) {
        if (isGrey(x, y)) continue;
        bad++;
        const o = (y * info.width + x) * 3;
        if (off.length < 8) off.push(`(${x}, ${y}) = ${data[o]},${data[o + 1]},${data[o + 2]}`);
      }
    }
    expect(bad, `pixels off the image's grey inside it (seams), first: ${off.join('; ')}; tiles ${await scale()}`).toBe(0);

    // an elevation model (real, UTM 32N) opened on top: the Preset names the terrain look, not "Natural"
    await openImageThroughBrowser(page, demFile!, 2);
    await waitForAppEvent(page, 'tiles-loaded', 2);
    await expect(page.getByTestId('display-preset')).toHaveValue('terrain');
    await expect(page.getByTestId('display-preset').locator('option:checked')).toHaveText('Terrain (hillshade)');
    await expect(page.getByTestId('display-hillshade')).toBeChecked();

    // the pixel inspector follows the active image: the DEM's pixel, then nothing of it once another is active
    const mapBox = (await page.getByTestId('map').boundingBox())!;
    const hoverCentre = async () => {
      await page.mouse.move(mapBox.x + mapBox.width / 2 + 3, mapBox.y + mapBox.height / 2 + 2);
      await page.mouse.move(mapBox.x + mapBox.width / 2, mapBox.y + mapBox.height / 2);
    };
    await hoverCentre();
    await expect(page.getByTestId('pixel-crs')).toHaveText('EPSG:32632');
    await expect(page.getByTestId('pixel-calibrated')).toContainText(' m');
    await page.getByTestId('layer-item').filter({ hasText: 'uniform_grey.tif' }).locator('.layer-name').click();
    await expect(page.getByTestId('layer-item').filter({ hasText: 'uniform_grey.tif' })).toHaveClass(/selected/);
    await expect(page.getByTestId('pixel-inspector')).toHaveCount(0);
    await hoverCentre();
    await expect(page.getByTestId('pixel-crs')).toHaveText('EPSG:32633');
    await expect(page.getByTestId('pixel-values')).toHaveText(`${GREY}  ${GREY}  ${GREY}`);
    expect(problems).toEqual([]);
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
