import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkDroppedImage } from './droppedFile.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vantage-drop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('accepts an absolute path to an image file and refuses folders, other files and relative paths', async () => {
  const img = path.join(dir, 'a.TIF');
  writeFileSync(img, 'II*\0');
  writeFileSync(path.join(dir, 'notes.txt'), 'x');
  await expect(checkDroppedImage(img)).resolves.toBe(img);
  await expect(checkDroppedImage(dir)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/folder/) });
  await expect(checkDroppedImage(path.join(dir, 'notes.txt'))).rejects.toMatchObject({ code: 'BAD_INPUT' });
  await expect(checkDroppedImage(path.join(dir, 'gone.tif'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(checkDroppedImage('a.tif')).rejects.toMatchObject({ code: 'BAD_INPUT' });
});
