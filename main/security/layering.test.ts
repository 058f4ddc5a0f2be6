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

// The back end's rooms form layers (ARCHITECTURE.md): an import upwards or a cycle anywhere fails lint.
const ruleIds = async (file: string, code: string) => {
  const [res] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return res!.messages.map((m) => m.ruleId);
};

describe('room layering lint rules', () => {
  it('refuse an import from a higher layer', async () => {
    expect(await ruleIds('db/x.ts', "import { joinUnder } from '../main/util/safePath.js';\nexport const a = joinUnder;\n")).toContain('import-x/no-restricted-paths');
    expect(await ruleIds('main/inference/x.ts', "import { ChatService } from '../chat/chatService.js';\nexport const a = ChatService;\n")).toContain('import-x/no-restricted-paths');
    expect(await ruleIds('main/imagery/x.ts', "import { createServices } from '../boot.js';\nexport const a = createServices;\n")).toContain('import-x/no-restricted-paths');
  });

  it('allow imports from the same or lower layers', async () => {
    expect(await ruleIds('main/chat/x.ts', "import { VantageError } from '../contract/errors.js';\nexport const a = VantageError;\n")).toEqual([]);
    expect(await ruleIds('main/server/x.ts', "import { joinUnder } from '../util/safePath.js';\nexport const a = joinUnder;\n")).toEqual([]);
  });

  it('refuse an import cycle', async () => {
    // rendererFile.ts imports safePath.ts, so safePath.ts importing it back closes a cycle
    const ids = await ruleIds('main/util/safePath.ts', "import { rendererFileFor } from '../server/rendererFile.js';\nexport const a = rendererFileFor;\n");
    expect(ids).toContain('import-x/no-cycle');
  });
});
