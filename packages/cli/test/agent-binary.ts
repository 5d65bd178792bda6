// The agent tests run the BUILT binary (packages/cli/dist/bin.js over the built SDK packages, what `npm i -g`
// installs) as a child process with a clean environment. `npm test` builds every package before vitest runs.
// TODO(merge): issue 11's test/binary.ts (ensureBinary builds what is stale) and its helpers.ts `start`, which then
// runs dist/bin.js too, replace checkBinary and startCli here; until then a stale build fails loudly.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');
const PACKAGES = ['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'cli'];

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

/** Throws when a package the binary runs on has no build or one older than its sources. */
export function checkBinary(): void {
  for (const pkg of PACKAGES) {
    let built = 0;
    try {
      built = statSync(join(REPO_ROOT, 'packages', pkg, 'dist', 'node.js')).mtimeMs;
    } catch {
      // not built
    }
    if (built < newestSource(join(REPO_ROOT, 'packages', pkg, 'src'))) {
      throw new Error(`packages/${pkg}/dist is missing or older than its sources: run "npm run build" first`);
    }
  }
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<Run>;
  stdout(): string;
  stderr(): string;
}

/** Starts `ecs-identity <args>` with `env` (plus PATH, HOME, TMPDIR, NODE_OPTIONS); SIGKILL after `timeoutMs`. */
export function startCli(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Running {
  const keep: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS']) {
    const v = process.env[k];
    if (v !== undefined) keep[k] = v;
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    // The AWS SDK's Node 20 notice is not what these tests look at; they check stderr for secrets and errors.
    env: { ...keep, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** The JSON lines of a run's stdout. */
export function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `condition` every 25 ms; throws naming `what` after `timeoutMs` (or when `running` exits first). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  running?: Running,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (running && running.child.exitCode !== null) {
      throw new Error(`the agent exited (${running.child.exitCode}) before ${what}: ${running.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
