/**
 * Athenz ZTS identity for ECS / Fargate tasks, browser-safe part: names, keys, CSRs, attestation, the ZTS client
 * (over any HttpClient), access-token verification. Node additions (files, mTLS agents, providers) are in `./node`.
 * @packageDocumentation
 */
export * from './csr.js';
export * from './keys.js';
export * from './names.js';
export * from './x509-info.js';
