/**
 * `@ecs-identity/ecs-metadata`: who this ECS task is (task metadata v4 → v3 → v2, ARNs of every partition) and its
 * task-role credentials. This is the browser-safe build (Web APIs only); Node gets the build of the same exports in
 * `index.node.ts` (the `node` export condition), whose `containerCredentials` reads a token file with `fs`.
 * @packageDocumentation
 */
export {
  type Arn,
  type ClusterArn,
  formatRoleArn,
  parseArn,
  parseClusterArn,
  parseRoleArn,
  parseTaskArn,
  type RoleArn,
  type TaskArn,
} from './arn.js';
export { type AwsCredentials, type AwsCredentialsInput, awsCredentials } from './aws-credentials.js';
export { toAwsCredentialIdentityProvider } from './aws-sdk-adapter.js';
export { type ContainerCredentialsOptions, containerCredentials } from './container-credentials.js';
export type { EcsMetadataErrorCode } from './errors.js';
export {
  type Environment,
  getContainerMetadata,
  getTaskIdentity,
  getTaskMetadata,
  type MetadataFetchOptions,
  type TaskMetadataOptions,
} from './fetch-metadata.js';
export {
  type ContainerMetadata,
  type LaunchType,
  parseContainerMetadata,
  parseTaskMetadata,
  type TaskMetadata,
} from './metadata.js';
export { type TaskFacts, type TaskIdentity, taskIdentity } from './task-identity.js';
