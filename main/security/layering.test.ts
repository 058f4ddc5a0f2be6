import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../testing/data.js';

// The layering rules are what keep the renderer sandboxable; prove they fire on the real config.
const eslint = new ESLint({ cwd: repoRoot });
const lint = async (file: string, code: string) => {
  const [res] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return res!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('layering lint rules', () => {
  it('forbid Node and Electron in the renderer', async () => {
    expect(await lint('renderer/src/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n")).toHaveLength(1);
    expect(await lint('renderer/src/x.ts', "import fs from 'fs';\nexport const a = fs;\n")).toHaveLength(1);
    expect(await lint('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n")).toHaveLength(1);
  });

  it('let the renderer import only the contract from main/', async () => {
    expect(await lint('renderer/src/x.ts', "import { procedures } from '../../main/contract/procedures.js';\nexport const a = procedures;\n")).toEqual([]);
    expect(await lint('renderer/src/x.ts', "import { createServices } from '../../main/boot.js';\nexport const a = createServices;\n")).toHaveLength(1);
    expect(await lint('renderer/src/x.ts', "import { openDatabase } from '../../db/database.js';\nexport const a = openDatabase;\n")).toHaveLength(1);
  });

  it('keep the contract pure and the services free of Electron', async () => {
    expect(await lint('main/contract/x.ts', "import path from 'node:path';\nexport const a = path;\n")).toHaveLength(1);
    expect(await lint('main/contract/x.ts', "import { FileAccess } from '../files/fileAccess.js';\nexport const a = FileAccess;\n")).toHaveLength(1);
    expect(await lint('main/imagery/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    expect(await lint('main/app/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toEqual([]);
  });
});
