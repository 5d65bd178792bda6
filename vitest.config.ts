import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { sourceEntries } from './test-support/entries.js';

// Tests import package sources directly, so no build is needed to test: each entry of a package's `exports` maps to
// the source its build compiles. Node tests get an entry's Node build where it has one (what Node resolves), browser
// tests the default (browser-safe) one.
const aliases = (condition: 'node' | 'default') =>
  sourceEntries(condition).map(({ specifier, source }) => ({
    find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`),
    replacement: source,
  }));
const alias = aliases('node');
const browserAlias = aliases('default');

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI sets REQUIRE_BROWSER=1 (and installs Chromium), so a missing browser fails there
// instead of silently dropping the browser project.
const browserAvailable = existsSync(chromium);
if (!browserAvailable && process.env.REQUIRE_BROWSER === '1') {
  throw new Error(`REQUIRE_BROWSER=1 but no Chromium at ${chromium} (apt-get install -y chromium)`);
}
if (!browserAvailable) {
  console.warn(`[vitest] no Chromium at ${chromium}: the browser project does not run (apt-get install -y chromium)`);
}

export default defineConfig({
  resolve: { alias },
  test: {
    // Vitest's default is one worker less than the cores: one worker on a 2-core machine, where most test time is
    // spent waiting (child processes, loopback servers, timers), not computing. Two at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'node',
          // A test that asserts nothing fails.
          expect: { requireAssertions: true },
          environment: 'node',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'examples/**/*.test.ts',
            'test/**/*.test.ts',
            'test-support/**/*.test.ts',
          ],
          // Tests may only connect to loopback (also in the child processes they spawn).
          setupFiles: ['test-support/vitest-setup-node.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', '**/*.browser.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      ...(browserAvailable
        ? [
            {
              resolve: { alias: browserAlias },
              test: {
                name: 'browser',
                expect: { requireAssertions: true },
                include: ['packages/*/src/**/*.browser.test.ts', 'packages/*/test/**/*.browser.test.ts'],
                testTimeout: 30_000,
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: playwright({
                    launchOptions: {
                      executablePath: chromium,
                      args: [
                        '--headless',
                        '--no-sandbox',
                        '--disable-gpu',
                        '--disable-quic',
                        '--no-first-run',
                        '--disable-background-networking',
                        '--disable-component-update',
                        '--disable-sync',
                      ],
                    },
                  }),
                  instances: [{ browser: 'chromium' as const }],
                },
              },
            },
          ]
        : []),
    ],
  },
});
