/**
 * Every error the SDK throws is an {@link IdentityError} with a stable string `code`. Core owns the codes of its
 * mechanisms ({@link CoreErrorCode}); each protocol package owns and exports its own union (ecs-metadata's
 * `EcsMetadataErrorCode`, consul-login's `ConsulErrorCode`, athenz-zts's `AthenzErrorCode`). Callers branch on `code`
 * and `retryable`, never on the message text.
 *
 * @example
 * ```ts
 * try { await provider.get(); }
 * catch (e) { if (IdentityError.is(e, 'CLOSED')) return; throw e; }
 * ```
 * @packageDocumentation
 */

/**
 * The codes of core's mechanisms. New codes may be added; existing ones never change meaning.
 * @public
 */
export type CoreErrorCode =
  | 'CLOSED' // the provider was closed
  | 'ABORTED' // the caller's AbortSignal fired
  | 'TIMEOUT' // a network call or an operation took longer than its bound
  | 'NETWORK' // connection refused / reset / DNS / TLS failure, or a body cut short
  | 'HTTP_STATUS' // a server answered with a status the caller did not expect
  | 'RESPONSE_TOO_LARGE' // the response body exceeded the size cap
  | 'INVALID_RESPONSE' // the body was not the JSON / XML / form expected
  | 'INSECURE_URL' // plain http to a host that is neither loopback nor the ECS link-local address
  | 'INVALID_ARGUMENT' // a caller passed a bad option or value
  | 'INVALID_CONFIG' // the environment / configuration is incomplete or contradictory (or needs Node in a browser)
  | 'EXPIRED' // the only credential available has expired
  | 'EXPIRES_BEFORE_NEXT_ATTEMPT' // a refresh failed and the cached credential expires before the next attempt
  | 'RETRY_EXHAUSTED' // retries or the deadline ran out (the last error is the cause)
  | 'FILE_IO'; // reading or writing a file failed

/** @public */
export interface IdentityErrorOptions {
  /** Whether trying the same operation again may succeed (429, 5xx, network errors). Default false. */
  retryable?: boolean | undefined;
  /** The HTTP status, when the error came from a server's answer. */
  status?: number | undefined;
  /** The underlying error. */
  cause?: unknown;
  /** How long the server asked us to wait before retrying (from `Retry-After`), in milliseconds. */
  retryAfterMs?: number | undefined;
}

/**
 * The one error type of the SDK, generic over its code (`IdentityError<'CLOSED'>`). Messages say what failed, where (a
 * URL without secrets, a field name) and, where it helps, what to do; they never contain a secret.
 * @public
 */
export class IdentityError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(code: Code, message: string, options: IdentityErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdentityError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** True when `e` is an IdentityError (optionally with one of the given codes). */
  static is<Code extends string = string>(e: unknown, ...codes: Code[]): e is IdentityError<Code> {
    return e instanceof IdentityError && (codes.length === 0 || codes.includes(e.code as Code));
  }
}

/**
 * `IdentityError`'s constructor with its codes checked at compile time: each package builds its errors with
 * `errorClass<ItsCodes>()`, so a misspelt code does not compile. The errors are plain `IdentityError`s.
 * @internal
 */
export function errorClass<Code extends string>(): new (
  code: Code,
  message: string,
  options?: IdentityErrorOptions,
) => IdentityError<Code> {
  return IdentityError;
}
