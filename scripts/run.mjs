#!/usr/bin/env node
// Every root script (`npm run demo|test|build|lint|typecheck|format|publint|consumer-test|deps|docs|bench|vitest`)
// lands here, so each works typed in a shell on a machine with only Node and npm: dependencies are installed first,
// pnpm is found or fetched through npx (scripts/commands.mjs), and no argument goes through a shell.
//
//   node scripts/run.mjs <task> [args for the task's main tool]
//
// `consumer-test` builds, packs and installs the packages in a fresh project outside the workspace and checks them
// there (scripts/consumer-test.mjs); `npm test` runs it too.
//
// `test-node` is the CI's run on another Node version: the vitest `node` project only, with the closing line.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pnpm, root, run, tool } from './commands.mjs';

const task = process.argv[2];
const extra = process.argv.slice(3);

function step(name, fn, after) {
  const t0 = Date.now();
  console.log(`\n▶ ${name}`);
  const status = fn();
  after?.();
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (status !== 0) {
    console.error(`✖ ${name} failed (exit ${status}, ${secs}s)`);
    process.exit(status);
  }
  console.log(`✔ ${name} (${secs}s)`);
}

const results = join(root, 'node_modules', '.cache', 'vitest-results.json');

// One plain closing line ("tests: N passed, N failed, N skipped") that any CI log reader understands.
function printSummary() {
  if (!existsSync(results)) return;
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
}

const vitestWithSummary = (name, args) =>
  step(
    name,
    () => {
      rmSync(results, { force: true });
      return run(
        ...tool('vitest', 'vitest', [
          'run',
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${results}`,
          ...args,
        ]),
      );
    },
    printSummary,
  );

const lint = (args = [], name = 'lint (biome)') =>
  step(name, () => run(...tool('@biomejs/biome', 'biome', ['check', '.', ...args])));
const typecheck = (args = []) =>
  step('typecheck (tsc)', () => run(...tool('typescript', 'tsc', ['-p', 'tsconfig.json', ...args])));
// The filter is one argv entry, never seen by a shell, so its glob reaches pnpm as written.
const build = () => step('build packages', () => run(...pnpm(['-r', '--filter', './packages/*', 'run', 'build'])));
const publint = () => step('publint and attw', () => run(process.execPath, ['scripts/publint-all.mjs']));
const checkDeps = () =>
  step('dependencies (each package declares what it imports, sideEffects)', () =>
    run(process.execPath, ['scripts/check-deps.mjs']),
  );
// The API reference from the TSDoc (typedoc.json: every package's `exports`), into docs/api/, warnings as errors.
const docs = (args = []) =>
  step('API reference (typedoc, warnings as errors)', () => run(...tool('typedoc', 'typedoc', args)));
// The packed packages installed with npm in a fresh project outside the workspace (scripts/consumer-test.mjs).
const consumerTest = () =>
  step('consumer test (packed tarballs in a fresh npm project)', () =>
    run(process.execPath, ['scripts/consumer-test.mjs']),
  );

const tasks = {
  test: () => {
    lint();
    typecheck();
    checkDeps();
    build();
    publint();
    consumerTest();
    docs();
    vitestWithSummary('unit, integration and browser tests (vitest)', extra);
  },
  'test-node': () =>
    vitestWithSummary(`node tests (vitest --project node) on Node ${process.version}`, ['--project', 'node', ...extra]),
  demo: () => {
    const demo = join(root, 'examples/fargate-task/main.ts');
    step('demo: a Fargate task on the embedded emulators', () => run(...tool('tsx', 'tsx', [demo, ...extra])));
  },
  docs: () => docs(extra),
  deps: checkDeps,
  bench: () => step('benchmarks', () => run(...tool('tsx', 'tsx', ['bench/index.ts', ...extra]))),
  build,
  lint: () => lint(extra),
  format: () => lint(['--write', ...extra], 'format (biome)'),
  typecheck: () => typecheck(extra),
  publint: () => {
    build();
    publint();
  },
  'consumer-test': () => {
    build();
    consumerTest();
  },
  vitest: () => step('vitest', () => run(...tool('vitest', 'vitest', ['run', ...extra]))),
};

if (!Object.hasOwn(tasks, task ?? '')) {
  console.error(`usage: node scripts/run.mjs ${Object.keys(tasks).join('|')} [args]`);
  process.exit(2);
}
step('install dependencies', () =>
  run(...pnpm(['install', '--frozen-lockfile', '--prefer-offline', ...(process.env.CI ? [] : ['--reporter=silent'])])),
);
tasks[task]();
