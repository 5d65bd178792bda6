/**
 * Logouts that happen in the background, so no token a task made is left behind: a token replaced by a newer one
 * (after a grace period, so readers of the sink file can switch), and the token of a login whose answer came after
 * the client stopped waiting. `flush()` does everything still pending at once (at shutdown) and reports failures.
 * Browser-safe.
 * @packageDocumentation
 */
import { type Clock, IdentityError, type Logger, safeLogger, systemClock } from '@ecs-identity/core';
import type { ConsulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';

/**
 * Why a token was logged out: `superseded` (a newer token replaced it), `late-answer` (its login's answer came after
 * the client gave up), `close` (the provider was closed).
 * @public
 */
export type TokenLogoutReason = 'superseded' | 'late-answer' | 'close';

/** One logout a token provider did. @public */
export interface TokenLogoutEvent {
  readonly accessorId: string;
  readonly reason: TokenLogoutReason;
  /** Set when the logout failed. A token that is already gone (`ACL not found`) counts as logged out. */
  readonly error?: unknown;
}

/** @internal */
export interface TokenLogoutsOptions {
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  onLogout?: ((event: TokenLogoutEvent) => void) | undefined;
}

/** The background logouts of one provider (or one login call). @internal */
export class TokenLogouts {
  readonly #acl: ConsulAclClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onLogout: ((event: TokenLogoutEvent) => void) | undefined;
  /** Tokens waiting out their grace period, with their timers. */
  readonly #waiting = new Map<ConsulToken, unknown>();
  /** Logouts in flight, and answers still listened for. */
  readonly #running = new Set<Promise<void>>();
  #failures: unknown[] = [];
  #flushing = false;

  constructor(acl: ConsulAclClient, options: TokenLogoutsOptions = {}) {
    this.#acl = acl;
    this.#clock = options.clock ?? systemClock;
    this.#log = safeLogger(options.logger);
    this.#onLogout = options.onLogout;
  }

  /** Logs `token` out after `delayMs` (at once while flushing, or with a delay of 0). */
  after(token: ConsulToken, delayMs: number, reason: TokenLogoutReason): void {
    if (this.#flushing || !(delayMs > 0)) {
      this.#logout(token, reason);
      return;
    }
    const timer = this.#clock.setTimeout(() => {
      if (this.#waiting.delete(token)) this.#logout(token, reason);
    }, delayMs);
    this.#waiting.set(token, timer);
  }

  /** Logs out `token` now; the result is reported like any other (`flush()` waits for it). */
  now(token: ConsulToken, reason: TokenLogoutReason): void {
    this.#logout(token, reason);
  }

  /**
   * Listens for the answer of a login the caller gave up on: the server made the token all the same, so it is logged
   * out as soon as it arrives. A failed answer means no token, or none we can ever learn of.
   */
  whenAnswered(answer: Promise<ConsulToken>): void {
    this.#track(
      answer.then(
        (token) => {
          this.#log.warn(
            { accessorId: token.accessorId },
            'a Consul login answered after the client gave up on it; logging its token out',
          );
          this.#logout(token, 'late-answer');
        },
        (error: unknown) => {
          this.#log.debug(
            { code: IdentityError.is(error) ? error.code : undefined },
            'stopped listening for the answer of an abandoned Consul login',
          );
        },
      ),
    );
  }

  /**
   * Logs out every token still in its grace period now, waits for every logout in flight and every answer still
   * listened for (each is bounded by its request timeout), and returns the failures since the last flush. Later
   * calls to {@link TokenLogouts.after} log out at once.
   */
  async flush(): Promise<unknown[]> {
    this.#flushing = true;
    while (this.#waiting.size > 0 || this.#running.size > 0) {
      for (const [token, timer] of this.#waiting) {
        this.#clock.clearTimeout(timer);
        this.#waiting.delete(token);
        this.#logout(token, 'superseded');
      }
      await Promise.allSettled([...this.#running]);
    }
    const failures = this.#failures;
    this.#failures = [];
    return failures;
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  #logout(token: ConsulToken, reason: TokenLogoutReason): void {
    this.#track(
      (async () => {
        try {
          await this.#acl.logout(token);
          this.#log.info({ accessorId: token.accessorId, reason }, 'logged out of Consul');
        } catch (error) {
          if (!IdentityError.is(error, 'CONSUL_TOKEN_NOT_FOUND')) {
            this.#failures.push(error);
            this.#log.warn(
              { accessorId: token.accessorId, reason, code: IdentityError.is(error) ? error.code : undefined },
              'Consul logout failed',
            );
            this.#report({ accessorId: token.accessorId, reason, error });
            return;
          }
          this.#log.debug({ accessorId: token.accessorId, reason }, 'the token was already gone');
        }
        this.#report({ accessorId: token.accessorId, reason });
      })(),
    );
  }

  #report(event: TokenLogoutEvent): void {
    try {
      this.#onLogout?.(event);
    } catch {
      // A broken listener must not break the logouts.
    }
  }
}
