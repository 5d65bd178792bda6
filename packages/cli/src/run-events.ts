/**
 * What the long-running commands make of their providers' events: one JSON line on stdout per event, and the
 * decision to end the run. Kept as a thin mapping so the policy lives in the SDK (failed attempts counted per refresh
 * cycle, `EXPIRES_BEFORE_NEXT_ATTEMPT` when the next attempt would come too late) and the CLI only reads it.
 * Browser-safe.
 * @packageDocumentation
 */
import { type Clock, IdentityError, scrubSecrets, systemClock } from '@ecs-identity/core';
import type { CliIo } from './command.js';
import { errorCode, oneLine } from './error-line.js';
import { printLine } from './output.js';

/** A refreshing provider's event, as the SDK reports it. @internal */
export interface ProviderEvent {
  readonly type: 'refreshed' | 'refresh-failed' | 'expiring';
  /** The provider's name (`athenz identity`, `consul token`). */
  readonly provider: string;
  /** The refresh cycle of the current failure streak this failure falls in: 1, 2, ... (`refresh-failed`). */
  readonly attempt?: number;
  /** The error's code (`refresh-failed`). */
  readonly code?: string;
  /** When the provider will try again (`refresh-failed`). */
  readonly nextAttemptAt?: Date;
  /** When the credential in use expires. */
  readonly expiresAt?: Date;
  /** The error itself (`refresh-failed`), for its message. */
  readonly error?: unknown;
}

/** The code the SDK reports when the credential would expire before its next refresh attempt. @internal */
export const EXPIRES_BEFORE_NEXT_ATTEMPT = 'EXPIRES_BEFORE_NEXT_ATTEMPT';

const iso = (d: Date | undefined) => (d === undefined ? {} : { expiresAt: d.toISOString() });

/** What else ends a run besides `-fail-count`. @internal */
export interface ExitPolicy {
  /**
   * End the run after a failed refresh whose next attempt would come less than this long before the credential
   * expires (0 or undefined: only when it would come after the expiry, the provider's `EXPIRES_BEFORE_NEXT_ATTEMPT`).
   * Leaves the orchestrator the time to start a replacement while the credential is still valid.
   */
  readonly exitBeforeExpiryMs?: number;
  /** The time now, for a failure without `nextAttemptAt`. Default `Date.now`. */
  readonly now?: () => number;
}

/** A duration for messages: "25 hours", "9 minutes", "45 s". */
function span(ms: number): string {
  if (ms >= 2 * 3_600_000) return `${Math.round(ms / 3_600_000)} hours`;
  if (ms >= 2 * 60_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Prints the line of a `refresh-failed` or `expiring` event (`refreshed` events print the new credential where it
 * is known) and says whether the run must end: when the provider reports that the credential would expire before the
 * next attempt, when the next attempt would come within `policy.exitBeforeExpiryMs` of the expiry, or after failures
 * in `failCount` refresh cycles in a row (when set). Returns the error to end with, if any.
 * @internal
 */
export function onProviderEvent(
  io: CliIo,
  event: ProviderEvent,
  failCount: number | undefined,
  policy: ExitPolicy = {},
): IdentityError | undefined {
  if (event.type === 'expiring') {
    printLine(io, { event: 'expiring', provider: event.provider, ...iso(event.expiresAt) });
    return undefined;
  }
  if (event.type !== 'refresh-failed') return undefined;
  const attempt = event.attempt ?? 1;
  const code = event.code ?? errorCode(event.error);
  const message = event.error instanceof Error ? oneLine(scrubSecrets(event.error.message)) : undefined;
  printLine(io, {
    event: 'refresh-failed',
    provider: event.provider,
    attempt,
    ...(failCount === undefined ? {} : { failCount }),
    code,
    ...(message ? { message } : {}),
    ...(event.nextAttemptAt ? { nextAttemptAt: event.nextAttemptAt.toISOString() } : {}),
    ...iso(event.expiresAt),
  });
  if (code === EXPIRES_BEFORE_NEXT_ATTEMPT) {
    if (event.error instanceof IdentityError) return event.error;
    return new IdentityError(
      'EXPIRED',
      `${event.provider}: the credential expires at ${event.expiresAt?.toISOString() ?? '(unknown)'}, before the next refresh attempt`,
    );
  }
  const why = message ? `: last ${code}: ${message}` : `: last ${code}`;
  const marginMs = policy.exitBeforeExpiryMs ?? 0;
  if (marginMs > 0 && event.expiresAt !== undefined) {
    const expiresAtMs = event.expiresAt.getTime();
    const now = (policy.now ?? Date.now)();
    if (now >= expiresAtMs) return expiredError(event.provider, event.expiresAt);
    const nextMs = event.nextAttemptAt?.getTime() ?? now;
    if (nextMs > expiresAtMs - marginMs) {
      return new IdentityError(
        EXPIRES_BEFORE_NEXT_ATTEMPT,
        `${event.provider}: the credential expires at ${event.expiresAt.toISOString()} and the next refresh attempt ` +
          `would come less than ${span(marginMs)} before that; exiting while it is still valid, so a replacement ` +
          `can start in time${why}`,
        { cause: event.error },
      );
    }
  }
  if (failCount !== undefined && attempt >= failCount) {
    return new IdentityError(
      event.error instanceof IdentityError ? event.error.code : 'RETRY_EXHAUSTED',
      `${event.provider}: ${attempt} refresh attempts in a row failed (-fail-count ${failCount})${why}`,
      { cause: event.error },
    );
  }
  return undefined;
}

function expiredError(what: string, expiresAt: Date): IdentityError {
  return new IdentityError(
    'EXPIRED',
    `${what} expired at ${expiresAt.toISOString()} and no refresh succeeded before; exiting so the task is restarted`,
  );
}

/**
 * The last line of defence: ends the run with `EXPIRED` when the credential in use expires and no newer one came
 * (whatever the provider's schedule did). `set` with each new credential's expiry; `clear` when the run ends.
 * @internal
 */
export function expiryBackstop(
  what: string,
  fail: (error: IdentityError) => void,
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'> = systemClock,
): { set(expiresAt: Date | undefined): void; clear(): void } {
  let timer: unknown;
  const clear = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  return {
    set(expiresAt) {
      clear();
      if (expiresAt === undefined) return;
      timer = clock.setTimeout(
        () => {
          timer = undefined;
          fail(expiredError(what, expiresAt));
        },
        Math.max(0, expiresAt.getTime() - clock.now()),
      );
    },
    clear,
  };
}
