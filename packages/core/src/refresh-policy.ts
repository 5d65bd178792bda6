/**
 * When a refreshing provider refreshes and how it backs off after a failure: the `refresh` and `retry` option objects
 * every provider of the SDK takes, with the pure functions that turn them into times. Kept apart from the provider's
 * state machine so the fleet simulation and the tests can check the schedule itself.
 * @packageDocumentation
 */
import { type CoreErrorCode, errorClass, type IdentityError } from './errors.js';

const CoreError = errorClass<CoreErrorCode>();

/**
 * When to refresh. The latest refresh point is the earliest of `intervalMs` after issue, `latestFraction` of the
 * lifetime, and `beforeExpiryMs` before expiry (at most half the lifetime); the refresh time is drawn at random over
 * the last `spread` share of the span from issue to that point, so a fleet started together drifts apart.
 * @public
 */
export interface RefreshOptions {
  /** Refresh at the latest this long after the credential was issued (fetched), like siad's daily refresh. Default: none. */
  intervalMs?: number | undefined;
  /** Refresh at the latest once this share of the lifetime (issue → `expiresAt`) has passed. In (0, 1]. Default 0.8. */
  latestFraction?: number | undefined;
  /** Refresh at the latest when this much validity is left (capped at half the lifetime). Default 300_000 (5 minutes). */
  beforeExpiryMs?: number | undefined;
  /**
   * The share of the span from issue to the latest refresh point over which the refresh time is spread uniformly at
   * random, ending at that point: 0.5 = its second half, 0 = exactly at the latest point. In [0, 1]. Default 0.5.
   * The first credential a provider gets is spread over the whole span instead (weighted so that a fleet started
   * at one moment refreshes at a steady rate from then on).
   */
  spread?: number | undefined;
  /**
   * Emit one `expiring` event (and a warning) per credential once its validity left falls under this. Default: half
   * the validity left at the latest refresh point (a 7-day certificate refreshed daily: 3 days).
   */
  expiringThresholdMs?: number | undefined;
  /** Refresh on an unref'd timer so a cached `get()` never waits. Default true. */
  background?: boolean | undefined;
  /** A credential counts as expired this many ms before its `expiresAt`, so one that would lapse in flight is not handed out. Default 0. */
  expiryMarginMs?: number | undefined;
}

/**
 * A quick retry of a fetch made while no valid credential is cached (the first one, or after expiry): the task has
 * nothing, so it retries at once (bounded), with core's {@link retry} and these options.
 * @public
 */
export interface InitialRetryOptions {
  /** Attempts in all, the first included. Default 1 (no quick retry). */
  maxAttempts?: number | undefined;
  /** First backoff cap (full jitter, doubling). Default 500. */
  baseDelayMs?: number | undefined;
  /** Largest backoff cap. Default 10_000. */
  maxDelayMs?: number | undefined;
  /** No attempt starts this long after the first. Default 60_000. */
  deadlineMs?: number | undefined;
}

/**
 * How a failed refresh is retried while a valid credential is cached: one attempt per backoff (no inner retry), the
 * backoff drawn uniformly in `[minDelayMs, cap]` where `cap = min(maxDelayMs, baseDelayMs · 2^(failures-1),
 * remainingFraction · validity left)`: minutes to hours while the credential has long to live, tighter as its
 * expiry nears. Once it has expired, a background provider keeps trying with the same cap minus the validity term,
 * the doubling counted from the expiry.
 * @public
 */
export interface RefreshRetryOptions {
  /** The backoff cap after the first failed refresh; it doubles with each further failure. Default 300_000 (5 minutes). */
  baseDelayMs?: number | undefined;
  /** The largest backoff cap. Default 14_400_000 (4 hours). */
  maxDelayMs?: number | undefined;
  /** A backoff is never longer than this share of the validity left, so attempts tighten near expiry. In (0, 1]. Default 0.25. */
  remainingFraction?: number | undefined;
  /** The shortest backoff (no hot loop in the last seconds of a credential). Default 1000. */
  minDelayMs?: number | undefined;
  /** A fetch while no valid credential is cached. */
  initial?: InitialRetryOptions | undefined;
}

/** The two option objects every refreshing provider takes. @public */
export interface RefreshPolicy {
  refresh?: RefreshOptions | undefined;
  retry?: RefreshRetryOptions | undefined;
}

/** {@link RefreshOptions} with every default applied. @internal */
export interface ResolvedRefresh {
  intervalMs: number;
  latestFraction: number;
  beforeExpiryMs: number;
  spread: number;
  expiringThresholdMs: number | undefined;
  background: boolean;
  expiryMarginMs: number;
}

/** {@link RefreshRetryOptions} with every default applied. @internal */
export interface ResolvedRetry {
  baseDelayMs: number;
  maxDelayMs: number;
  remainingFraction: number;
  minDelayMs: number;
  initial: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; deadlineMs: number };
}

/** The INVALID_ARGUMENT error for a bad `refreshingProvider` option. @internal */
export function invalidOption(field: string, what: string, value: unknown): IdentityError {
  return new CoreError('INVALID_ARGUMENT', `refreshingProvider: ${field} must be ${what}, got ${String(value)}`);
}

function objectOrEmpty<T extends object>(field: string, value: T | undefined): T | Record<string, never> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw invalidOption(field, 'an object', value);
  return value;
}

/** A number >= min (and <= max), or the fallback when undefined; Infinity only when `infinite`. */
function num(
  field: string,
  value: unknown,
  fallback: number,
  range: { min?: number; above?: number; max?: number; infinite?: boolean; integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (range.infinite === true && value === Number.POSITIVE_INFINITY)) &&
    (range.min === undefined || value >= range.min) &&
    (range.above === undefined || value > range.above) &&
    (range.max === undefined || value <= range.max) &&
    (range.integer !== true || Number.isInteger(value));
  if (!ok) {
    const parts = [
      range.integer ? 'an integer' : 'a number',
      range.min !== undefined ? `>= ${range.min}` : '',
      range.above !== undefined ? `> ${range.above}` : '',
      range.max !== undefined ? `<= ${range.max}` : '',
    ];
    throw invalidOption(field, parts.filter(Boolean).join(' '), value);
  }
  return value;
}

/** Validates `refresh` and applies the defaults; INVALID_ARGUMENT names the field. @internal */
export function resolveRefresh(options: RefreshOptions | undefined): ResolvedRefresh {
  const o = objectOrEmpty('refresh', options) as RefreshOptions;
  const background = o.background ?? true;
  if (typeof background !== 'boolean') throw invalidOption('refresh.background', 'a boolean', background);
  return {
    intervalMs: num('refresh.intervalMs', o.intervalMs, Number.POSITIVE_INFINITY, { above: 0, infinite: true }),
    latestFraction: num('refresh.latestFraction', o.latestFraction, 0.8, { above: 0, max: 1 }),
    beforeExpiryMs: num('refresh.beforeExpiryMs', o.beforeExpiryMs, 300_000, { min: 0 }),
    spread: num('refresh.spread', o.spread, 0.5, { min: 0, max: 1 }),
    expiringThresholdMs:
      o.expiringThresholdMs === undefined
        ? undefined
        : num('refresh.expiringThresholdMs', o.expiringThresholdMs, 0, { min: 0 }),
    background,
    expiryMarginMs: num('refresh.expiryMarginMs', o.expiryMarginMs, 0, { min: 0 }),
  };
}

/** Validates `retry` and applies the defaults; INVALID_ARGUMENT names the field. @internal */
export function resolveRetry(options: RefreshRetryOptions | undefined): ResolvedRetry {
  const o = objectOrEmpty('retry', options) as RefreshRetryOptions;
  const i = objectOrEmpty('retry.initial', o.initial) as InitialRetryOptions;
  const baseDelayMs = num('retry.baseDelayMs', o.baseDelayMs, 300_000, { min: 0 });
  return {
    baseDelayMs,
    maxDelayMs: Math.max(baseDelayMs, num('retry.maxDelayMs', o.maxDelayMs, 4 * 3_600_000, { min: 0 })),
    remainingFraction: num('retry.remainingFraction', o.remainingFraction, 0.25, { above: 0, max: 1 }),
    minDelayMs: num('retry.minDelayMs', o.minDelayMs, 1000, { min: 0 }),
    initial: {
      maxAttempts: num('retry.initial.maxAttempts', i.maxAttempts, 1, { min: 1, integer: true }),
      baseDelayMs: num('retry.initial.baseDelayMs', i.baseDelayMs, 500, { min: 0 }),
      maxDelayMs: num('retry.initial.maxDelayMs', i.maxDelayMs, 10_000, { min: 0 }),
      deadlineMs: num('retry.initial.deadlineMs', i.deadlineMs, 60_000, { min: 0, infinite: true }),
    },
  };
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  if (o === undefined || o === null || typeof o !== 'object') return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A provider's defaults overlaid with what the caller gave, field by field (a field the caller leaves undefined keeps
 * the provider's default, `retry.initial` included). Validation is left to `refreshingProvider`.
 *
 * @example
 * ```ts
 * const policy = mergeRefreshPolicy({ refresh: { intervalMs: 86_400_000, spread: 0.5 } }, { refresh: { spread: 0.25 } });
 * // { refresh: { intervalMs: 86_400_000, spread: 0.25 }, retry: {} }
 * ```
 * @public
 */
export function mergeRefreshPolicy(
  defaults: RefreshPolicy,
  given: RefreshPolicy | undefined,
): { refresh: RefreshOptions; retry: RefreshRetryOptions } {
  const initial = { ...definedOnly(defaults.retry?.initial), ...definedOnly(given?.retry?.initial) };
  const retry: RefreshRetryOptions = { ...definedOnly(defaults.retry), ...definedOnly(given?.retry) };
  if (Object.keys(initial).length > 0) retry.initial = initial;
  else delete retry.initial;
  return { refresh: { ...definedOnly(defaults.refresh), ...definedOnly(given?.refresh) }, retry };
}

/** A credential's refresh schedule: its latest refresh point and the drawn refresh time. @internal */
export interface RefreshTime {
  /** The latest refresh point: issue + the refresh interval. */
  latestMs: number;
  /** When to refresh: in `[issuedAtMs, latestMs]`. */
  atMs: number;
}

/**
 * When a credential issued (fetched) at `issuedAtMs` and expiring at `expiresAtMs` is refreshed.
 *
 * The latest point `L` is the earliest of issue + `intervalMs`, issue + `latestFraction` · lifetime and expiry −
 * min(`beforeExpiryMs`, lifetime / 2). With `I = L − issue`:
 * - a later credential is refreshed uniformly at random in `[L − spread · I, L]`;
 * - the first credential of a provider (`first`) is refreshed at a time drawn from the equilibrium distribution of
 *   those gaps (flat over `[issue, issue + (1 − spread) · I]`, then falling linearly to 0 at `L`). A renewal process
 *   whose first gap follows that law refreshes at a constant rate from its start: tasks deployed in the same minute
 *   refresh at the fleet's steady rate from the first hour on, instead of in waves that take many cycles to fade.
 *
 * `random() = 0` always gives `L` (no spread). Infinity when the credential never expires.
 * @internal
 */
export function refreshTime(
  issuedAtMs: number,
  expiresAtMs: number,
  refresh: Pick<ResolvedRefresh, 'intervalMs' | 'latestFraction' | 'beforeExpiryMs' | 'spread'>,
  first: boolean,
  random: () => number,
): RefreshTime {
  if (expiresAtMs === Number.POSITIVE_INFINITY) return { latestMs: expiresAtMs, atMs: expiresAtMs };
  const lifetime = Math.max(0, expiresAtMs - issuedAtMs);
  const latest = Math.max(
    issuedAtMs,
    Math.min(
      issuedAtMs + refresh.intervalMs,
      issuedAtMs + lifetime * refresh.latestFraction,
      expiresAtMs - Math.min(refresh.beforeExpiryMs, lifetime / 2),
    ),
  );
  const span = latest - issuedAtMs;
  if (refresh.spread === 0 || span === 0) return { latestMs: latest, atMs: latest };
  const r = Math.min(Math.max(random(), 0), 1);
  if (!first) return { latestMs: latest, atMs: latest - r * refresh.spread * span };
  // Inverse of the equilibrium CDF F(t) = (1/μ)∫₀ᵗ P(gap > s) ds for gaps uniform on [a, span], μ = (a + span) / 2.
  const a = (1 - refresh.spread) * span;
  const tail = span - a;
  const u = (1 - r) * ((a + span) / 2);
  const t = u <= a ? u : span - Math.sqrt(Math.max(0, tail * tail - 2 * tail * (u - a)));
  return { latestMs: latest, atMs: issuedAtMs + Math.min(span, Math.max(0, t)) };
}

/**
 * The backoff after the `failures`-th failed refresh in a row, with `remainingMs` of validity left: uniform in
 * `[minDelayMs, cap]`, `cap = min(maxDelayMs, baseDelayMs · 2^(failures-1), remainingFraction · remainingMs)`.
 * @internal
 */
export function refreshBackoff(
  failures: number,
  remainingMs: number,
  retry: Pick<ResolvedRetry, 'baseDelayMs' | 'maxDelayMs' | 'remainingFraction' | 'minDelayMs'>,
  random: () => number,
): number {
  const cap = Math.min(
    retry.maxDelayMs,
    retry.baseDelayMs * 2 ** Math.min(Math.max(failures, 1) - 1, 40),
    retry.remainingFraction * Math.max(0, remainingMs),
  );
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(retry.minDelayMs, retry.minDelayMs + r * (cap - retry.minDelayMs));
}
