/**
 * `@ecs-identity/consul-login` for Node (the `node` export condition): the exports of the browser-safe build
 * (`index.ts`, whose types and documentation they share), with the Consul client's TLS made from `tls` or the Consul
 * CLI's variables (`CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`) through an https agent.
 * @packageDocumentation
 */
import { createAclClient } from './acl-client.js';
import { nodePlatform } from './consul-tls.js';
import type * as Browser from './index.js';
import { loginWith } from './login.js';
import { tokenProviderWith } from './token-provider.js';

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

export const consulAclClient: typeof Browser.consulAclClient = (options = {}) => createAclClient(nodePlatform, options);
export const consulLogin: typeof Browser.consulLogin = (options = {}) => loginWith(nodePlatform, options);
export const consulTokenProvider: typeof Browser.consulTokenProvider = (options = {}) =>
  tokenProviderWith(nodePlatform, options);
