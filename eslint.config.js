// Layering rules keep the runtimes honest (conventions #1): renderer = browser only, contract = pure,
// services = no Electron. Everything else is typescript-eslint's recommended set.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The rooms of the back end, bottom → top (ARCHITECTURE.md). A room imports its own layer or lower ones, never a
 * higher one; with no-cycle below, that makes the layering executable. Tooling (main/build, main/testing), tests and
 * benchmarks may reach across for set-up.
 */
const LAYERS = [
  ['main/contract'],
  ['main/util', 'main/security'],
  ['db'],
  ['main/analysis', 'main/files', 'main/imagery'],
  ['main/inference'],
  ['main/sessions', 'main/cases', 'main/packs'],
  ['main/masks', 'main/chat', 'main/change', 'main/reports'],
  ['main/server', 'main/boot.ts', 'main/cli', 'main/app', 'main/appPaths.ts'],
];
const layerZones = LAYERS.slice(0, -1).flatMap((rooms, i) =>
  rooms.map((room) => ({
    target: `./${room}`,
    from: LAYERS.slice(i + 1).flat().map((r) => `./${r}`),
    message: `${room} (layer ${i}) may import only its own layer or lower ones (see ARCHITECTURE.md)`,
  })),
);
// db/ sits under the services but imports nothing of main/ except the contract
layerZones.push({ target: './db', from: './main', except: ['./contract'], message: 'db/ imports only the contract from main/' });

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'net', 'url', 'stream', 'util'];

export default tseslint.config(
  { ignores: ['dist/**', '**/node_modules/**', 'native-models/testpack/pack/**', 'test-results/**', 'playwright-report/**', '.gpukit/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['main/**/*.ts', 'db/**/*.ts', 'renderer/**/*.{ts,tsx}', 'native-models/**/*.ts', 'e2e/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'renderer/tsconfig.json'], noWarnOnMultipleProjects: true })],
      // parse TypeScript dependencies too: without these no-cycle skips every .ts module and finds nothing
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['main/**/*.ts', 'db/**/*.ts'],
    ignores: ['**/*.test.ts', '**/bench/**', '**/testing/**', 'main/build/**'],
    plugins: { 'import-x': importX },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones }] },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'the renderer is sandboxed: no Electron; talk to the services through the contract client' }],
          patterns: [
            { group: nodeBuiltins, message: 'the renderer runs in a browser sandbox: no Node modules' },
            { group: ['**/main/**', '!**/main/contract', '!**/main/contract/**'], message: 'the renderer may import only the pure contract from main/' },
            { group: ['**/db/**', '**/native-models/**'], message: 'backend code cannot run in the renderer' },
          ],
        },
      ],
    },
  },
  {
    files: ['main/**/*.ts', 'db/**/*.ts', 'native-models/**/*.ts'],
    ignores: ['main/app/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'services know nothing of Electron: only main/app/ may import it' }] }],
    },
  },
  ...[
    // files directly in main/contract may import siblings; files in main/contract/calls may import one level up
    { files: ['main/contract/*.ts'], outside: ['../*'] },
    { files: ['main/contract/calls/*.ts'], outside: ['../../*'] },
  ].map(({ files, outside }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'the contract is pure: it runs in the renderer too' }],
          patterns: [
            { group: nodeBuiltins, message: 'the contract is pure: no Node modules (it runs in the renderer too)' },
            { group: outside, message: 'the contract imports nothing from the services' },
          ],
        },
      ],
    },
  })),
);
