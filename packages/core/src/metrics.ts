/**
 * OpenTelemetry metrics for credential providers: each credential's time to expiry (an observable gauge), refresh
 * attempts and failures by error code (counters), and the latency of the operations behind a credential (a Consul
 * login, a ZTS register or refresh) as a histogram.
 *
 * `@opentelemetry/api` is an optional peer dependency, and nothing of it is imported here, not even its types: the
 * application passes its own `Meter` in (it fits {@link MetricsMeter}, the part of OpenTelemetry's `Meter` these
 * metrics use), so an application that does not use metrics loads nothing of OpenTelemetry and its type checks need
 * no `@opentelemetry/api` either, and one that does shares its SDK, exporters and views with the SDK's numbers.
 * @packageDocumentation
 */
import { type Clock, systemClock } from './clock.js';
import type { Credential } from './credential.js';
import { type CoreErrorCode, errorClass, IdentityError } from './errors.js';
import type { RefreshEvent } from './refreshing-provider.js';

const CoreError = errorClass<CoreErrorCode>();
/** Measurement attributes (OpenTelemetry's `Attributes`). @public */
export type MetricsAttributes = Record<string, string | number | boolean | undefined>;

/** An instrument's description and unit (the part of OpenTelemetry's `MetricOptions` used here). @public */
export interface MetricsInstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/** What an observable gauge's callback is given (OpenTelemetry's `ObservableResult`). @public */
export interface MetricsObservableResult {
  observe(value: number, attributes?: MetricsAttributes): void;
}

/**
 * The part of OpenTelemetry's `Meter` the credential metrics use: `metrics.getMeter(name)` from `@opentelemetry/api`
 * fits it. Declared here so that neither the code nor the type declarations of core need `@opentelemetry/api`.
 * @public
 */
export interface MetricsMeter {
  createCounter(
    name: string,
    options?: MetricsInstrumentOptions,
  ): { add(value: number, attributes?: MetricsAttributes): void };
  createHistogram(
    name: string,
    options?: MetricsInstrumentOptions,
  ): { record(value: number, attributes?: MetricsAttributes): void };
  createObservableGauge(
    name: string,
    options?: MetricsInstrumentOptions,
  ): {
    addCallback(callback: (result: MetricsObservableResult) => void): void;
    removeCallback(callback: (result: MetricsObservableResult) => void): void;
  };
}

/** The instrument names and the attribute keys the metrics use. @public */
export const CREDENTIAL_METRICS = {
  /** Observable gauge, seconds until the newest credential expires (negative once it has expired). */
  timeToExpiry: 'ecs_identity.credential.time_to_expiry',
  /** Counter of fetch attempts (the first one and every refresh), successful or not. */
  refreshAttempts: 'ecs_identity.credential.refresh.attempts',
  /** Counter of failed fetch attempts, with the error code in `error.type`. */
  refreshFailures: 'ecs_identity.credential.refresh.failures',
  /** Histogram, seconds one operation (`login`, `register`, `refresh`) took, failed ones with `error.type`. */
  operationDuration: 'ecs_identity.credential.operation.duration',
  /** Attribute: the credential's name (`consul-token`, `athenz-identity`, ...). */
  credentialAttribute: 'ecs_identity.credential',
  /** Attribute: the operation a duration measures. */
  operationAttribute: 'ecs_identity.operation',
  /** Attribute (OpenTelemetry's semantic convention): the `IdentityError` code of a failure. */
  errorAttribute: 'error.type',
} as const;

// Logins and registrations take from tens of milliseconds to tens of seconds (the server calls AWS, retries).
const DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * A refresh event, the shape of core's refreshing-provider events: `refreshed` (a new credential, with its
 * `expiresAt`), `refresh-failed` (with the error `code`), `expiring`. Fields the metrics do not read may be present.
 * @public
 */
export interface CredentialMetricsEvent {
  readonly type: 'refreshed' | 'refresh-failed' | 'expiring' | (string & {});
  readonly code?: string | undefined;
  readonly expiresAt?: Date | number | undefined;
}

/** What `observe` reads: any CredentialProvider, plus `peek()` when it has one (a RefreshingProvider). @public */
export interface ObservableCredentialSource<C extends Credential> {
  subscribe(listener: (credential: C) => void): () => void;
  peek?(): C | undefined;
}

/** @public */
export interface CredentialMetricsOptions {
  /** The application's OpenTelemetry Meter, e.g. `metrics.getMeter('my-service')` from `@opentelemetry/api`. */
  meter: MetricsMeter;
  /** The credential's name, the value of the `ecs_identity.credential` attribute (e.g. `consul-token`). */
  credential: string;
  /** More attributes on every measurement (keep them few and bounded: each value is a new time series). */
  attributes?: MetricsAttributes | undefined;
  /** Time to expiry is measured against this clock, and so are durations when it is given. Default: the system clock (durations: `performance.now()`). */
  clock?: Clock | undefined;
}

/**
 * The metrics of one credential. Providers feed it (a `metrics` option of `consulTokenProvider`,
 * `athenzIdentityProvider`, or {@link meteredRefreshHooks} for one built on `refreshingProvider`); any other
 * provider can be watched with {@link CredentialMetrics.observe} and its errors passed to `onError`.
 * @public
 */
export interface CredentialMetrics {
  readonly credential: string;
  /** Counts a successful attempt and makes `credential` the one the gauge reports. */
  recordCredential(credential: Credential): void;
  /** Counts a failed attempt, by its error code. Bound: can be passed as a provider's `onError` as is. */
  readonly onError: (error: unknown) => void;
  /** Feeds a refresh event (counts it, or updates the expiry). Bound: can be passed as an `onEvent` hook as is. */
  readonly onEvent: (event: CredentialMetricsEvent) => void;
  /** Runs `operation` and records how long it took, and its error code when it fails. */
  measure<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /**
   * Reports the expiry of each new credential of `provider` (its `peek()` too, when it has one, so a credential
   * fetched before `observe` is reported) and counts it as a successful attempt: each one (`countAttempts: true`, the
   * default), none (`false`: refresh events count them), or only the first one it sees (`'first'`: for a
   * `refreshingProvider` feeding {@link CredentialMetrics.onEvent}, whose `refreshed` event marks a replacement,
   * never the first credential). Returns the function that stops observing.
   */
  observe<C extends Credential>(
    provider: ObservableCredentialSource<C>,
    options?: { countAttempts?: boolean | 'first' },
  ): () => void;
  /** Stops observing every provider and removes the gauge callback. Idempotent. */
  close(): void;
}

/** The stable code of an error, for `error.type`: the IdentityError code, else the error's name. */
function errorType(error: unknown): string {
  if (error instanceof IdentityError) return error.code;
  if (error instanceof Error && error.name !== '') return error.name;
  return 'UNKNOWN';
}

function expiryMs(value: Date | number | undefined): number | undefined {
  const ms = value instanceof Date ? value.getTime() : value;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

function monotonicNow(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/**
 * Creates the metrics of one credential on the application's Meter. Instruments are shared by name, so several
 * credentials on one Meter make one gauge, two counters and one histogram, told apart by `ecs_identity.credential`.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { credentialMetrics } from '@ecs-identity/core';
 * import { consulTokenProvider } from '@ecs-identity/consul-login';
 *
 * const consulMetrics = credentialMetrics({ meter: metrics.getMeter('web'), credential: 'consul-token' });
 * const consul = consulTokenProvider({ metrics: consulMetrics });
 * // ... on shutdown
 * await consul.close();
 * consulMetrics.close();
 * ```
 * @public
 */
export function credentialMetrics(options: CredentialMetricsOptions): CredentialMetrics {
  if (options === null || typeof options !== 'object') {
    throw new CoreError('INVALID_ARGUMENT', 'credentialMetrics: options must be an object');
  }
  const { meter, credential } = options;
  if (meter === null || typeof meter !== 'object' || typeof meter.createCounter !== 'function') {
    throw new CoreError(
      'INVALID_ARGUMENT',
      'credentialMetrics: meter must be an OpenTelemetry Meter (metrics.getMeter(name) from @opentelemetry/api)',
    );
  }
  if (typeof credential !== 'string' || credential.trim() === '') {
    throw new CoreError('INVALID_ARGUMENT', 'credentialMetrics: credential must be a non-empty string');
  }
  const clock = options.clock ?? systemClock;
  const elapsedNow = options.clock === undefined ? monotonicNow : () => clock.now();
  const base: MetricsAttributes = { ...options.attributes, [CREDENTIAL_METRICS.credentialAttribute]: credential };
  const failed = (error: unknown): MetricsAttributes => ({
    ...base,
    [CREDENTIAL_METRICS.errorAttribute]: errorType(error),
  });

  const attempts = meter.createCounter(CREDENTIAL_METRICS.refreshAttempts, {
    description: 'Credential fetch attempts (the first fetch and every refresh), successful or not',
    unit: '{attempt}',
  });
  const failures = meter.createCounter(CREDENTIAL_METRICS.refreshFailures, {
    description: 'Failed credential fetch attempts, by error code (error.type)',
    unit: '{attempt}',
  });
  const duration = meter.createHistogram(CREDENTIAL_METRICS.operationDuration, {
    description: 'Duration of the operations behind a credential (Consul login, ZTS register and refresh)',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const gauge = meter.createObservableGauge(CREDENTIAL_METRICS.timeToExpiry, {
    description: 'Seconds until the newest credential expires (negative once expired)',
    unit: 's',
  });

  let latestExpiryMs: number | undefined;
  const peekers = new Set<() => Credential | undefined>();
  const stops = new Set<() => void>();
  let closed = false;

  const report = (result: MetricsObservableResult): void => {
    let expiry = latestExpiryMs;
    for (const peek of peekers) {
      const current = expiryMs(peek()?.expiresAt);
      if (current !== undefined && (expiry === undefined || current > expiry)) expiry = current;
    }
    if (expiry !== undefined) result.observe((expiry - clock.now()) / 1000, base);
  };
  gauge.addCallback(report);

  const succeeded = (expiresAt: Date | number | undefined): void => {
    if (closed) return;
    attempts.add(1, base);
    const ms = expiryMs(expiresAt);
    if (ms !== undefined) latestExpiryMs = ms;
  };
  const onError = (error: unknown): void => {
    if (closed) return;
    attempts.add(1, base);
    failures.add(1, failed(error));
  };

  const metrics: CredentialMetrics = {
    credential,
    recordCredential: (c) => succeeded(c?.expiresAt),
    onError,
    onEvent: (event) => {
      if (closed || event === null || typeof event !== 'object') return;
      if (event.type === 'refreshed') succeeded(event.expiresAt);
      else if (event.type === 'refresh-failed') {
        attempts.add(1, base);
        failures.add(1, { ...base, [CREDENTIAL_METRICS.errorAttribute]: event.code ?? 'UNKNOWN' });
      } else if (event.type === 'expiring') {
        const ms = expiryMs(event.expiresAt);
        if (ms !== undefined) latestExpiryMs = ms;
      }
    },
    async measure<T>(operation: string, run: () => Promise<T>): Promise<T> {
      const start = elapsedNow();
      const attributes = { ...base, [CREDENTIAL_METRICS.operationAttribute]: operation };
      try {
        const value = await run();
        if (!closed) duration.record(Math.max(0, elapsedNow() - start) / 1000, attributes);
        return value;
      } catch (error) {
        if (!closed) {
          duration.record(Math.max(0, elapsedNow() - start) / 1000, {
            ...attributes,
            [CREDENTIAL_METRICS.errorAttribute]: errorType(error),
          });
        }
        throw error;
      }
    },
    observe(provider, observeOptions) {
      if (closed) return () => {};
      const mode = observeOptions?.countAttempts ?? true;
      // A credential already cached was the first one: its successors come as `refreshed` events.
      let seen = typeof provider.peek === 'function' && provider.peek() !== undefined;
      const unsubscribe = provider.subscribe((c) => {
        const count = mode === true || (mode === 'first' && !seen);
        seen = true;
        if (count) succeeded(c?.expiresAt);
        else if (!closed) latestExpiryMs = expiryMs(c?.expiresAt) ?? latestExpiryMs;
      });
      const peek = typeof provider.peek === 'function' ? () => provider.peek?.() : undefined;
      if (peek !== undefined) peekers.add(peek);
      const stop = (): void => {
        stops.delete(stop);
        if (peek !== undefined) peekers.delete(peek);
        unsubscribe();
      };
      stops.add(stop);
      return stop;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const stop of [...stops]) stop();
      gauge.removeCallback(report);
    },
  };
  return metrics;
}

/** The refreshing-provider option through which a provider's attempts reach its metrics. @public */
export interface MeteredRefreshOptions {
  onEvent?: ((event: RefreshEvent) => void) | undefined;
}

/**
 * The refreshing-provider hooks that feed `metrics`, for a provider built on `refreshingProvider`: spread `options`
 * into its options (it calls the caller's own `onEvent` too) and call `attach(provider)` once it exists. Without
 * metrics, `options` holds the caller's own hook and `attach` does nothing.
 *
 * This is the one place that decides how a provider's attempts reach the metrics: failures and replacements through
 * the refresh events (`refresh-failed`, `refreshed`, `expiring`), the first credential and the gauge's expiry
 * through `subscribe` / `peek` (the provider sends no event for its first credential).
 * @public
 */
export function meteredRefreshHooks(
  metrics: CredentialMetrics | undefined,
  own: MeteredRefreshOptions = {},
): {
  options: MeteredRefreshOptions;
  attach<C extends Credential>(provider: ObservableCredentialSource<C>): void;
} {
  const onEvent = own.onEvent;
  if (metrics === undefined) return { options: { onEvent }, attach: () => {} };
  return {
    options: {
      onEvent: (event) => {
        metrics.onEvent(event);
        onEvent?.(event);
      },
    },
    attach: (provider) => {
      metrics.observe(provider, { countAttempts: 'first' });
    },
  };
}

/**
 * `metrics.measure(operation, run)` when there are metrics, else just `run()`: how providers time an operation
 * behind an optional `metrics` option.
 * @public
 */
export function measured<T>(
  metrics: CredentialMetrics | undefined,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  return metrics === undefined ? run() : metrics.measure(operation, run);
}
