/**
 * `athenz run`'s refresh and exit policy from siad's flags (`-refreshinterval`, `-exit-before-expiry`,
 * `-warn-before-expiry`), as figures for the identity provider and the run. Pure and browser-safe.
 * @packageDocumentation
 */
import { athenzRefreshDefaults } from '@ecs-identity/athenz-zts';
import type { RefreshOptions, RefreshRetryOptions } from '@ecs-identity/core';
import type { CommandContext } from './command.js';

const MINUTE = 60_000;

/** The share of a certificate's lifetime `-exit-before-expiry` defaults to at most. */
const EXIT_MARGIN_FRACTION = 0.15;

/** What {@link athenzRunPolicy} gives. @internal */
export interface AthenzRunPolicy {
  /** One refresh cycle: `-refreshinterval`. */
  readonly intervalMs: number;
  readonly refresh: RefreshOptions;
  readonly retry: RefreshRetryOptions;
  /**
   * How long before a certificate's expiry a failed refresh ends the run (its next attempt would come later than
   * that), for a certificate that had `validityMs` left when it arrived.
   */
  exitBeforeExpiryMs(validityMs: number): number;
}

/**
 * - Refresh at the latest `-refreshinterval` after issue; one `expiring` line at `-warn-before-expiry` (default: the
 *   provider's, half the validity left at the latest refresh point).
 * - After a failure, back off as the Athenz providers do with their daily interval (within a quarter of it, 6 h,
 *   then twice that, up to the whole interval, 24 h), scaled down to a shorter interval, so every refresh cycle has
 *   attempts, as siad's has one; retries within a cycle do not count toward `-fail-count`.
 * - Exit after a failed refresh whose next attempt would come within `-exit-before-expiry` of the expiry. Default:
 *   siad's rule (it exits when the certificate would expire before its next refresh, one `-refreshinterval` away),
 *   capped at 15% of the validity the certificate had when it arrived, so short certificates still ride out brief
 *   outages. 7-day certificates refreshed daily: 1 day.
 * @internal
 */
export function athenzRunPolicy(values: CommandContext['values']): AthenzRunPolicy {
  const intervalMs = (values.refreshinterval as number) * MINUTE;
  const warn = values['warn-before-expiry'] as number | undefined;
  const exit = values['exit-before-expiry'] as number | undefined;
  const zts = athenzRefreshDefaults.identity.retry ?? {};
  return {
    intervalMs,
    refresh: {
      background: true,
      intervalMs,
      ...(warn === undefined ? {} : { expiringThresholdMs: warn * MINUTE }),
    },
    retry: {
      baseDelayMs: Math.min(zts.baseDelayMs ?? intervalMs, intervalMs / 4),
      maxDelayMs: Math.min(zts.maxDelayMs ?? intervalMs, intervalMs),
    },
    exitBeforeExpiryMs: (validityMs) =>
      exit !== undefined ? exit * MINUTE : Math.max(0, Math.min(intervalMs, EXIT_MARGIN_FRACTION * validityMs)),
  };
}
