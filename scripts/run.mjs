#!/usr/bin/env node
// The README's two commands (`npm run demo`, `npm test`) land here. Only Node and npm are assumed:
// pnpm is used when it is on PATH, otherwise fetched through `npx pnpm@10`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const task = process.argv[2];
const extra = process.argv.slice(3);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function pnpmCommand() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && /^10\./.test(r.stdout.trim())) return ['pnpm', []];
  return ['npx', ['--yes', 'pnpm@10']];
}

const [pnpm, pnpmPrefix] = pnpmCommand();
const pn = (...args) => run(pnpm, [...pnpmPrefix, ...args]);

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

step('install dependencies', () =>
  pn('install', '--frozen-lockfile', '--prefer-offline', ...(process.env.CI ? [] : ['--reporter=silent'])),
);

const results = join(root, 'node_modules', '.cache', 'vitest-results.json');

// One plain closing line ("tests: N passed, N failed, N skipped") that any CI log reader understands.
function printSummary() {
  if (!existsSync(results)) return;
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
}

switch (task) {
  case 'test':
    step('lint (biome)', () => pn('exec', 'biome', 'check', '.'));
    step('typecheck (tsc)', () => pn('exec', 'tsc', '-p', 'tsconfig.json'));
    step('build packages', () => pn('-r', '--filter', './packages/**', 'run', 'build'));
    step('publint and attw', () => run(process.execPath, ['scripts/publint-all.mjs']));
    step(
      'unit, integration and browser tests (vitest)',
      () => {
        rmSync(results, { force: true });
        return pn(
          'exec',
          'vitest',
          'run',
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${results}`,
          ...extra,
        );
      },
      printSummary,
    );
    break;
  case 'demo': {
    const demo = join(root, 'examples/fargate-task/main.ts');
    if (!existsSync(demo)) {
      console.error('The demo (examples/fargate-task) is not written yet; see issue 6.');
      process.exit(1);
    }
    step('demo: a Fargate task on the embedded emulators', () => pn('exec', 'tsx', demo, ...extra));
    break;
  }
  case 'bench':
    step('benchmarks', () => pn('exec', 'tsx', 'bench/index.ts', ...extra));
    break;
  default:
    console.error('usage: node scripts/run.mjs test|demo|bench');
    process.exit(2);
}
