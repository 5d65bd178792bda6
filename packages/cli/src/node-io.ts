/**
 * The real process behind {@link CliIo}: `process.env`, stdout / stderr, and SIGTERM / SIGINT as the stop request.
 * @packageDocumentation
 */
import type { CliIo } from './command.js';
import { oneLine } from './error-line.js';

/**
 * The process's {@link CliIo}. `waitForStop()` resolves on the first SIGTERM or SIGINT after it is called; until
 * then the signals keep their default meaning (a sidecar killed during start-up just dies).
 * @public
 */
export function nodeIo(): CliIo {
  return {
    env: process.env,
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    waitForStop: () =>
      new Promise<string>((resolve) => {
        // Signal listeners do not keep the event loop alive, and the SDK's refresh timers are unref'd on purpose:
        // this timer is what keeps a waiting process running.
        const keepAlive = setInterval(() => {}, 2 ** 30);
        const on = (signal: NodeJS.Signals) => {
          clearInterval(keepAlive);
          process.off('SIGTERM', on);
          process.off('SIGINT', on);
          resolve(signal);
        };
        process.once('SIGTERM', on);
        process.once('SIGINT', on);
      }),
  };
}

/**
 * Makes Node's process warnings one-line records like everything else on stderr
 * (`ecs-identity: warning: <name>: <message>`), so a log shipper reading line by line is not split by them. Every
 * warning is still printed, the AWS SDK's `NodeVersionSupportWarning` included: only the layout changes. Call it at
 * start-up: it replaces the `'warning'` listeners present then (Node's own printer). When warnings are off
 * (`--no-warnings`, `NODE_NO_WARNINGS=1`) Node has no printer and this adds none.
 * @public
 */
export function foldProcessWarnings(program: string, write: (line: string) => void): void {
  const printers = process.listeners('warning');
  if (printers.length === 0) return;
  for (const printer of printers) process.off('warning', printer);
  process.on('warning', (warning) => write(`${program}: warning: ${warning.name}: ${oneLine(warning.message)}\n`));
}
