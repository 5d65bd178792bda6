// CONTRACT STUB (owned by the core-refresh helper): replace bodies, keep the exported names and shapes.
import type { Clock } from './clock.js';
import type { Credential, CredentialProvider } from './credential.js';
import type { Logger } from './logger.js';
/** @public */
export interface RefreshingProviderOptions<C extends Credential> {
  /** What the provider is (used in log lines and errors), e.g. "consul token". */
  name: string;
  /** Fetches a new credential. `previous` is the last one handed out, if any (e.g. to reuse a key). */
  fetch: (signal: AbortSignal, previous: C | undefined) => Promise<C>;
  /** Refresh when less than this many ms of validity remain. Default 5 minutes. */
  refreshBeforeMs?: number;
  /** Refresh once this fraction of the lifetime (fetch time → expiresAt) has passed, if that is earlier. Default 0.8. */
  refreshAtFraction?: number;
  /** Up to this many ms are subtracted at random from each refresh time so a fleet does not refresh in step. Default 30_000 (capped to a tenth of the remaining lifetime). */
  jitterMs?: number;
  /** Refresh in the background with an unref'd timer so a cached get() never waits. Default true. */
  backgroundRefresh?: boolean;
  /** Runs once on close() with the last credential (logout, delete). */
  dispose?: (last: C | undefined) => Promise<void> | void;
  /** Called with each refresh error (the cached credential keeps being served while valid). */
  onError?: (error: unknown) => void;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}
/** A CredentialProvider plus a cheap synchronous snapshot. @public */
export interface RefreshingProvider<C extends Credential> extends CredentialProvider<C> {
  /** The cached credential if it is still valid, without any I/O. */
  peek(): C | undefined;
}
/** @public */
export declare function refreshingProvider<C extends Credential>(
  options: RefreshingProviderOptions<C>,
): RefreshingProvider<C>;
