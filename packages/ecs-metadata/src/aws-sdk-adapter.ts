/**
 * The bridge to the AWS SDK for JavaScript v3: any `CredentialProvider<AwsCredentials>` as an
 * `AwsCredentialIdentityProvider`, following the SDK's conventions for credential providers. Types only from
 * `@smithy/types`; the SDK's error class (`@smithy/core/config`) is loaded only when there is an error to report, and
 * the runtime never loads the AWS SDK itself.
 * @packageDocumentation
 */
import { type CredentialProvider, IdentityError } from '@ecs-identity/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsCredentials } from './aws-credentials.js';

/**
 * The SDK's `CredentialsProviderError` for a failure of ours: the same message (scrubbed of secrets, as every
 * IdentityError message is), the IdentityError as its `cause`, and `tryNextLink` set when the source is not configured
 * here at all (`INVALID_CONFIG`: no credentials variable, say), so a chain (`chain(...)`, the default provider chain)
 * moves on; any other failure (the endpoint refused, timed out) stops the chain, as the SDK's own container provider
 * does.
 */
async function providerError(error: unknown): Promise<Error> {
  const { CredentialsProviderError } = await import('@smithy/core/config');
  const message = error instanceof Error ? error.message : String(error);
  const tryNextLink = IdentityError.is(error, 'INVALID_CONFIG');
  const wrapped = new CredentialsProviderError(message, { tryNextLink });
  Object.defineProperty(wrapped, 'cause', { value: error, enumerable: false, configurable: true, writable: true });
  return wrapped;
}

/**
 * Wraps a provider for AWS SDK v3 clients (`new STSClient({ credentials: toAwsCredentialIdentityProvider(p) })`). Each
 * call asks the provider, which serves its cached credential until it is due for refresh, so the SDK's own
 * memoisation is not needed. Given a function instead of a provider (`() => containerCredentials()`), the provider is
 * made when the SDK first asks, and a configuration error is raised then, not when the adapter is made: the AWS SDK's
 * convention for credential providers. Every failure reaches the SDK as its `CredentialsProviderError`, with
 * `tryNextLink` when the source is not configured (`INVALID_CONFIG`). The object handed to the SDK is a plain one (the
 * SDK may copy it, which would drop hidden fields): from there on, keeping it out of logs is the SDK's business.
 *
 * @example
 * ```ts
 * import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
 * const credentials = toAwsCredentialIdentityProvider(() => containerCredentials());
 * const sts = new STSClient({ region, credentials });
 * await sts.send(new GetCallerIdentityCommand({}));
 * ```
 * @public
 */
export function toAwsCredentialIdentityProvider(
  // A provider, or a function that makes one when the SDK first asks (so a configuration error is raised then).
  source: CredentialProvider<AwsCredentials> | (() => CredentialProvider<AwsCredentials>),
): AwsCredentialIdentityProvider {
  let provider = typeof source === 'function' ? undefined : source;
  return async (properties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    let credentials: AwsCredentials;
    try {
      provider ??= (source as () => CredentialProvider<AwsCredentials>)();
      credentials = await provider.get(properties?.forceRefresh === true ? { forceRefresh: true } : undefined);
    } catch (error) {
      throw await providerError(error);
    }
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
