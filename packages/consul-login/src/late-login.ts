/**
 * A login the client gives up on (its timeout passed, or its caller aborted) has not been undone: Consul completes a
 * login whatever the client does, and login latency spikes are a known Consul problem (hashicorp/consul#15157). The
 * token it made would live until its TTL (or forever) with nobody knowing its SecretID. So the request keeps running
 * in the background for a bounded window after the caller is told `TIMEOUT` / `ABORTED`, and a token that arrives is
 * logged out. Browser-safe.
 * @packageDocumentation
 */
import { type Clock, type IdentityError, systemClock } from '@ecs-identity/core';
import { abortedError } from '@ecs-identity/core/internal';
import type { ConsulAclClient, LoginParams } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { ConsulError } from './errors.js';
import type { TokenLogouts } from './token-logouts.js';

/** How long to keep listening for a login's answer after giving up on it, by default. @internal */
export const DEFAULT_LATE_ANSWER_WINDOW_MS = 30_000;

/**
 * `acl.login(params)`, except that when the caller stops waiting (after the client's `timeoutMs`, or on
 * `params.signal`) the request goes on for up to `windowMs` more and `logouts` logs out the token it brings. With a
 * window of 0, or a client that does not say its timeout, it is a plain `acl.login`.
 * @internal
 */
export function loginListeningLate(
  acl: ConsulAclClient,
  params: LoginParams,
  late: { windowMs: number; logouts: TokenLogouts; clock?: Clock | undefined },
): Promise<ConsulToken> {
  const timeoutMs = params.timeoutMs ?? acl.timeoutMs;
  if (!(late.windowMs > 0) || timeoutMs === undefined) return acl.login(params);
  const { signal, ...request } = params;
  if (signal?.aborted) return Promise.reject(abortedError(signal, 'Consul login'));
  const clock = late.clock ?? systemClock;
  // No caller signal: the request outlives the caller's interest, bounded by its own longer timeout.
  const answer = acl.login({ ...request, timeoutMs: timeoutMs + late.windowMs });
  return new Promise<ConsulToken>((resolve, reject) => {
    let waiting = true;
    const done = (): boolean => {
      if (!waiting) return false;
      waiting = false;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const giveUp = (error: IdentityError): void => {
      if (!done()) return;
      late.logouts.whenAnswered(answer);
      reject(error);
    };
    const timer = clock.setTimeout(
      () =>
        giveUp(
          new ConsulError(
            'TIMEOUT',
            `POST ${acl.address}/v1/acl/login timed out after ${timeoutMs} ms (still listening ${late.windowMs} ms for the answer, to log its token out)`,
            { retryable: true },
          ),
        ),
      timeoutMs,
    );
    const onAbort = (): void => giveUp(abortedError(signal as AbortSignal, 'Consul login'));
    signal?.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (token) => {
        if (done()) resolve(token);
      },
      (error: unknown) => {
        if (done()) reject(error);
      },
    );
  });
}
