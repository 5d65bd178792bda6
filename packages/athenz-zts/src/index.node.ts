/**
 * `@ecs-identity/athenz-zts` for Node (the `node` export condition): the exports of the browser-safe build
 * (`index.ts`, whose types and documentation they share), with the ZTS client presenting client certificates and
 * trusting the ZTS CA bundle through core's `clientCertificateAgents`, and attestation loading `@aws-sdk/client-sts`
 * by itself (on first use).
 * @packageDocumentation
 */

import { stsAttestorWith } from './attestation.js';
import { athenzContextWith } from './context.js';
import type * as Browser from './index.js';
import { preloadSts } from './node/sts-sdk.js';
import { nodeZtsPlatform } from './node/zts-transport.js';
import { createZtsClientWith } from './zts-client.js';

export { type AccessTokenOptions, accessTokenProvider, accessTokenScope } from './access-token-provider.js';
export { type VerifyAccessTokenOptions, verifyAccessToken } from './access-token-verify.js';
export type {
  AttestationOptions,
  AttestationRequest,
  StsAttestor,
  StsAttestorOptions,
  StsEndpoint,
} from './attestation.js';
export type {
  AthenzContext,
  AthenzContextOptions,
  AthenzNamesOptions,
  AthenzStsOptions,
  ResolvedAthenzContext,
} from './context.js';
export type { AccessToken, RoleCertificate, X509Identity } from './credentials.js';
export {
  type BuiltCsr,
  buildRoleCsr,
  buildServiceCsr,
  type CsrSubject,
  type RoleCsrOptions,
  type ServiceCsrOptions,
  type SpiffeOptions,
} from './csr.js';
export type { AthenzErrorCode } from './errors.js';
export type { IdentityBoundOptions } from './identity-bound.js';
export type { IdentitySink, StoredPair } from './identity-sink.js';
export {
  type CryptoOption,
  exportPrivateKeyPem,
  type GenerateKeyPairOptions,
  generateKeyPair,
  importPrivateKeyPem,
  type KeyType,
  type PrivateKeyFormat,
} from './keys.js';
export { athenzRefreshDefaults } from './refresh-defaults.js';
export { normalizeRolePath } from './resolve-identity.js';
export {
  type RoleCertificateOptions,
  type RoleCertificateSet,
  type RoleCsrSettings,
  type RoleRef,
  roleCertificateProvider,
} from './role-cert-provider.js';
export { loadSavedIdentity, type SavedIdentityOptions } from './saved-identity.js';
export { describeCertificate, describeCsr, type ParsedCertificate, type X509Names } from './x509-info.js';
export {
  type CallOptions,
  type ClientTls,
  type ZtsClient,
  type ZtsClientOptions,
  type ZtsTransport,
  ztsUrl,
} from './zts-client.js';
export type {
  AccessTokenResponse,
  InstanceIdentity,
  InstanceRef,
  InstanceRefreshInformation,
  InstanceRegisterInformation,
  JwkSet,
  RoleCertificateRequest,
  RoleCertificateResponse,
} from './zts-types.js';

export const createZtsClient: typeof Browser.createZtsClient = (options) =>
  createZtsClientWith(nodeZtsPlatform, options);
export const athenzContext: typeof Browser.athenzContext = (options) => athenzContextWith(preloadSts, options);
export const stsAttestor: typeof Browser.stsAttestor = (options) => stsAttestorWith(preloadSts, options);
