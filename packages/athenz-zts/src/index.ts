/**
 * `@ecs-identity/athenz-zts`: Athenz ZTS identity for ECS / Fargate tasks. This is the browser-safe build (Web APIs
 * only: names, keys, CSRs, attestation, the ZTS client over `fetch`, the role-certificate and access-token providers,
 * the identity's context and saved identity); Node gets the build of the same exports in `index.node.ts` (the `node`
 * export condition), whose ZTS client presents client certificates and trusts the ZTS CA bundle, and whose attestation
 * loads `@aws-sdk/client-sts` by itself (here the caller passes `loadSdk`, so a bundle of this entry holds no AWS SDK
 * code). The Node-only additions (the identity provider, the siad file sink) are in `./node`.
 * @packageDocumentation
 */
import { type StsAttestor, type StsAttestorOptions, stsAttestorWith } from './attestation.js';
import { type AthenzContext, type AthenzContextOptions, athenzContextWith } from './context.js';
import { createZtsClientWith, type ZtsClient, type ZtsClientOptions } from './zts-client.js';
import { browserZtsPlatform } from './zts-platform.js';

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

/**
 * The context of an Athenz identity: the task facts, which service the task is (siad's naming rules), its ZTS
 * provider, and the attestation that proves it. The identity provider builds one from its own options; the CLI builds
 * one to name the service before it asks ZTS for anything. In Node, attestation loads `@aws-sdk/client-sts` on first
 * use; in other runtimes pass `sts: { loadSdk: () => import('@aws-sdk/client-sts') }` (without it,
 * `INVALID_CONFIG`).
 *
 * @example
 * ```ts
 * await using context = athenzContext({ names: { domain: 'sports', service: 'api' } });
 * const { domain, service, provider, attestationRoleArn } = await context.resolve();
 * ```
 * @public
 */
export function athenzContext(options: AthenzContextOptions = {}): AthenzContext {
  return athenzContextWith(undefined, options);
}

/**
 * Creates an {@link StsAttestor}: the STS client is made on the first call and reused until `close()`. In Node it
 * loads `@aws-sdk/client-sts` on first use; in other runtimes pass `loadSdk: () => import('@aws-sdk/client-sts')`
 * (without it, `INVALID_CONFIG`), so that only a program that attests bundles the SDK.
 *
 * @example
 * ```ts
 * const attestor = stsAttestor({ region: 'us-west-2', credentials: containerCredentials() });
 * const attestationData = await attestor.attest({
 *   domain: 'sports', service: 'api', taskId, roleArn: 'arn:aws:iam::123456789012:role/sports.api',
 * });
 * attestor.close();
 * ```
 * @public
 */
export function stsAttestor(options: StsAttestorOptions): StsAttestor {
  return stsAttestorWith(undefined, options);
}
