/**
 * `@ecs-identity/consul-login`: Consul `aws-iam` ACL login for ECS tasks. This is the browser-safe build (Web APIs
 * only), where a Consul CA or client certificate cannot be used (`INVALID_CONFIG`: pass `acl.http`); Node gets the
 * build of the same exports in `index.node.ts` (the `node` export condition), which honours them (`tls`, else
 * `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`) and reads the ECS token file. The Node-only additions
 * (the token sink file, the SIGTERM logout) are in `./node`.
 * @packageDocumentation
 */

import { type ConsulAclClient, type ConsulAclClientOptions, createAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { type ConsulLoginOptions, loginWith } from './login.js';
import { browserPlatform } from './platform.js';
import { type ConsulTokenProvider, type ConsulTokenProviderOptions, tokenProviderWith } from './token-provider.js';

export type { ConsulAclClient, ConsulAclClientOptions, LoginParams } from './acl-client.js';
export { type BearerTokenCredentials, type BearerTokenOptions, buildBearerToken } from './bearer-token.js';
export type { ConsulToken } from './consul-token.js';
export { defaultIamEndpoint, defaultStsEndpoint, type SigningEndpoint } from './endpoints.js';
export { getIamEntity, type IamEntityDetails, type IamEntityOptions } from './entity-details.js';
export type { ConsulErrorCode } from './errors.js';
export type { IamEntity } from './iam-entity.js';
export type { ConsulAwsOptions, ConsulLoginOptions, ConsulLogoutOptions } from './login.js';
export { type LogoutFailure, type LogoutTarget, logoutAll } from './logout-all.js';
export type { ConsulTlsOptions } from './platform.js';
export { type ReplicationWaitOptions, waitForReplication } from './replication.js';
export type { TokenLogoutEvent, TokenLogoutReason } from './token-logouts.js';
export type { ConsulTokenLogoutOptions, ConsulTokenProvider, ConsulTokenProviderOptions } from './token-provider.js';

/**
 * Creates a Consul ACL client: login, logout and the self-read. The address is `address`, else `CONSUL_HTTP_ADDR`
 * (`CONSUL_HTTP_SSL` for a `host:port`), else `127.0.0.1:8500`; in Node, `tls` (else the `CONSUL_*` TLS variables)
 * sets the CA and client certificate.
 *
 * @example
 * ```ts
 * const acl = consulAclClient({ address: 'https://consul.example:8501' });
 * const token = await acl.login({ authMethod: 'iam-ecs-service-token', bearerToken });
 * await acl.logout(token);
 * ```
 * @public
 */
export function consulAclClient(options: ConsulAclClientOptions = {}): ConsulAclClient {
  return createAclClient(browserPlatform, options);
}

/**
 * Logs in to Consul with the task's IAM role, as `consul login -type aws-iam -aws-auto-bearer-token
 * -aws-include-entity` in consul-ecs does (task facts → AWS credentials → bearer token → ACL login with the task's meta
 * → replication wait → `sink`), and returns the ACL token once the servers have replicated it. On failure after the
 * login (replication, sink) the token is logged out again, so nothing is left half done.
 *
 * @example
 * ```ts
 * import { consulLogin } from '@ecs-identity/consul-login';
 * const token = await consulLogin({ acl: { address: 'https://consul.example:8501' }, aws: { serverIdHeaderValue: 'consul.example' } });
 * fetch(`${consul}/v1/catalog/services`, { headers: { 'X-Consul-Token': token.secretId } });
 * ```
 * @public
 */
export function consulLogin(options: ConsulLoginOptions = {}): Promise<ConsulToken> {
  return loginWith(browserPlatform, options);
}

/**
 * A Consul token provider for a long-running task: the first `get()` logs in (as {@link consulLogin}), concurrent
 * callers share it, a token with an `ExpirationTime` is replaced ahead of expiry, `invalidate()` forces a new login,
 * and `close()` logs out. No token is left behind: a replaced token is logged out after `logout.supersededGraceMs`,
 * the token of a login whose answer came after the client gave up is logged out when it arrives (see
 * `logout.lateAnswerWindowMs`), and `close()` logs out everything still pending and rejects with `LOGOUT_FAILED` if a
 * logout failed (a token already gone counts as done).
 *
 * @example
 * ```ts
 * await using consul = consulTokenProvider({ acl: { address: 'https://consul.example:8501' } });
 * const { secretId } = await consul.get();
 * ```
 * @public
 */
export function consulTokenProvider(options: ConsulTokenProviderOptions = {}): ConsulTokenProvider {
  return tokenProviderWith(browserPlatform, options);
}
