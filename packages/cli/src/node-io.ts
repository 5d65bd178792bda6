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
 * (`ecs-identity: warning: <name>: <message>`), so a log shipper reading line by line is not split by them. The AWS
 * SDK's notice about its own future Node requirement is dropped: it concerns SDK releases this CLI does not pin,
 * not anything its user can act on (the CLI's `engines` field is the contract).
 * @public
 */
export function foldProcessWarnings(program: string, write: (line: string) => void): void {
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : typeof warning === 'string' ? 'Warning' : warning.name;
    if (message.startsWith('NodeVersionSupportWarning')) return;
    write(`${program}: warning: ${type}: ${oneLine(message)}\n`);
  }) as typeof process.emitWarning;
}
