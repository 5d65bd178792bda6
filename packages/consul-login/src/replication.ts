/**
 * Waits until a new ACL token can be read back with `?stale`: a login is answered by the leader, but the next
 * request may land on a follower that has not replicated the token yet and would answer `ACL not found`.
 * @packageDocumentation
 */
import { type Clock, IdentityError, sleep, systemClock, withDeadline } from '@ecs-identity/core';
import type { ConsulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { ConsulError } from './errors.js';

/** @public */
export interface ReplicationWaitOptions {
  /** Self-reads in all. Default 20 (consul-ecs's). */
  attempts?: number | undefined;
  /** Pause between self-reads in ms. Default 100 (consul-ecs's). */
  intervalMs?: number | undefined;
  /**
   * The bound on the whole wait, every self-read (each can take the client's request timeout) and pause included.
   * Default 10_000 ms.
   */
  timeoutMs?: number | undefined;
  /**
   * How messages name a token given by its SecretID alone (never quoted), e.g. `the token in /consul/client-token`.
   * Default `the Consul token`. A {@link ConsulToken} is named by its AccessorID.
   */
  description?: string | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
}

function checkCount(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConsulError('INVALID_ARGUMENT', `${field} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Reads the token back with `GET /v1/acl/token/self?stale` until it answers, every `intervalMs` (longer when the server
 * sends `Retry-After`), at most `attempts` times and within `timeoutMs` in all, and resolves with the token as the
 * server read it back. The token is the one a login returned, or a SecretID alone (read from a sink file).
 * `ACL not found` and retryable errors (network, 5xx) are waited out; anything else is thrown at once. When the tries
 * or the time run out (or a `Retry-After` would take the wait past `timeoutMs`): `CONSUL_NOT_REPLICATED` with the last
 * error as cause.
 *
 * @example
 * ```ts
 * const acl = consulAclClient({ address: 'https://consul.service:8501' });
 * const self = await waitForReplication(acl, secretIdFromFile, { timeoutMs: 5000, description: 'the client token' });
 * console.log(self.accessorId);
 * ```
 * @public
 */
export async function waitForReplication(
  acl: ConsulAclClient,
  token: ConsulToken | string,
  options: ReplicationWaitOptions = {},
): Promise<ConsulToken> {
  const attempts = checkCount(options.attempts ?? 20, 'replication attempts', 1);
  const intervalMs = checkCount(options.intervalMs ?? 100, 'replication intervalMs', 0);
  const timeoutMs = checkCount(options.timeoutMs ?? 10_000, 'replication timeoutMs', 1);
  const clock = options.clock ?? systemClock;
  const named =
    typeof token === 'string' ? (options.description ?? 'the Consul token') : `Consul token ${token.accessorId}`;
  let last: unknown;
  const notReplicated = (after: string) =>
    new ConsulError(
      'CONSUL_NOT_REPLICATED',
      `${named} was not readable with ?stale ${after}: the servers have not replicated it ` +
        `(last: ${last instanceof Error ? last.message : String(last ?? 'no answer')})`,
      { cause: last },
    );
  const endsAt = clock.now() + timeoutMs;
  const wait = async (signal: AbortSignal): Promise<ConsulToken> => {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let pause = intervalMs;
      try {
        return await acl.readSelf(token, { stale: true, signal });
      } catch (e) {
        if (signal.aborted) throw e;
        const waitable = IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND') || (IdentityError.is(e) && e.retryable);
        if (!waitable) throw e;
        last = e;
        // A server that says when to come back (Retry-After) is not asked sooner; if that is past the bound, stop.
        const retryAfterMs = e.retryAfterMs ?? 0;
        if (retryAfterMs > pause) {
          if (clock.now() + retryAfterMs >= endsAt)
            throw notReplicated(`within ${timeoutMs} ms (the server asked to wait ${retryAfterMs} ms)`);
          pause = retryAfterMs;
        }
      }
      if (attempt < attempts) await sleep(pause, signal, clock);
    }
    throw notReplicated(`after ${attempts} tries ${intervalMs} ms apart`);
  };
  try {
    return await withDeadline(wait, {
      timeoutMs,
      what: 'waiting for the Consul token to replicate',
      clock,
      signal: options.signal,
    });
  } catch (e) {
    if (IdentityError.is(e, 'TIMEOUT') && !options.signal?.aborted) throw notReplicated(`within ${timeoutMs} ms`);
    throw e;
  }
}
