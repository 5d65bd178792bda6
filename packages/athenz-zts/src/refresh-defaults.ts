/**
 * When the Athenz providers refresh and how they back off: their defaults for core's `refresh` / `retry` option
 * objects, in one place, so the providers, their documentation and the fleet simulation (`bench/fleet.bench.ts`) use
 * the same figures.
 * @packageDocumentation
 */
import type { RefreshPolicy, RefreshRetryOptions } from '@ecs-identity/core';

const HOUR = 3_600_000;

/**
 * The Athenz providers' default overall bound on one fetch (core's `fetchTimeoutMs`): the first fetch's 60 s retry
 * window plus one attempt's own timeouts. When it passes, the fetch is aborted and `get()` rejects with a retryable
 * `TIMEOUT`.
 * @internal
 */
export const ATHENZ_FETCH_TIMEOUT_MS = 90_000;

/**
 * ZTS serves every task of every team: a failed refresh (while the credential has long to live) is tried again once
 * within up to 6 hours (uniformly, so a fleet that failed together does not come back together), then 12, then 24,
 * never later than a quarter of the validity left. A first fetch (nothing cached yet) is retried at once on
 * transient errors: 3 attempts within a minute, each with a new attestation and CSR.
 */
const ztsRetry: RefreshRetryOptions = Object.freeze({
  baseDelayMs: 6 * HOUR,
  maxDelayMs: 24 * HOUR,
  remainingFraction: 0.25,
  minDelayMs: 1000,
  initial: Object.freeze({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 10_000, deadlineMs: 60_000 }),
});

/**
 * The Athenz providers' defaults for core's `refresh` / `retry` options (each provider merges what its caller gives
 * over these, field by field):
 * - `identity` (`athenzIdentityProvider`): at the latest 24 h after issue (siad's `refresh_interval`) and never after
 *   half the certificate's life; spread uniformly over the second half of that, so a 7-day certificate is refreshed
 *   12 to 24 hours after it was issued.
 * - `roleCertificates` (`roleCertificateProvider`): at the latest at half the certificate's life, spread over the
 *   second half of that (and always when the identity rotates).
 * - `accessTokens` (`accessTokenProvider`): at the latest once 3/4 of the token's life has passed, spread over the
 *   second half of that.
 * All three retry as `ztsRetry` above: one attempt per backoff, within 6 h, 12 h, 24 h..., tighter near expiry.
 * @public
 */
export const athenzRefreshDefaults: Readonly<{
  identity: RefreshPolicy;
  roleCertificates: RefreshPolicy;
  accessTokens: RefreshPolicy;
}> = Object.freeze({
  identity: Object.freeze({
    refresh: Object.freeze({ intervalMs: 24 * HOUR, latestFraction: 0.5, beforeExpiryMs: 0, spread: 0.5 }),
    retry: ztsRetry,
  }),
  roleCertificates: Object.freeze({
    refresh: Object.freeze({ latestFraction: 0.5, beforeExpiryMs: 0, spread: 0.5 }),
    retry: ztsRetry,
  }),
  accessTokens: Object.freeze({
    refresh: Object.freeze({ latestFraction: 0.75, beforeExpiryMs: 0, spread: 0.5 }),
    retry: ztsRetry,
  }),
});
