/**
 * `@ecs-identity/consul-login`: Consul `aws-iam` ACL login for ECS tasks. Browser-safe entry; the `./node` subpath
 * adds the token sink file, CA files and the SIGTERM logout helper.
 * @packageDocumentation
 */
export type { SigningCredentials } from './aws-query-request.js';
export {
  type BearerTokenCredentials,
  type BearerTokenOptions,
  buildBearerToken,
} from './bearer-token.js';
export { type CallerIdentity, type CallerIdentityOptions, getCallerIdentity } from './caller-identity.js';
export { canonicalHeaderKey } from './canonical-header.js';
export { defaultIamEndpoint, defaultStsEndpoint, type SigningEndpoint } from './endpoints.js';
export { entityFromArn, type IamEntity } from './iam-entity.js';
