/**
 * The real process behind {@link CliIo}: `process.env`, stdout / stderr, and SIGTERM / SIGINT as the stop request.
 * @packageDocumentation
 */
import type { CliIo } from './command.js';

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
        const on = (signal: NodeJS.Signals) => {
          process.off('SIGTERM', on);
          process.off('SIGINT', on);
          resolve(signal);
        };
        process.once('SIGTERM', on);
        process.once('SIGINT', on);
      }),
  };
}
