/**
 * `@ecs-identity/core/internal`: the building blocks the SDK's own packages share (consul-login, athenz-zts,
 * ecs-metadata and the CLI are published separately, so they import them from here). Not a public API: anything here
 * may change or go in any release. Browser-safe.
 * @internal
 * @packageDocumentation
 */
export { abortedError } from './clock.js';
export { withAsyncDispose } from './credential.js';
export { type Environment, processEnv } from './environment.js';
export { errorClass } from './errors.js';
export { loadOnce } from './load-once.js';
export { silentLogger } from './logger.js';
export { type MeteredRefreshOptions, measured, meteredRefreshHooks } from './metrics.js';
export { mergeRefreshPolicy } from './refresh-policy.js';
export { isRetryableError, parseRetryAfter } from './retry.js';
export { REDACTED } from './secrets.js';
export { concatBytes, formEncode, isAllowedPlainHttpHost, responseHeaders, safeUrl } from './transport.js';
export { USER_AGENT, VERSION } from './version.js';
