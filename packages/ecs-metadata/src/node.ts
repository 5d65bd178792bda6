/**
 * Node-only additions: `containerCredentials` with the authorization-token file read through `fs`.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import type { RefreshingProvider } from '@ecs-identity/core';
import type { AwsCredentials } from './aws-credentials.js';
import {
  containerCredentials as browserSafeContainerCredentials,
  type ContainerCredentialsOptions,
} from './container-credentials.js';

/**
 * Like the main entry's `containerCredentials`, but reads `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` with `fs`
 * (re-read on every request, so a rotated token is picked up) unless `readFile` is given.
 *
 * @example
 * ```ts
 * import { containerCredentials } from '@ecs-identity/ecs-metadata/node';
 * const creds = await containerCredentials().get();
 * ```
 * @public
 */
export function containerCredentials(options: ContainerCredentialsOptions = {}): RefreshingProvider<AwsCredentials> {
  return browserSafeContainerCredentials({ readFile: (path) => readFile(path, 'utf8'), ...options });
}
