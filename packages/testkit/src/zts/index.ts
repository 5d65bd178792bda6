// The fake Athenz ZTS (Node-only, like the rest of testkit).
export type { AttestedCredentials, AwsAttestationData, CallerIdentityFn } from './attestation.js';
export { stsCallerIdentity } from './attestation.js';
export type { CaKeyAlgorithm } from './ca.js';
export type {
  ZtsAwsConfig,
  ZtsDomainConfig,
  ZtsOptions,
  ZtsProviderConfig,
  ZtsServiceConfig,
} from './config.js';
export type {
  AcceptedRoleCsr,
  AcceptedServiceCsr,
  CsrVerdict,
  ParsedCsr,
  RoleCsrExpectations,
  RoleCsrRule,
  RuleFailure,
  ServiceCsrExpectations,
  ServiceCsrRule,
} from './csr-rules.js';
export {
  certificateInstanceId,
  DEFAULT_SPIFFE_TRUST_DOMAIN,
  parseCsr,
  parseRoleCsr,
  providerSanDnsValid,
  roleCsrFailures,
  serviceCsrFailures,
  subjectOrgUnitValid,
  validateRoleCsr,
  validateServiceCsr,
} from './csr-rules.js';
export type { InstanceIdentity } from './instance.js';
export { isDomainName, isPathElement, isSimpleName } from './names.js';
export type { ZtsCertRecord } from './records.js';
export type { ZtsEmulator, ZtsFault, ZtsRequestLogEntry } from './server.js';
export { startZts } from './server.js';
export { certificateThumbprint } from './tokens.js';
export { ZtsError } from './zts-error.js';
