// Runs the real binary (the TypeScript source through tsx, as `node dist/bin.js` would run the build) as a child
// process, with a clean environment: only what the test gives it plus what node and tsx need to start.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = 'packages/cli/src/bin.ts';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function baseEnv(): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) keep[k] = v;
  }
  return keep;
}

/** Starts the binary; `done` settles when it exits (killed after `timeoutMs`). */
export function start(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): { child: ChildProcess; done: Promise<Run>; stdoutSoFar: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: REPO_ROOT,
    // On Node < 22 the AWS SDK prints a NodeVersionSupportWarning once per process (warnings.test.ts checks that
    // it reaches stderr, on one line); the other tests switch it off the SDK's documented way, so that their
    // `stderr === ''` means nothing else was printed.
    env: { ...baseEnv(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
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
  return { child, done, stdoutSoFar: () => stdout };
}

/** Runs the binary to completion. */
export function run(args: readonly string[], env: Record<string, string> = {}, timeoutMs?: number): Promise<Run> {
  return start(args, env, timeoutMs).done;
}

/** The JSON lines a command printed. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
