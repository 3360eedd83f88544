import {defineConfig} from 'vitest/config'

// Two projects: unit tests (pure logic, no global setup) and e2e tests (real registries, runc,
// user namespaces: started once by test/harness/global-setup.ts).
export default defineConfig({
  test: {
    maxWorkers: 2,
    fileParallelism: true,
    teardownTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
