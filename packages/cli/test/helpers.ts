// Runs the real binary (the built packages/cli/dist/bin.js, see binary.ts) as a child process, with a clean
// environment: only what the test gives it plus what node needs to start, and NODE_OPTIONS, which carries the
// tests' loopback-only network guard into the child.
import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, ensureBinary, REPO_ROOT } from './binary.js';

// Once per test file: the binary must be built and current before any test spawns it.
await ensureBinary();

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function baseEnv(): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'NODE_OPTIONS']) {
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
): { child: ChildProcess; done: Promise<Run>; stdoutSoFar: () => string; stderrSoFar: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
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
  return { child, done, stdoutSoFar: () => stdout, stderrSoFar: () => stderr };
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

/** Polls `condition` every 25 ms until it holds; throws naming `what` after `timeoutMs`, or when `running` exits first. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; running?: Pick<ReturnType<typeof start>, 'child' | 'stderrSoFar'> } = {},
): Promise<void> {
  const { timeoutMs = 20_000, running } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (running && running.child.exitCode !== null) {
      throw new Error(`the process exited (${running.child.exitCode}) before ${what}: ${running.stderrSoFar()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
