/**
 * The error codes of this package (its errors are core's `IdentityError`s).
 * @packageDocumentation
 */
import type { CoreErrorCode, IdentityError, IdentityErrorOptions } from '@ecs-identity/core';
import { errorClass } from '@ecs-identity/core/internal';

/**
 * The codes ecs-metadata adds to core's ({@link CoreErrorCode}): `INVALID_ARN` (names what is wrong),
 * `INVALID_METADATA` (the missing or malformed field), `METADATA_UNAVAILABLE` (every endpoint tried, and why each
 * failed), `CREDENTIALS_UNAVAILABLE` (the credentials endpoint failed), `INVALID_CREDENTIALS` (a credentials document,
 * or AWS refusing credentials).
 * @public
 */
export type EcsMetadataErrorCode =
  | 'INVALID_ARN'
  | 'INVALID_METADATA'
  | 'METADATA_UNAVAILABLE'
  | 'CREDENTIALS_UNAVAILABLE'
  | 'INVALID_CREDENTIALS';

/** `IdentityError` with this package's codes and core's checked at compile time. @internal */
export const EcsMetadataError: new (
  code: EcsMetadataErrorCode | CoreErrorCode,
  message: string,
  options?: IdentityErrorOptions,
) => IdentityError<EcsMetadataErrorCode | CoreErrorCode> = errorClass<EcsMetadataErrorCode | CoreErrorCode>();
