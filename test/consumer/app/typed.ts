// A consumer's program, type-checked against the packed packages' declarations (lib ES2023, no DOM,
// skipLibCheck false): the credential types must resolve to real types, never to `any`.
import type { webcrypto } from 'node:crypto';
import type { X509Identity } from '@ecs-identity/athenz-zts';
import type { ConsulToken } from '@ecs-identity/consul-login';
import type { CredentialProvider } from '@ecs-identity/core';
import { tlsOptions } from '@ecs-identity/core/node';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';

export async function serverTls(identity: CredentialProvider<X509Identity>): Promise<{ key: string; cert: string }> {
  const id = await identity.get();
  // The key goes to Node's own Web Crypto as it is.
  const key: webcrypto.CryptoKey = id.privateKey;
  const usages: readonly webcrypto.KeyUsage[] = key.usages;
  const expires: Date = id.expiresAt;
  // An identity is what core's Node TLS options take, with no mapping by hand.
  const tls = tlsOptions(id);
  return { key: `${tls.key}${usages.length}${expires.getTime()}`, cert: tls.cert };
}

export function consulHeader(token: ConsulToken): Record<string, string> {
  const secret: string = token.secretId;
  return { 'X-Consul-Token': secret };
}

export function awsEnv(credentials: AwsCredentials): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}
