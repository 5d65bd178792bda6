/**
 * Athenz ZTS identity for ECS / Fargate tasks, browser-safe part: names, keys, CSRs, attestation, the ZTS client
 * (over any transport), credentials, access-token verification and the role-certificate and access-token providers.
 * The Node entry (`./node`) adds the service identity provider (`athenzIdentityProvider`), the mTLS transport and the
 * siad-compatible file sink.
 * @packageDocumentation
 */
export * from './access-token-provider.js';
export * from './access-token-verify.js';
export * from './attestation.js';
export * from './credentials.js';
export * from './csr.js';
export type { AthenzErrorCode } from './errors.js';
export type { IdentityBoundOptions } from './identity-bound.js';
export * from './identity-sink.js';
export * from './keys.js';
export * from './names.js';
export { athenzRefreshDefaults } from './refresh-defaults.js';
export * from './resolve-identity.js';
export * from './role-cert-provider.js';
export * from './version.js';
export * from './x509-info.js';
export * from './zts-client.js';
export * from './zts-errors.js';
export * from './zts-types.js';
