/**
 * `@ecs-identity/athenz-zts/node`: the Node-only additions: the service identity provider (`athenzIdentityProvider`,
 * what siad does, with the ECS agent's defaults) and the file sink in siad's layout (`siadFileSink`).
 * @packageDocumentation
 */
export {
  type AthenzCsrOptions,
  type AthenzIdentityOptions,
  type AthenzIdentityProvider,
  type AthenzInstanceOptions,
  type AthenzKeyOptions,
  type AthenzStartMode,
  athenzIdentityProvider,
} from './node/identity-provider.js';
export { type SiadFileSink, type SiadFileSinkOptions, type SiadPaths, siadFileSink } from './node/siad-file-sink.js';
