/**
 * Runs every `bench/*.bench.ts` in its own Node process, one after another, so they do not share a JIT, a heap or
 * leftover timers. Each benchmark prints its own figures and a `ratio (ours/theirs) = X.XX  target >= T` line.
 *
 *   pnpm bench                      # all of them
 *   pnpm bench get-throughput       # only files whose name contains one of the arguments
 *
 * Benchmarks report; they do not fail on a missed target. This script exits non-zero only when a benchmark
 * crashes.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
// The repo root: its tsconfig.json maps @ecs-identity/* to the package sources, which tsx honours.
const root = join(benchDir, '..');
const filters = process.argv.slice(2).filter((a) => a !== '--');

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts file matches ${filters.join(', ') || '(any)'}`);
  process.exit(1);
}

const failed: string[] = [];
for (const file of files) {
  const path = join(benchDir, file);
  console.log(`\n=== ${relative(root, path)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path], { cwd: root, stdio: 'inherit', env: process.env });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.error !== undefined || r.status !== 0) {
    failed.push(file);
    console.error(`=== ${file} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}, ${secs}s)`);
  } else {
    console.log(`=== ${file} done (${secs}s)`);
  }
}

if (failed.length > 0) {
  console.error(`\n${failed.length} of ${files.length} benchmarks failed: ${failed.join(', ')}`);
  process.exit(1);
}
