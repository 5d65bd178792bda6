/**
 * `@ecs-identity/ecs-metadata`: ECS task metadata (v4 → v3 → v2), ARN parsing in every partition and the task-role
 * container credentials. Browser-safe: this entry uses only Web APIs; the token-file default lives in `./node`.
 * @packageDocumentation
 */
export * from './arn.js';
export * from './aws-credentials.js';
export * from './aws-sdk-adapter.js';
export * from './container-credentials.js';
export type { EcsMetadataErrorCode } from './errors.js';
export * from './fetch-metadata.js';
export * from './metadata.js';
export * from './task-identity.js';
