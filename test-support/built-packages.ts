// The built packages that child processes run (what `npm i` installs: each package's dist through its exports), for
// tests and benchmarks that start Node processes the way a user does. `npm test` builds every package before vitest
// runs; when a run finds a build missing or older than its sources (vitest alone or a benchmark, after an edit), it
// builds the stale packages once, under a lock shared by concurrent test workers and benchmarks.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Every package that can be built, in build order (each build reads its dependencies' declarations). */
const BUILD_ORDER = ['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'testkit', 'cli'];
const LOCK = join(REPO_ROOT, 'node_modules/.cache/ecs-identity-build.lock');
const LOCK_STALE_MS = 5 * 60_000;
const WAIT_MS = 5 * 60_000;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.includes('.test.'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** When the package's main entry was built (every package has `src/index.ts`; not all have a `./node` entry). */
function builtAt(pkg: string): number {
  try {
    return statSync(join(REPO_ROOT, 'packages', pkg, 'dist', 'index.js')).mtimeMs;
  } catch {
    return 0;
  }
}

/** Of `packages` (in build order), those whose build is missing or older than a source file, and all after them. */
function stale(packages: readonly string[]): string[] {
  const first = packages.findIndex((p) => builtAt(p) < newestSource(join(REPO_ROOT, 'packages', p, 'src')));
  return first === -1 ? [] : packages.slice(first);
}

function tryLock(): boolean {
  try {
    mkdirSync(LOCK, { recursive: false });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > LOCK_STALE_MS) rmdirSync(LOCK); // a worker died while building
    } catch {
      // gone meanwhile
    }
    return false;
  }
}

/**
 * Builds what is stale of `packages` (the ones a child process runs and the workspace packages they import, any
 * order), once across concurrent workers; resolves when every one of them has a current dist.
 */
export async function ensureBuilt(packages: readonly string[]): Promise<void> {
  const unknown = packages.filter((p) => !BUILD_ORDER.includes(p));
  if (unknown.length > 0) throw new Error(`ensureBuilt: unknown packages ${unknown.join(', ')}`);
  const wanted = BUILD_ORDER.filter((p) => packages.includes(p));
  mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (stale(wanted).length === 0) return;
    if (tryLock()) {
      try {
        for (const pkg of stale(wanted)) {
          execFileSync(
            process.execPath,
            [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', `packages/${pkg}/tsconfig.build.json`],
            { cwd: REPO_ROOT, stdio: 'inherit' },
          );
        }
        return;
      } finally {
        rmdirSync(LOCK);
      }
    }
    if (Date.now() > deadline) throw new Error(`another worker has held ${LOCK} for too long`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
