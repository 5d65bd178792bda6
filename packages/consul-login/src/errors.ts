/**
 * The error codes of this package (its errors are core's `IdentityError`s).
 * @packageDocumentation
 */
import type { CoreErrorCode, IdentityError, IdentityErrorOptions } from '@ecs-identity/core';
import { errorClass } from '@ecs-identity/core/internal';
import type { EcsMetadataErrorCode } from '@ecs-identity/ecs-metadata';

/**
 * The codes consul-login adds to core's and ecs-metadata's: `CONSUL_ACL_DISABLED` (401 `ACL support disabled`),
 * `CONSUL_AUTH_METHOD_NOT_FOUND`, `CONSUL_PERMISSION_DENIED` (e.g. no binding rule matched),
 * `CONSUL_PRINCIPAL_NOT_TRUSTED` (the IAM principal is not in the auth method's bound ARNs), `CONSUL_NOT_REPLICATED`
 * (the replication wait ran out), `CONSUL_TOKEN_NOT_FOUND` (`ACL not found` on logout or self-read),
 * `CONSUL_LOGIN_FAILED` (any other refused login), `LOGOUT_FAILED`.
 * @public
 */
export type ConsulErrorCode =
  | 'CONSUL_ACL_DISABLED'
  | 'CONSUL_AUTH_METHOD_NOT_FOUND'
  | 'CONSUL_PERMISSION_DENIED'
  | 'CONSUL_PRINCIPAL_NOT_TRUSTED'
  | 'CONSUL_NOT_REPLICATED'
  | 'CONSUL_TOKEN_NOT_FOUND'
  | 'CONSUL_LOGIN_FAILED'
  | 'LOGOUT_FAILED';

type Code = ConsulErrorCode | EcsMetadataErrorCode | CoreErrorCode;

/** `IdentityError` with the codes this package throws checked at compile time. @internal */
export const ConsulError: new (code: Code, message: string, options?: IdentityErrorOptions) => IdentityError<Code> =
  errorClass<Code>();
