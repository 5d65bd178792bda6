import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

// Tests import package sources directly, so no build is needed to test: each entry of a package's `exports` maps to
// the source its build compiles (`./dist/x.js` ← `src/x.ts`). Node tests get the `node` condition's build where an
// entry has one (what Node resolves), browser tests the `default` one.
const packages = ['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'testkit', 'cli'];
const dir = (p: string) => fileURLToPath(new URL(`./packages/${p}/`, import.meta.url));
type Target = string | { node?: string; default?: string };
function aliases(condition: 'node' | 'default') {
  return packages.flatMap((name) => {
    const manifest = JSON.parse(readFileSync(`${dir(name)}package.json`, 'utf8')) as {
      exports: Record<string, Target>;
    };
    return Object.entries(manifest.exports).flatMap(([entry, target]) => {
      const file = typeof target === 'string' ? target : (target[condition] ?? target.default);
      if (file === undefined || !file.startsWith('./dist/')) return [];
      const source = `${dir(name)}src/${file.slice('./dist/'.length).replace(/\.js$/, '.ts')}`;
      const specifier = `@ecs-identity/${name}${entry === '.' ? '' : entry.slice(1)}`;
      return [{ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: source }];
    });
  });
}
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
