/**
 * Logging tokens out at shutdown (Node): on SIGTERM, log out a list of tokens in order (the service token, then
 * the client token, as consul-ecs does), report every failure, exit non-zero if any failed.
 * @packageDocumentation
 */
import { IdentityError, type Logger, safeLogger } from '@ecs-identity/core';
import type { ConsulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';

/**
 * Something to log out: a provider (its `close()` logs out), or an ACL client with a token.
 * `name` is what reports call it (`service token`).
 * @public
 */
export type LogoutTarget =
  | { readonly name: string; readonly provider: { close(): Promise<void> } }
  | { readonly name: string; readonly acl: ConsulAclClient; readonly token: ConsulToken | string };

/** @public */
export interface LogoutFailure {
  name: string;
  error: unknown;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Logs out each target in order, continuing past failures. A token that is already gone (`CONSUL_TOKEN_NOT_FOUND`)
 * counts as logged out. Returns the failures (empty when all went well); each is also logged.
 * @public
 */
export async function logoutAll(targets: readonly LogoutTarget[], logger?: Logger): Promise<LogoutFailure[]> {
  const log = safeLogger(logger);
  const failures: LogoutFailure[] = [];
  for (const target of targets) {
    try {
      if ('provider' in target) await target.provider.close();
      else await target.acl.logout(target.token);
      log.info({ target: target.name }, 'logged out');
    } catch (error) {
      if (IdentityError.is(error, 'CONSUL_TOKEN_NOT_FOUND')) {
        log.warn({ target: target.name }, 'already logged out (token not found)');
        continue;
      }
      failures.push({ name: target.name, error });
      log.error({ target: target.name, err: describe(error) }, 'logout failed');
    }
  }
  return failures;
}

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
