/**
 * `@ecs-identity/core/node`: the Node-only additions. Atomic file writes and crash-safe key + certificate pairs; TLS
 * from a provider's credentials (`tlsOptions`), servers that follow rotation (`keepServerRotated`) and the one
 * client-certificate rotation mechanism of every mTLS client (`clientCertificateAgents`, `rotatingAgent`).
 * @packageDocumentation
 */
export {
  type KeyCertPair,
  readKeyCertPair,
  type WriteFileOptions,
  writeFileAtomic,
  writeKeyCertPair,
} from './node/files.js';
export {
  type ClientCertificateAgents,
  type ClientCertificateAgentsOptions,
  clientCertificateAgents,
  httpsAgent,
  type KeyCertCredential,
  keepServerRotated,
  type RotatingAgent,
  type RotatingAgentOptions,
  type RotationOptions,
  rotatingAgent,
  type TlsMaterial,
  tlsOptions,
} from './node/tls.js';
