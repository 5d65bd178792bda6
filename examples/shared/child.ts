/**
 * For the examples' smoke tests: an example's `main.ts` as a child process (`node --import tsx`, from the repo root),
 * its stdout and stderr collected together, and a SIGKILL after `killAfterMs` so a hung example cannot hang CI.
 * @internal
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** @internal */
export interface RunningExample {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The exit code (null when killed by a signal), once the process has closed. */
  readonly exited: Promise<number | null>;
}

/** @internal */
export function startExample(main: string, args: string[], killAfterMs = 25_000): RunningExample {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (c: Buffer) => {
    out += c.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve(code);
    });
  });
  return { child, output: () => out, exited };
}
