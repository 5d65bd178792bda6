/**
 * Logging a list of tokens out in order (the service token, then the client token, as consul-ecs does at shutdown),
 * continuing past failures and reporting each. Browser-safe.
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
