/**
 * `@ecs-identity/athenz-zts`: Athenz ZTS identity for ECS / Fargate tasks. This is the browser-safe build (Web APIs
 * only: names, keys, CSRs, attestation, the ZTS client over `fetch`, the role-certificate and access-token providers,
 * the identity's context and saved identity); Node gets the build of the same exports in `index.node.ts` (the `node`
 * export condition), whose ZTS client presents client certificates and trusts the ZTS CA bundle. The Node-only
 * additions (the identity provider, the siad file sink) are in `./node`.
 * @packageDocumentation
 */
import { createZtsClientWith, type ZtsClient, type ZtsClientOptions } from './zts-client.js';
import { browserZtsPlatform } from './zts-platform.js';

export { type AccessTokenOptions, accessTokenProvider, accessTokenScope } from './access-token-provider.js';
export { type VerifyAccessTokenOptions, verifyAccessToken } from './access-token-verify.js';
export {
  type AttestationRequest,
  type StsAttestor,
  type StsAttestorOptions,
  type StsEndpoint,
  stsAttestor,
} from './attestation.js';
export {
  type AthenzContext,
  type AthenzContextOptions,
  type AthenzNamesOptions,
  type AthenzStsOptions,
  athenzContext,
  type ResolvedAthenzContext,
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
export { describeCertificate, describeCsr, type X509Names } from './x509-info.js';
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

/**
 * Creates a ZTS client: register, refresh, delete, role certificates, access tokens and the JWKS. In Node its calls go
 * through an https agent per client certificate that trusts `caBundle`; in other runtimes through `fetch`, which can
 * neither present a client certificate nor trust a custom CA (asking for either is `INVALID_CONFIG`: pass a
 * `transport`). Calls that present the client certificate go only over https, even to loopback.
 *
 * @example
 * ```ts
 * await using zts = createZtsClient({ url: ztsUrl('zts.example.com'), caBundle });
 * const identity = await zts.register({ provider, domain, service, attestationData, csr });
 * ```
 * @public
 */
export function createZtsClient(options: ZtsClientOptions): ZtsClient {
  return createZtsClientWith(browserZtsPlatform, options);
}
