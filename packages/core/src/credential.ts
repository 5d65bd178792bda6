/**
 * The one interface applications embed: every credential an ECS task needs comes from a CredentialProvider.
 * @packageDocumentation
 */
import { type CoreErrorCode, IdentityError } from './errors.js';

/** A credential. `expiresAt` absent means it does not expire on its own. @public */
export interface Credential {
  readonly expiresAt?: Date;
}

/** @public */
export interface GetOptions {
  /** Aborts this caller's wait (not the shared fetch other callers may be waiting on). */
  signal?: AbortSignal | undefined;
  /** Fetch a new credential even when the cached one is still fresh. */
  forceRefresh?: boolean | undefined;
}

/** @public */
export interface CredentialProvider<C extends Credential> {
  /** A valid (never expired) credential; concurrent callers share one in-flight fetch. */
  get(options?: GetOptions): Promise<C>;
  /** Called once with each new credential; returns the unsubscribe function. */
  subscribe(listener: (credential: C) => void): () => void;
  /** Stops timers, rejects waiting and later `get()` calls with a `CLOSED` error, releases (logout / delete). Idempotent. */
  close(): Promise<void>;
  /** The same as `close()`, so that `await using provider = ...` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Adds `[Symbol.asyncDispose]` (the same as `close()`) to an object, so `await using` works with it. Node (>= 20.4)
 * and current browsers have the symbol; where a runtime lacks it, nothing is added (`await using` does not exist
 * there either) and `close()` works as ever.
 * @internal
 */
export function withAsyncDispose<T extends { close(): Promise<void> }>(
  target: T,
): NoInfer<T> & { [Symbol.asyncDispose](): Promise<void> } {
  if (typeof Symbol.asyncDispose === 'symbol') {
    Object.defineProperty(target, Symbol.asyncDispose, {
      value: () => target.close(),
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
  return target as T & { [Symbol.asyncDispose](): Promise<void> };
}

/**
 * A provider that always hands out the same credential (one you already have: a saved identity, fixed keys): `get()`
 * resolves with it, `subscribe` never calls back, `close()` does nothing but make later `get()`s reject with `CLOSED`.
 *
 * @example
 * ```ts
 * const credentials = staticProvider(awsCredentials({ accessKeyId, secretAccessKey, sessionToken }));
 * ```
 * @public
 */
export function staticProvider<C extends Credential>(credential: C): CredentialProvider<C> {
  let closed = false;
  const provider = {
    get: async () => {
      if (closed) throw new IdentityError<CoreErrorCode>('CLOSED', 'static provider: the provider was closed');
      return credential;
    },
    subscribe: () => () => {},
    close: async () => {
      closed = true;
    },
  };
  return withAsyncDispose(provider);
}
