/**
 * `@ecs-identity/core`: the `CredentialProvider` interface and the mechanisms every provider of the SDK is built from
 * (refresh ahead of expiry, retry, deadlines, the HTTP transport, typed errors, secret redaction, a safe logger,
 * OpenTelemetry metrics). Browser-safe: standard Web APIs only. Node additions (files, TLS) are in `./node`.
 * @packageDocumentation
 */
export { type Clock, sleep, systemClock, type TimerOptions } from './clock.js';
export { type Credential, type CredentialProvider, type GetOptions, staticProvider } from './credential.js';
export { type DeadlineOptions, withDeadline } from './deadline.js';
export { type CoreErrorCode, IdentityError, type IdentityErrorOptions } from './errors.js';
export { type Logger, safeLogger } from './logger.js';
export {
  CREDENTIAL_METRICS,
  type CredentialMetrics,
  type CredentialMetricsEvent,
  type CredentialMetricsOptions,
  credentialMetrics,
  type MetricsAttributes,
  type MetricsInstrumentOptions,
  type MetricsMeter,
  type MetricsObservableResult,
  type ObservableCredentialSource,
} from './metrics.js';
export type { InitialRetryOptions, RefreshOptions, RefreshPolicy, RefreshRetryOptions } from './refresh-policy.js';
export {
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshingProviderOptions,
  refreshingProvider,
} from './refreshing-provider.js';
export { type RetryOptions, retry } from './retry.js';
export { defineSecrets, hasSecrets, redact, registerSecret, scrubSecrets } from './secrets.js';
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  HttpStatusError,
  type HttpStatusErrorInit,
} from './transport.js';
export type { BufferSource, Crypto, CryptoKey, CryptoKeyPair } from './web-crypto.js';
