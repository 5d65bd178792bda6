/**
 * Every error the SDK throws is an {@link IdentityError} with a stable string {@link IdentityErrorCode}.
 * Callers branch on `code` and `retryable`, never on the message text.
 *
 * @example
 * ```ts
 * try { await provider.get(); }
 * catch (e) { if (IdentityError.is(e, 'CLOSED')) return; throw e; }
 * ```
 * @packageDocumentation
 */

/** The stable codes. New codes may be added; existing ones never change meaning. @public */
export type IdentityErrorCode =
  // generic mechanisms (core)
  | 'CLOSED' // the provider was closed
  | 'ABORTED' // the caller's AbortSignal fired
  | 'TIMEOUT' // a network call took longer than its timeout
  | 'NETWORK' // connection refused / reset / DNS / TLS failure
  | 'HTTP_STATUS' // a server answered with a status the caller did not expect
  | 'RESPONSE_TOO_LARGE' // the response body exceeded the size cap
  | 'INVALID_RESPONSE' // the body was not the JSON / XML / form expected
  | 'INSECURE_URL' // plain http to a host that is neither loopback nor the ECS link-local address
  | 'INVALID_ARGUMENT' // a caller passed a bad option or value
  | 'INVALID_CONFIG' // the environment / configuration is incomplete or contradictory
  | 'EXPIRED' // the only credential available has expired
  | 'EXPIRES_BEFORE_NEXT_ATTEMPT' // a refresh failed and the cached credential expires before the next attempt
  | 'RETRY_EXHAUSTED' // retries or the deadline ran out (the last error is the cause)
  | 'FILE_IO' // reading or writing a file failed
  // ecs-metadata
  | 'INVALID_ARN'
  | 'INVALID_METADATA'
  | 'METADATA_UNAVAILABLE'
  | 'CREDENTIALS_UNAVAILABLE'
  | 'INVALID_CREDENTIALS'
  // consul-login
  | 'CONSUL_ACL_DISABLED'
  | 'CONSUL_AUTH_METHOD_NOT_FOUND'
  | 'CONSUL_PERMISSION_DENIED'
  | 'CONSUL_PRINCIPAL_NOT_TRUSTED'
  | 'CONSUL_NOT_REPLICATED'
  | 'CONSUL_TOKEN_NOT_FOUND'
  | 'CONSUL_LOGIN_FAILED'
  | 'LOGOUT_FAILED'
  // athenz-zts
  | 'INVALID_NAME'
  | 'INVALID_CSR'
  | 'INVALID_KEY'
  | 'ATTESTATION_FAILED'
  | 'ZTS_CSR_REJECTED'
  | 'ZTS_ATTESTATION_REJECTED'
  | 'ZTS_PROVIDER_NOT_AUTHORIZED'
  | 'ZTS_REVOKED'
  | 'ZTS_NOT_FOUND'
  | 'ZTS_NOT_ROLE_MEMBER' // 403: the principal is not a member of the requested role(s) (rolecert, access token)
  | 'ZTS_NOT_AUTHORIZED' // 403: the principal may not make this request (a role identity, a proxy request, a delete)
  | 'ZTS_RATE_LIMITED'
  | 'ZTS_ERROR'
  | 'TOKEN_VERIFICATION_FAILED'
  // cli
  | 'HOOK_FAILED'; // the agent's command or signal after a template was written failed

/** @public */
export interface IdentityErrorOptions {
  /** Whether trying the same operation again may succeed (429, 5xx, network errors). Default false. */
  retryable?: boolean;
  /** The HTTP status, when the error came from a server's answer. */
  status?: number;
  /** The underlying error. */
  cause?: unknown;
  /** How long the server asked us to wait before retrying (from `Retry-After`), in milliseconds. */
  retryAfterMs?: number;
}

/**
 * The one error type of the SDK. Messages say what failed, where (a URL without secrets, a field name) and,
 * where it helps, what to do; they never contain a secret.
 * @public
 */
export class IdentityError extends Error {
  readonly code: IdentityErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(code: IdentityErrorCode, message: string, options: IdentityErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdentityError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** True when `e` is an IdentityError (optionally with one of the given codes). */
  static is(e: unknown, ...codes: IdentityErrorCode[]): e is IdentityError {
    return e instanceof IdentityError && (codes.length === 0 || codes.includes(e.code));
  }
}
