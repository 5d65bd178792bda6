/**
 * An error the fake Consul answers with: the HTTP status and the body text the real server sends.
 * `rpc` marks errors raised by the server's RPC layer, which a client agent prefixes with `rpc error making call: `.
 */
export class ConsulHttpError extends Error {
  override readonly name = 'ConsulHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly rpc = true,
    /** For the request log: the principal a refused login was made as, when known. */
    readonly principalArn?: string,
  ) {
    super(message);
  }
}

/** `acl.ErrNotFound` (403 over HTTP). */
export const aclNotFound = (detail?: string): ConsulHttpError =>
  new ConsulHttpError(403, detail === undefined ? 'ACL not found' : `ACL not found: ${detail}`);

/** `acl.ErrPermissionDenied` (403 over HTTP). */
export const permissionDenied = (principalArn?: string): ConsulHttpError =>
  new ConsulHttpError(403, 'Permission denied', true, principalArn);

/** A validator (auth method) error: the HTTP layer answers 500 with its text. */
export const validatorError = (message: string): ConsulHttpError => new ConsulHttpError(500, message);
