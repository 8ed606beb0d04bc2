import { defineConfig } from 'vitest/config';

// Projects: `unit` needs nothing outside the process; `integration` (and fault tests) use the
// real servers that test/support/global-setup.ts starts on loopback ports; `e2e` drives the built
// renderer in Chromium on those servers; `journeys` runs the CLI end to end as an operator does;
// `campaign` kills it at random moments (test/campaign/).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/fault/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
        },
      },
      {
        // The built renderer in Chromium with the real backend, MinIO and Apache behind it.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/e2e/support/build-assets.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
        },
      },
      {
        // Whole operator journeys (issue 8): the built CLI as child processes against MinIO, Apache
        // WebDAV, ActiveMQ and the SciCat/ICAT contract servers; every end state read back independently.
        extends: true,
        test: {
          name: 'journeys',
          include: ['test/journeys/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/journey-broker-setup.ts'],
          testTimeout: 120_000,
        },
      },
      {
        // The crash campaign's short run (issue 10, test/campaign/): about 40 SIGKILLs of the
        // built CLI with faults; it starts (and restarts) its own MinIO, Apache, ActiveMQ and
        // SciCat contract server. `npm run campaign` is the full run.
        extends: true,
        test: {
          name: 'campaign',
          include: ['test/campaign/**/*.test.ts'],
          testTimeout: 900_000,
        },
      },
    ],
  },
});
