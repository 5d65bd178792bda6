/**
 * The bridge to the AWS SDK for JavaScript v3: any `CredentialProvider<AwsCredentials>` as an
 * `AwsCredentialIdentityProvider`. Types only from `@smithy/types`; the runtime never loads the AWS SDK.
 * @packageDocumentation
 */
import type { CredentialProvider } from '@ecs-identity/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsCredentials } from './aws-credentials.js';

/**
 * Wraps a provider for AWS SDK v3 clients (`new STSClient({ credentials: toAwsCredentialIdentityProvider(p) })`).
 * Each call asks the provider, which serves its cached credential until it is due for refresh, so the SDK's own
 * memoisation is not needed. The object handed to the SDK is a plain one (the SDK may copy it, which would drop
 * hidden fields): from there on, keeping it out of logs is the SDK's business.
 *
 * @example
 * ```ts
 * import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
 * const sts = new STSClient({ region, credentials: toAwsCredentialIdentityProvider(containerCredentials()) });
 * await sts.send(new GetCallerIdentityCommand({}));
 * ```
 * @public
 */
export function toAwsCredentialIdentityProvider(
  provider: CredentialProvider<AwsCredentials>,
): AwsCredentialIdentityProvider {
  return async (properties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const credentials = await provider.get(properties?.forceRefresh === true ? { forceRefresh: true } : undefined);
    const identity: {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
      accountId?: string;
    } = { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
    if (credentials.sessionToken !== undefined) identity.sessionToken = credentials.sessionToken;
    if (credentials.expiresAt !== undefined) identity.expiration = credentials.expiresAt;
    if (credentials.accountId !== undefined) identity.accountId = credentials.accountId;
    return identity;
  };
}
