/**
 * `@ecs-identity/consul-login`: Consul `aws-iam` ACL login for ECS tasks. Browser-safe entry; the `./node` subpath
 * adds the token sink file, CA files and the SIGTERM logout helper.
 * @packageDocumentation
 */
export {
  type ConsulAclClient,
  type ConsulAclClientOptions,
  consulAclClient,
  type LoginParams,
} from './acl-client.js';
export type { SigningCredentials } from './aws-query-request.js';
export {
  type BearerTokenCredentials,
  type BearerTokenOptions,
  buildBearerToken,
} from './bearer-token.js';
export { type CallerIdentity, type CallerIdentityOptions, getCallerIdentity } from './caller-identity.js';
export { canonicalHeaderKey } from './canonical-header.js';
export { consulAddress, DEFAULT_CONSUL_ADDRESS, type Env } from './consul-address.js';
export { type ConsulToken, parseConsulToken } from './consul-token.js';
export { defaultIamEndpoint, defaultStsEndpoint, type SigningEndpoint } from './endpoints.js';
export type { ConsulErrorCode } from './errors.js';
export { entityFromArn, type IamEntity } from './iam-entity.js';
export {
  type ConsulLoginOptions,
  consulLogin,
  DEFAULT_AUTH_METHOD,
  META_CLUSTER,
  META_TASK_ID,
  type TaskFacts,
} from './login.js';
export { type ReplicationWaitOptions, waitForReplication } from './replication.js';
export type { TokenLogoutEvent, TokenLogoutReason } from './token-logouts.js';
export {
  type ConsulTokenProvider,
  type ConsulTokenProviderOptions,
  consulTokenProvider,
  consulTokenRefreshDefaults,
  DEFAULT_SUPERSEDED_GRACE_MS,
} from './token-provider.js';
export { parseXml } from './xml.js'; // TEMPORARY: the CLI's doctor, until consul-login reads IAM entities itself
