/**
 * The error codes of this package (its errors are core's `IdentityError`s).
 * @packageDocumentation
 */
import type { CoreErrorCode, IdentityError, IdentityErrorOptions } from '@ecs-identity/core';
import { errorClass } from '@ecs-identity/core/internal';
import type { EcsMetadataErrorCode } from '@ecs-identity/ecs-metadata';

/**
 * The codes athenz-zts adds to core's and ecs-metadata's. Bad input: `INVALID_NAME`, `INVALID_CSR`, `INVALID_KEY`.
 * Attestation: `ATTESTATION_FAILED` (`sts:AssumeRole` failed; retryable when STS was unreachable or throttled). ZTS's
 * answers: `ZTS_CSR_REJECTED`, `ZTS_ATTESTATION_REJECTED`, `ZTS_PROVIDER_NOT_AUTHORIZED`, `ZTS_REVOKED`,
 * `ZTS_NOT_FOUND`, `ZTS_NOT_ROLE_MEMBER`, `ZTS_NOT_AUTHORIZED`, `ZTS_RATE_LIMITED`, `ZTS_ERROR`. Access tokens:
 * `TOKEN_VERIFICATION_FAILED`.
 * @public
 */
export type AthenzErrorCode =
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
  | 'TOKEN_VERIFICATION_FAILED';

type Code = AthenzErrorCode | EcsMetadataErrorCode | CoreErrorCode;

/** `IdentityError` with the codes this package throws checked at compile time. @internal */
export const AthenzError: new (code: Code, message: string, options?: IdentityErrorOptions) => IdentityError<Code> =
  errorClass<Code>();
