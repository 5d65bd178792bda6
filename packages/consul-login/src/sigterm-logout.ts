/**
 * Logging tokens out at shutdown (Node): on SIGTERM, log out a list of tokens in order (the service token, then
 * the client token, as consul-ecs does), report every failure, exit non-zero if any failed.
 * @packageDocumentation
 */
import { type Logger, safeLogger } from '@ecs-identity/core';
import { type LogoutTarget, logoutAll } from './logout-all.js';

/** @public */
export interface LogoutOnSignalOptions {
  /** Default `['SIGTERM']`. */
  signals?: readonly NodeJS.Signals[] | undefined;
  /** Called with 0 when every logout worked, 1 otherwise. Default `process.exit`. */
  exit?: ((code: number) => void) | undefined;
  /** Where failures are reported. Default `console`. */
  logger?: Logger | undefined;
  /** The emitter to listen on. Default `process`. */
  process?: Pick<NodeJS.Process, 'once' | 'removeListener'> | undefined;
}

/**
 * On SIGTERM, logs out `targets` in order (give the service token first and the client token last), reports every
 * failure, then exits: 0 when all logouts worked, 1 when any failed. `targets` may be a function, read when the
 * signal arrives. Returns a function that removes the handler.
 *
 * @example
 * ```ts
 * logoutOnSigterm([
 *   { name: 'service token', provider: serviceTokens },
 *   { name: 'client token', acl, token: clientToken },
 * ]);
 * ```
 * @public
 */
export function logoutOnSigterm(
  targets: readonly LogoutTarget[] | (() => readonly LogoutTarget[]),
  options: LogoutOnSignalOptions = {},
): () => void {
  const proc = options.process ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = options.logger ?? console;
  const signals = options.signals ?? ['SIGTERM'];
  let running = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (running) return;
    running = true;
    uninstall();
    const list = typeof targets === 'function' ? targets() : targets;
    void logoutAll(list, logger).then(
      (failures) => {
        if (failures.length > 0) {
          safeLogger(logger).error(
            { signal, failed: failures.map((f) => f.name) },
            `${failures.length} of ${list.length} logouts failed`,
          );
        }
        exit(failures.length > 0 ? 1 : 0);
      },
      () => exit(1),
    );
  };
  const uninstall = (): void => {
    for (const s of signals) proc.removeListener(s, handler);
  };
  for (const s of signals) proc.once(s, handler);
  return uninstall;
}
