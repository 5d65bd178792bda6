// The built binary the child-process tests run: packages/cli/dist/bin.js, exactly what `npm i -g` installs, over the
// built SDK packages it imports through their package exports. `npm test` builds every package before vitest runs;
// when a test run finds a build missing or older than its sources (vitest alone, after an edit), it builds the
// packages the CLI needs once, under a lock shared by the vitest workers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

/** The CLI and the packages it imports, in build order (each build reads its dependencies' declarations). */
const PACKAGES = ['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'cli'];
const LOCK = join(REPO_ROOT, 'node_modules/.cache/ecs-identity-cli-build.lock');
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

/** Packages whose build is missing or older than a source file (then everything after them is rebuilt too). */
function stale(): string[] {
  const first = PACKAGES.findIndex((p) => builtAt(p) < newestSource(join(REPO_ROOT, 'packages', p, 'src')));
  return first === -1 ? [] : PACKAGES.slice(first);
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

/** Builds what is stale (once across concurrent test workers); resolves when dist/bin.js is current. */
export async function ensureBinary(): Promise<string> {
  mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (stale().length === 0) return BIN;
    if (tryLock()) {
      try {
        for (const pkg of stale()) {
          execFileSync(
            process.execPath,
            [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', `packages/${pkg}/tsconfig.build.json`],
            { cwd: REPO_ROOT, stdio: 'inherit' },
          );
        }
        return BIN;
      } finally {
        rmdirSync(LOCK);
      }
    }
    if (Date.now() > deadline) throw new Error(`another test worker has held ${LOCK} for too long`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
