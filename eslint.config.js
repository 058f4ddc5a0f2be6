// Layering rules keep the runtimes honest (conventions #1): renderer = browser only, contract = pure,
// services = no Electron. Everything else is typescript-eslint's recommended set.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'net', 'url', 'stream', 'util'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native-models/testpack/pack/**', 'test-results/**', 'playwright-report/**', '.gpukit/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
