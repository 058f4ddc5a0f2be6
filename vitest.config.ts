import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each suite gets its own budget; the whole `npm test` must stay under 15 minutes on 2 cores.
    projects: [
      {
        test: {
          name: 'unit',
          include: ['main/**/*.test.ts', 'db/**/*.test.ts', 'renderer/src/**/*.test.ts', 'native-models/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['main/**/*.int.test.ts', 'db/**/*.int.test.ts', 'native-models/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
