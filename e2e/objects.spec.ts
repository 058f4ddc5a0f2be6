import { expect, test, type Page } from '@playwright/test';
import { requireData } from './data.js';
import { openImageThroughBrowser, openStack, waitForAppEvent } from './stack.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
const [imageFile] = requireData(IMAGE);

/** draws a box around (dx, dy) from the map's centre and asks about it; waits for the answer */
async function askAboutBox(page: Page, dx: number, dy: number, question: string, n: number): Promise<void> {
  const box = (await page.getByTestId('map').boundingBox())!;
  const cx = box.x + box.width / 2 + dx;
  const cy = box.y + box.height / 2 + dy;
  // the box tool stays chosen after a drawing: a second click would put it down
  if (!/\bactive\b/.test((await page.getByTestId('tool-box').getAttribute('class')) ?? '')) await page.getByTestId('tool-box').click();
  await page.mouse.move(cx - 60, cy - 45);
  await page.mouse.down();
  await page.mouse.move(cx + 60, cy + 45, { steps: 5 });
  await page.mouse.up();
  await waitForAppEvent(page, 'region-drawn', n);
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-send').click();
  await waitForAppEvent(page, 'answer-done', n, 30_000);
}

const colours = (page: Page) => page.locator('path.vantage-mask').evaluateAll((els) => els.map((e) => e.getAttribute('stroke')));
const rowNames = (page: Page) => page.getByTestId('object-row').locator('.item-name').allTextContents();
const swatches = (page: Page) => page.getByTestId('object-swatch').evaluateAll((els) => els.map((e) => e.getAttribute('data-colour')));

test('objects: kept colours, names from their own answer, rename, recolour, delete with undo; the case is named after its image', async () => {
  const { page, problems, close } = await openStack('vantage-e2e-objects-');
  try {
    await openImageThroughBrowser(page, imageFile!);
    await waitForAppEvent(page, 'tiles-loaded');
    // the case list tells cases apart: named after the image, time before date; the full name in a tooltip
    const caseName = page.locator('[data-testid="session-item"][aria-current="true"] .item-name');
    await expect(caseName).toHaveText(/^RGB\.byte · \d{2}:\d{2}, \d{1,2} [A-Z][a-z]{2}$/);
    expect(await caseName.getAttribute('title')).toBe(await caseName.textContent());

    await askAboutBox(page, -150, -80, 'outline what is in <region1>', 1);
    const first = await colours(page);
    expect(first.length).toBeGreaterThan(0);
    // the list renders its rows after the map draws the masks: wait for them before reading their swatches
    const rows = page.getByTestId('object-row');
    await expect(rows).toHaveCount(first.length);
    const firstSwatches = await swatches(page);
    await askAboutBox(page, 150, 90, 'and what is in <region1> over here?', 2);
    await expect(rows).toHaveCount(first.length * 2);
    // a new mask paints none of the older ones: they keep their colours, on the map and in the list
    const both = await swatches(page);
    expect(both.slice(0, first.length)).toEqual(firstSwatches);
    expect(new Set(both).size).toBe(both.length);
    expect((await colours(page)).sort()).toEqual([...both].sort());

    // each answer's chip names and shows its own mask (not the first answer's)
    const chips = (k: number) => page.getByTestId('turn-assistant').nth(k).getByTestId('mask-chip');
    const names = await rowNames(page);
    await expect(chips(0).first()).toHaveText(names[0]!);
    await expect(chips(1).first()).toHaveText(names[first.length]!);
    await chips(1).first().click();
    await expect(rows.nth(first.length)).toHaveClass(/selected/);

    // rename: the list, the chip and the map's hover text follow, and the case keeps it
    const second = page.getByTestId('object-item').nth(first.length);
    await second.getByTestId('object-rename').click();
    await page.getByTestId('object-rename-input').fill('Tanker berth');
    await page.getByTestId('object-rename-input').press('Enter');
    await waitForAppEvent(page, 'object-changed');
    await expect(rows.nth(first.length).locator('.item-name')).toHaveText('Tanker berth');
    await expect(chips(1).first()).toHaveText('Tanker berth');
    // recolour: the swatch and the outline on the map take it
    await page.getByTestId('object-item').first().getByTestId('object-colour').click();
    await page.getByTestId('object-palette').locator('[data-colour="#1982c4"]').click();
    await waitForAppEvent(page, 'object-changed', 2);
    await expect(page.getByTestId('object-swatch').first()).toHaveAttribute('data-colour', '#1982c4');
    await expect(page.locator('path.vantage-mask[stroke="#1982c4"]')).toHaveCount(1);

    // delete: gone from the list, the map and its chip; Undo brings it back as it was
    // the outlines are drawn in the case's order (later objects on top), as the list shows them
    const before = { names: await rowNames(page), swatches: await swatches(page), paths: await colours(page) };
    expect(before.paths).toEqual(before.swatches);
    await page.getByTestId('object-item').first().getByTestId('object-delete').click();
    await waitForAppEvent(page, 'object-deleted');
    await expect(rows).toHaveCount(before.names.length - 1);
    await expect(page.locator('path.vantage-mask')).toHaveCount(before.paths.length - 1);
    await expect(page.locator('path.vantage-mask[stroke="#1982c4"]')).toHaveCount(0);
    await expect(chips(0).first()).toBeDisabled();
    // the others keep their colours (before, a colour was the mask's place in the list)
    expect(await swatches(page)).toEqual(before.swatches.slice(1));
    await expect(page.getByTestId('object-undo-toast')).toContainText(`Deleted “${before.names[0]}”`);
    await page.getByTestId('undo-object-delete').click();
    await waitForAppEvent(page, 'object-restored');
    await expect(rows).toHaveCount(before.names.length);
    expect(await rowNames(page)).toEqual(before.names);
    expect(await swatches(page)).toEqual(before.swatches);
    // the restored outline is redrawn once its measurement is back, then put back in its place in the drawing order
    await expect.poll(() => colours(page)).toEqual(before.paths);

    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});
