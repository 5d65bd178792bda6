// Deliberate type errors on credential fields: each line marked `expect TSnnnn` must be reported with that code,
// and nothing else in the program may be. A field typed `any` (a declaration that did not resolve) would let these
// lines type-check, and the consumer test fails.
import type { X509Identity } from '@ecs-identity/athenz-zts';
import type { ConsulToken } from '@ecs-identity/consul-login';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';

export function misuse(identity: X509Identity, token: ConsulToken, credentials: AwsCredentials): number[] {
  const k: number = identity.privateKey; // expect TS2322
  const c: number = identity.certificate; // expect TS2322
  const s: number = token.secretId; // expect TS2322
  const a: number = credentials.sessionToken; // expect TS2322
  return [k, c, s, a];
}
