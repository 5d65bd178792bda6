/**
 * The one interface applications embed: every credential an ECS task needs comes from a CredentialProvider.
 * @packageDocumentation
 */

/** A credential. `expiresAt` absent means it does not expire on its own. @public */
export interface Credential {
  readonly expiresAt?: Date;
}

/** @public */
export interface GetOptions {
  /** Aborts this caller's wait (not the shared fetch other callers may be waiting on). */
  signal?: AbortSignal;
  /** Fetch a new credential even when the cached one is still fresh. */
  forceRefresh?: boolean;
}

/** @public */
export interface CredentialProvider<C extends Credential> {
  /** A valid (never expired) credential; concurrent callers share one in-flight fetch. */
  get(options?: GetOptions): Promise<C>;
  /** Called once with each new credential; returns the unsubscribe function. */
  subscribe(listener: (credential: C) => void): () => void;
  /** Stops timers, rejects waiting and later `get()` calls with a `CLOSED` error, releases (logout / delete). Idempotent. */
  close(): Promise<void>;
}
