// testkit is Node-only (it starts servers); index and node export the same thing.
export * from './aws/index.js';
export * from './consul/index.js';
export * from './ecs-agent/index.js';
export * from './task/index.js';
export * from './time/index.js';
export * from './zts/index.js';
