/**
 * The names Athenz cares about (subject CN / O / OU, SAN DNS / URI / email, the SPIFFE and instance-id URIs) of a
 * CSR or a certificate, and the parsed certificate this package hands out. The types are this package's own, so
 * the published declarations need neither @peculiar/x509's nor the DOM lib; the parsing itself (x509-codec.ts) is
 * loaded on first use.
 * @packageDocumentation
 */
import { loadX509Codec } from './x509-load.js';

/** The Athenz-relevant names of a CSR or certificate. @public */
export interface X509Names {
  commonNames: string[];
  organizations: string[];
  organizationalUnits: string[];
  dnsNames: string[];
  uris: string[];
  emails: string[];
  ips: string[];
  /** The `spiffe://` URIs (a valid Athenz CSR has at most one). */
  spiffeUris: string[];
  /** The id from `athenz://instanceid/<provider>/<id>`, if present. */
  instanceId?: string;
  /** The provider from `athenz://instanceid/<provider>/<id>`, if present. */
  instanceProvider?: string;
}

/**
 * An X.509 certificate as this package reads it: decoded once, frozen, plain data (no methods, no library types).
 * For anything else, parse {@link ParsedCertificate.der} with the X.509 library of your choice.
 * @public
 */
export interface ParsedCertificate {
  /** The DER encoding (what the PEM armours). */
  readonly der: Uint8Array;
  /** The subject distinguished name, RFC 4514 style (e.g. `CN=sports.api, OU=athenz.aws-ecs.us-west-2`). */
  readonly subject: string;
  /** The issuer distinguished name, RFC 4514 style. */
  readonly issuer: string;
  /** Hex serial number (lower case, as @peculiar/x509 and ZTS print it). */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The subject and subjectAltName names Athenz uses. */
  readonly names: Readonly<X509Names>;
  /** The DER SubjectPublicKeyInfo of the certified key. */
  readonly publicKeySpki: Uint8Array;
}

/**
 * Parses a PEM CSR and returns its names.
 * @throws IdentityError `INVALID_CSR` when it is not a PKCS#10 request
 * @public
 */
export async function describeCsr(csr: string): Promise<X509Names> {
  return (await loadX509Codec()).describeCsrPem(csr);
}

/**
 * The names of a certificate: a PEM certificate (the first one, when given a chain) is parsed first.
 * @throws IdentityError `INVALID_RESPONSE` when it is not an X.509 certificate
 * @public
 */
export async function describeCertificate(cert: string | ParsedCertificate): Promise<X509Names> {
  const { names } = await parseCertificate(cert);
  // A copy: the certificate's own names stay as parsed whatever the caller does with these arrays.
  return Object.fromEntries(
    Object.entries(names).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]),
  ) as unknown as X509Names;
}

/**
 * Parses a PEM certificate (the first block of a chain).
 * @throws IdentityError `INVALID_RESPONSE`
 * @internal
 */
export async function parseCertificate(cert: string | ParsedCertificate): Promise<ParsedCertificate> {
  if (typeof cert !== 'string') return cert;
  return (await loadX509Codec()).parseCertificatePem(cert);
}
