/**
 * `@ecs-identity/ecs-metadata` for Node (the `node` export condition): the exports of the browser-safe build
 * (`index.ts`), with `containerCredentials` reading `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` with `fs` (re-read on
 * every request, so a rotated token is picked up) unless `readFile` is given.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import type { RefreshingProvider } from '@ecs-identity/core';
import type { AwsCredentials } from './aws-credentials.js';
import { type ContainerCredentialsOptions, containerCredentials as withoutFiles } from './container-credentials.js';

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
export type { ContainerCredentialsOptions } from './container-credentials.js';
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

const readText = (path: string): Promise<string> => readFile(path, 'utf8');

/**
 * The task role's credentials (see the browser-safe build's `containerCredentials`), with the token file read by `fs`.
 *
 * @example
 * ```ts
 * import { containerCredentials } from '@ecs-identity/ecs-metadata';
 * const creds = containerCredentials();
 * const { accessKeyId, roleArn } = await creds.get();
 * ```
 * @public
 */
export function containerCredentials(options: ContainerCredentialsOptions = {}): RefreshingProvider<AwsCredentials> {
  return withoutFiles({ ...options, readFile: options.readFile ?? readText });
}
