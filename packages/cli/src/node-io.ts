/**
 * The real process behind {@link CliIo}: `process.env`, stdout / stderr, and SIGTERM / SIGINT as the stop request.
 * @packageDocumentation
 */
import type { CliIo } from './command.js';
import { oneLine } from './error-line.js';

/**
 * The process's {@link CliIo}. `waitForStop(until)` resolves on the first SIGTERM or SIGINT after it is called; until
 * then the signals keep their default meaning (a sidecar killed before its command listens just dies). It keeps the
 * process alive while it waits, and through the command's cleanup after the signal when `until` is given; when
 * `until` aborts (the command has ended, whichever way) it stops listening and lets go of the process, so the process
 * exits with its status.
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
    waitForStop: (until) =>
      new Promise<string>((resolve) => {
        if (until?.aborted) return;
        // Signal listeners do not keep the event loop alive, and the SDK's refresh timers are unref'd on purpose:
        // this timer is what keeps a waiting process running. With `until` it stays through the command's cleanup
        // after the signal and goes when the command ends; without, it goes with the signal.
        const keepAlive = setInterval(() => {}, 2 ** 30);
        const stopListening = () => {
          process.off('SIGTERM', on);
          process.off('SIGINT', on);
        };
        const release = () => {
          stopListening();
          clearInterval(keepAlive);
        };
        const on = (signal: NodeJS.Signals) => {
          stopListening();
          if (until === undefined) clearInterval(keepAlive);
          resolve(signal);
        };
        process.once('SIGTERM', on);
        process.once('SIGINT', on);
        until?.addEventListener('abort', release, { once: true });
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
