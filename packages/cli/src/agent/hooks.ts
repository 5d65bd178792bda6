/**
 * What runs after a template was written: a command (argv, no shell, with a deadline) or a signal to the process
 * named by a PID file. The command's output goes to the agent's log, line by line, through the scrubbing logger.
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { IdentityError, type Logger } from '@ecs-identity/core';

/** The most output of a command kept for the log. */
const MAX_OUTPUT = 16 * 1024;
/** How long a command that ignored SIGTERM at its deadline gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

function failed(message: string, cause?: unknown): IdentityError {
  return new IdentityError('HOOK_FAILED', message, cause === undefined ? {} : { cause });
}

/**
 * Runs `argv` and resolves when it exits 0. Its stdout and stderr are logged (info) as `<what>: <line>`.
 * @throws IdentityError `HOOK_FAILED` when it cannot start, exits non-zero, is killed, or outlives `timeoutMs`
 * @internal
 */
export function runCommand(
  argv: readonly string[],
  options: { timeoutMs: number; env: Readonly<Record<string, string | undefined>>; logger: Logger; what: string },
): Promise<void> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise<void>((resolve, reject) => {
    let output = '';
    let timedOut = false;
    const child = spawn(file, args, { env: options.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let killer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, options.timeoutMs);
    const done = () => {
      clearTimeout(deadline);
      clearTimeout(killer);
      for (const line of output.split('\n')) if (line.trim() !== '') options.logger.info(`${options.what}: ${line}`);
    };
    child.on('error', (e) => {
      done();
      const code = (e as { code?: unknown }).code;
      reject(
        failed(`${options.what}: cannot run ${JSON.stringify(file)}${typeof code === 'string' ? ` (${code})` : ''}`, e),
      );
    });
    child.on('close', (code, signal) => {
      done();
      if (timedOut)
        reject(failed(`${options.what}: ${JSON.stringify(file)} did not finish within ${options.timeoutMs} ms`));
      else if (code !== 0) {
        reject(
          failed(
            `${options.what}: ${JSON.stringify(file)} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}`,
          ),
        );
      } else resolve();
    });
  });
}

/**
 * Sends `signal` to the process whose PID `pidFile` holds. Resolves `false` when there is no PID file yet (the
 * process has not started: nothing to tell), `true` once signalled.
 * @throws IdentityError `HOOK_FAILED` when the file holds no PID or no such process exists
 * @internal
 */
export async function signalProcess(pidFile: string, signal: NodeJS.Signals, what: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return false;
    throw failed(`${what}: cannot read the PID file ${pidFile}`, e);
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) throw failed(`${what}: the PID file ${pidFile} holds no process id`);
  try {
    process.kill(pid, signal);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw failed(
      `${what}: cannot send ${signal} to process ${pid} from ${pidFile}${typeof code === 'string' ? ` (${code})` : ''}`,
      e,
    );
  }
  return true;
}
