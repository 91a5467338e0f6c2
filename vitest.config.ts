import { defineConfig } from 'vitest/config';

/**
 * One vitest project per test layer; the npm scripts `test:<project>` use the same names.
 * Integration and e2e tests start real DynamoDB Local JVMs and servers on random loopback ports,
 * so they run in forks with generous timeouts.
 */
export default defineConfig({
  test: {
    setupFiles: ['./local/polyfills.ts'],
    // Handlers loaded in-process log warnings and errors only and print no EMF metric lines
    // (lambdas/shared/observability.ts); a test that checks telemetry sets its own values.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
