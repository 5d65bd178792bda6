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
  /** Failed refresh attempts in a row, this one included (`refresh-failed`). */
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

/**
 * Prints the line of a `refresh-failed` or `expiring` event (`refreshed` events print the new credential where it
 * is known) and says whether the run must end: after `failCount` failed attempts in a row (when set), or when the
 * provider reports that the credential would expire before the next attempt. Returns the error to end with, if any.
 * @internal
 */
export function onProviderEvent(
  io: CliIo,
  event: ProviderEvent,
  failCount: number | undefined,
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
  if (failCount !== undefined && attempt >= failCount) {
    const why = message ? `: last ${code}: ${message}` : `: last ${code}`;
    return new IdentityError(
      event.error instanceof IdentityError ? event.error.code : 'RETRY_EXHAUSTED',
      `${event.provider}: ${attempt} refresh attempts in a row failed (-fail-count ${failCount})${why}`,
      { cause: event.error },
    );
  }
  return undefined;
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
          fail(
            new IdentityError(
              'EXPIRED',
              `${what} expired at ${expiresAt.toISOString()} and no refresh succeeded before; exiting so the task is restarted`,
            ),
          );
        },
        Math.max(0, expiresAt.getTime() - clock.now()),
      );
    },
    clear,
  };
}
