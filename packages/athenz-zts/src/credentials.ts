/**
 * The credentials this package hands out: the service identity ({@link X509Identity}), role certificates and access
 * tokens. Secret fields (private key PEM, tokens) are hidden from inspect / JSON / String by core's defineSecrets.
 * @packageDocumentation
 */
import { type Credential, defineSecrets } from '@ecs-identity/core';
import { AthenzError } from './errors.js';
import { type CryptoOption, publicKeySpki } from './keys.js';
import type { CryptoKey, CryptoKeyPair } from './web-crypto.js';
import { type ParsedCertificate, parseCertificate } from './x509-info.js';

/** The service identity: key, certificate and what ZTS said about it. @public */
export interface X509Identity extends Credential {
  readonly domain: string;
  readonly service: string;
  readonly provider: string;
  readonly instanceId: string;
  /** The Web Crypto private key (for signing in-process). */
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The private key in PEM (PKCS#1 for RSA, SEC1 for EC, like siad). Secret: hidden when printed. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly certificate: ParsedCertificate;
  /** The issuing CA chain from ZTS (`x509CertificateSigner`), when it sent one. */
  readonly chainPem?: string;
  /** The CA bundle trusted for ZTS and peers, when configured. */
  readonly caBundlePem?: string;
  readonly spiffeId?: string;
  /** Hex serial number: ZTS tracks the current and previous one. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly expiresAt: Date;
}

/** A role certificate (it uses the service identity's key). @public */
export interface RoleCertificate extends Credential {
  /** `<roleDomain>:role.<role>`. */
  readonly roleName: string;
  readonly certificatePem: string;
  readonly certificate: ParsedCertificate;
  readonly privateKey: CryptoKey;
  /** Secret: hidden when printed. */
  readonly privateKeyPem: string;
  readonly spiffeId?: string;
  readonly notBefore: Date;
  readonly expiresAt: Date;
  /** The serial of the identity certificate it was obtained with. */
  readonly identitySerial: string;
}

/** An OAuth2 access token from ZTS, bound to the identity certificate it was obtained with. @public */
export interface AccessToken extends Credential {
  /** Secret: hidden when printed. */
  readonly token: string;
  readonly tokenType: string;
  readonly scope: string;
  /** Secret when present. */
  readonly idToken?: string;
  readonly expiresAt: Date;
  /** The serial of the identity certificate the token is bound to (`cnf` x5t#S256). */
  readonly identitySerial: string;
}

/** Fields of {@link buildX509Identity}. @public */
export interface X509IdentityInput extends CryptoOption {
  domain: string;
  service: string;
  provider: string;
  instanceId: string;
  keys: CryptoKeyPair;
  privateKeyPem: string;
  certificatePem: string;
  chainPem?: string | null | undefined;
  caBundlePem?: string | undefined;
}

/**
 * True when the certificate certifies `publicKey`.
 * @public
 */
export async function certificateMatchesKey(
  certificate: ParsedCertificate,
  publicKey: CryptoKey,
  options: CryptoOption = {},
): Promise<boolean> {
  const spki = await publicKeySpki(publicKey, options);
  const certSpki = certificate.publicKeySpki;
  return spki.length === certSpki.length && spki.every((b, i) => b === certSpki[i]);
}

/**
 * Builds an {@link X509Identity}, checking that the certificate is for `<domain>.<service>` and certifies the key.
 * @throws IdentityError `INVALID_RESPONSE` when the certificate does not fit
 * @public
 */
export async function buildX509Identity(input: X509IdentityInput): Promise<X509Identity> {
  const certificate = await parseCertificate(input.certificatePem);
  const { names } = certificate;
  const principal = `${input.domain}.${input.service}`;
  if (names.commonNames.length !== 1 || names.commonNames[0]?.toLowerCase() !== principal) {
    throw new AthenzError(
      'INVALID_RESPONSE',
      `the certificate is for ${JSON.stringify(names.commonNames)}, expected CN ${principal}`,
    );
  }
  if (!(await certificateMatchesKey(certificate, input.keys.publicKey, input))) {
    throw new AthenzError('INVALID_RESPONSE', `the certificate for ${principal} does not certify our key`);
  }
  const identity = {
    domain: input.domain,
    service: input.service,
    provider: input.provider,
    instanceId: input.instanceId,
    privateKey: input.keys.privateKey,
    publicKey: input.keys.publicKey,
    privateKeyPem: input.privateKeyPem,
    certificatePem: input.certificatePem,
    certificate,
    ...(input.chainPem ? { chainPem: input.chainPem } : {}),
    ...(input.caBundlePem ? { caBundlePem: input.caBundlePem } : {}),
    ...(names.spiffeUris[0] ? { spiffeId: names.spiffeUris[0] } : {}),
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    expiresAt: certificate.notAfter,
  };
  return defineSecrets(identity, ['privateKeyPem']);
}

/** True when the identity's certificate has expired (or is not yet valid) at `nowMs`. @public */
export function isCertificateValidAt(cert: ParsedCertificate, nowMs: number): boolean {
  return cert.notBefore.getTime() <= nowMs && nowMs < cert.notAfter.getTime();
}
