/**
 * Waits until a new ACL token can be read back with `?stale`: a login is answered by the leader, but the next
 * request may land on a follower that has not replicated the token yet and would answer `ACL not found`.
 * @packageDocumentation
 */
import { type Clock, IdentityError, sleep, systemClock } from '@ecs-identity/core';
import type { ConsulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';

/** @public */
export interface ReplicationWaitOptions {
  /** Self-reads in all. Default 20 (consul-ecs's). */
  attempts?: number;
  /** Pause between self-reads in ms. Default 100 (consul-ecs's). */
  intervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

function checkCount(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new IdentityError('INVALID_ARGUMENT', `${field} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Reads the token back with `GET /v1/acl/token/self?stale` until it answers, every `intervalMs`, at most `attempts`
 * times. `ACL not found` and retryable errors (network, 5xx) are waited out; anything else is thrown at once. When the
 * tries run out: `CONSUL_NOT_REPLICATED` with the last error as cause.
 * @public
 */
export async function waitForReplication(
  acl: ConsulAclClient,
  token: ConsulToken,
  options: ReplicationWaitOptions = {},
): Promise<void> {
  const attempts = checkCount(options.attempts ?? 20, 'replication attempts', 1);
  const intervalMs = checkCount(options.intervalMs ?? 100, 'replication intervalMs', 0);
  const clock = options.clock ?? systemClock;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await acl.readSelf(token, { stale: true, ...(options.signal ? { signal: options.signal } : {}) });
      return;
    } catch (e) {
      const waitable = IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND') || (IdentityError.is(e) && e.retryable);
      if (!waitable) throw e;
      last = e;
    }
    if (attempt < attempts) await sleep(intervalMs, options.signal, clock);
  }
  throw new IdentityError(
    'CONSUL_NOT_REPLICATED',
    `Consul token ${token.accessorId} was not readable with ?stale after ${attempts} tries ${intervalMs} ms apart: ` +
      `the servers have not replicated it (last: ${last instanceof Error ? last.message : String(last)})`,
    { cause: last },
  );
}
