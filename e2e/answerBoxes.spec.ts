import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { launchChromium, openApp, openImageThroughBrowser, startBackend, waitForAppEvent, type Backend } from './stack.js';
import { geochatBoxCorners } from '../main/contract/geochatBoxes.js';
import { GEOCHAT_TEST_BOX_GRID, makeGeochatTestPack } from '../native-models/testpack/geochatMode.js';

/**
 * GeoChat's answer boxes on the map (PACK_CONTRACT.md "Answer boxes"): the test pack in GeoChat mode (chat-only, so
 * each box is stored as the turned box) answers `<p> red building </p> {<10><20><40><60>|<30>}`; the box is drawn
 * where its corners lie on the image (checked through the status bar's pixel readout at each drawn vertex), listed
 * with a geodesic area, named in the answer (no raw markup), and exported as GeoJSON, GeoPackage and PDF.
 */

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);
/** raw model markup: never shown to the analyst nor written into a deliverable */
const MARKUP = /<\/?p>|<SEG>|\{<|>\}/;

/** The drawn mask's vertices in screen px (the e2e project compiles without the DOM library). */
async function drawnVertices(page: Page): Promise<{ x: number; y: number }[]> {
  return page.evaluate(() => {
    interface Pt { x: number; y: number; matrixTransform(m: unknown): { x: number; y: number } }
    interface SvgPath { getAttribute(n: string): string | null; getScreenCTM(): unknown; ownerSVGElement: { createSVGPoint(): Pt } }
    const doc = (globalThis as unknown as { document: { querySelector(sel: string): SvgPath | null } }).document;
    const el = doc.querySelector('path.vantage-mask')!;
    const nums = (el.getAttribute('d') ?? '').match(/-?\d+(?:\.\d+)?/g)!.map(Number);
    const ctm = el.getScreenCTM();
    const out: { x: number; y: number }[] = [];
    for (let i = 0; i + 1 < nums.length; i += 2) {
      const p = el.ownerSVGElement.createSVGPoint();
      p.x = nums[i]!;
      p.y = nums[i + 1]!;
      const s = p.matrixTransform(ctm);
      out.push({ x: s.x, y: s.y });
    }
    return out;
  });
}

test('a GeoChat answer box is drawn at its place, listed, named in the answer and exported', async () => {
  const file = imageFile!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-e2e-boxes-'));
  const outDir = path.join(dataDir, 'deliverables');
  mkdirSync(outDir);
  const packDir = makeGeochatTestPack(path.join(dataDir, 'geochat-pack'), { sam: false });
  const browser = await launchChromium();
  let backend: Backend | null = null;
  try {
    backend = await startBackend(dataDir, ['--pack', packDir]);
    const { page, problems } = await openApp(browser, backend);
    await openImageThroughBrowser(page, file);
    await waitForAppEvent(page, 'tiles-loaded');

    await page.getByTestId('chat-input').fill('segment the red building .');
    await page.getByTestId('chat-send').click();
    await waitForAppEvent(page, 'answer-done', 1, 30_000);
    await waitForAppEvent(page, 'mask-shown');
    await expect(page.locator('path.vantage-mask')).toHaveCount(1);

    // the answer reads clean; its chip names the object as the list does
    const answer = (await page.getByTestId('turn-assistant').last().textContent()) ?? '';
    expect(answer).not.toMatch(MARKUP);
    const rows = page.getByTestId('object-row');
    await expect(rows).toHaveCount(1);
    await expect(rows.first().locator('.item-name')).toHaveText('red building');
    await expect(page.getByTestId('mask-chip').first()).toHaveText('red building');
    await expect(rows.first().getByTestId('object-area')).toHaveText(/(m²|ha|km²)$/);

    // drawn as the turned box: four corners, each where the box's corner lies on the image (791 × 718, one view)
    const corners = geochatBoxCorners(GEOCHAT_TEST_BOX_GRID, { rect: [0, 0, 791, 718] });
    const drawn = await drawnVertices(page);
    expect(drawn).toHaveLength(4);
    for (const [i, v] of drawn.entries()) {
      await page.mouse.move(v.x, v.y);
      const m = /x (\d+)\s+y (\d+)/.exec((await page.getByTestId('status-pixel').textContent())!)!;
      const [cx, cy] = corners[i]!;
      console.log(`corner ${i}: expected image px ${cx.toFixed(1)},${cy.toFixed(1)}; under the drawn vertex ${m[1]},${m[2]}`);
      // one screen px is about one image px at the opening zoom: within 2 px
      expect(Math.abs(Number(m[1]) + 0.5 - cx)).toBeLessThan(2);
      expect(Math.abs(Number(m[2]) + 0.5 - cy)).toBeLessThan(2);
    }

    // exported like any mask: GeoJSON (its corners where GDAL puts them), GeoPackage, PDF
    await page.getByTestId('export-choose-folder').click();
    await page.getByTestId('folder-picker-path').fill(outDir);
    await page.getByTestId('folder-picker-path').press('Enter');
    await page.getByTestId('folder-picker-use').click();
    const result = page.getByTestId('export-result');
    await page.getByTestId('export-geojson').click();
    await expect(result).toHaveAttribute('data-kind', 'geojson');
    const gj = JSON.parse(readFileSync(path.join(outDir, (await result.getAttribute('data-file'))!), 'utf8')) as {
      features: { properties: Record<string, unknown>; geometry: { coordinates: number[][][][] } }[];
    };
    expect(gj.features).toHaveLength(1);
    expect(JSON.stringify(gj.features[0]!.properties)).toContain('red building');
    expect(JSON.stringify(gj.features[0]!.properties)).not.toMatch(MARKUP);
    const ring = gj.features[0]!.geometry.coordinates[0]![0]!;
    const lonlat = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', file], { input: corners.map(([x, y]) => `${x} ${y}`).join('\n') + '\n', encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    for (const [lng, lat] of lonlat) {
      const d = Math.min(...ring.map(([x, y]) => Math.hypot(x! - lng!, y! - lat!)));
      expect(d).toBeLessThan(1e-6);
    }
    await page.getByTestId('export-gpkg').click();
    await expect(result).toHaveAttribute('data-kind', 'gpkg');
    const info = execFileSync('ogrinfo', ['-al', '-geom=NO', path.join(outDir, (await result.getAttribute('data-file'))!)], { encoding: 'utf8' });
    expect(info).toContain('Feature Count: 1');
    expect(info).toContain('red building');
    await page.getByTestId('export-pdf').click();
    await expect(result).toHaveAttribute('data-kind', 'pdf');
    const text = execFileSync('pdftotext', [path.join(outDir, (await result.getAttribute('data-file'))!), '-'], { encoding: 'utf8' });
    expect(text).toContain('red building');
    expect(text).not.toMatch(MARKUP);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
