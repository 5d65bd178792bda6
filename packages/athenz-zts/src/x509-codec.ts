/**
 * Everything this package does with the `@peculiar` stack (`@peculiar/x509`, `@peculiar/asn1-*`, with `asn1js`,
 * `tsyringe` and `reflect-metadata`): read certificates and CSRs, sign CSRs, convert private key formats, armour PEM.
 * It is loaded on first use only, through `loadX509Codec` (x509-load.ts) (which loads `reflect-metadata`
 * first, the global `Reflect.getMetadata` tsyringe needs): importing the package loads none of it.
 * Nothing here is public; the public wrappers are in x509-info.ts, csr.ts and keys.ts.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';
import { ECParameters, ECPrivateKey, id_ecPublicKey, id_secp256r1, id_secp384r1 } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { id_rsaEncryption, RSAPrivateKey, rsaEncryption } from '@peculiar/asn1-rsa';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import {
  type GeneralNames,
  type Name,
  PemConverter,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  X509Certificate,
} from '@peculiar/x509';
import type { CsrGeneralName, CsrName } from './csr.js';
import { AthenzError } from './errors.js';
import type { KeyType, PrivateKeyFormat } from './keys.js';
import type { BufferSource, Crypto, CryptoKey, CryptoKeyPair, SigningAlgorithm } from './web-crypto.js';
import type { ParsedCertificate, X509Names } from './x509-info.js';

const SAN_OID = '2.5.29.17';
const EC_CURVES: Record<string, string> = { [id_secp256r1]: 'P-256', [id_secp384r1]: 'P-384' };

// ---- names of certificates and CSRs ----

function names(subject: Name, san: GeneralNames | undefined): X509Names {
  const items = san?.items ?? [];
  const of = (type: string) => items.filter((n) => n.type === type).map((n) => n.value);
  const uris = of('url');
  const out: X509Names = {
    commonNames: subject.getField('CN'),
    organizations: subject.getField('O'),
    organizationalUnits: subject.getField('OU'),
    dnsNames: of('dns'),
    uris,
    emails: of('email'),
    ips: of('ip'),
    spiffeUris: uris.filter((u) => u.toLowerCase().startsWith('spiffe://')),
  };
  const instance = uris.find((u) => u.startsWith('athenz://instanceid/'));
  if (instance) {
    const rest = instance.slice('athenz://instanceid/'.length);
    const slash = rest.indexOf('/');
    if (slash > 0) {
      out.instanceProvider = rest.slice(0, slash);
      out.instanceId = rest.slice(slash + 1);
    }
  }
  return out;
}

/**
 * @peculiar/x509 decodes names and extensions only when they are read, and throws plain `Error`s (ASN.1 offsets,
 * "Zero buffer length") for bytes that parse as a certificate but not as the extension they claim to be.
 */
function decoded<T>(code: 'INVALID_CSR' | 'INVALID_RESPONSE', what: string, read: () => T): T {
  try {
    return read();
  } catch (cause) {
    if (cause instanceof IdentityError) throw cause;
    throw new AthenzError(code, `${what} has a subject or extension that cannot be decoded`, { cause });
  }
}

function csrNames(req: Pkcs10CertificateRequest): X509Names {
  return decoded('INVALID_CSR', 'the CSR', () =>
    names(req.subjectName, (req.getExtension(SAN_OID) as SubjectAlternativeNameExtension | null)?.names),
  );
}

/** The names of a PEM CSR. @throws IdentityError `INVALID_CSR` */
export function describeCsrPem(pem: string): X509Names {
  let req: Pkcs10CertificateRequest;
  try {
    req = new Pkcs10CertificateRequest(pem);
  } catch (cause) {
    throw new AthenzError('INVALID_CSR', 'the CSR is not a valid PEM PKCS#10 certificate request', { cause });
  }
  return csrNames(req);
}

/** An X509Certificate that finds its subjectAltName without decoding the other extensions (see below). */
class IssuedCertificate extends X509Certificate {
  subjectAltNameExtension(): SubjectAlternativeNameExtension | undefined {
    const ext = this.asn.tbsCertificate.extensions?.find((e) => e.extnID === SAN_OID);
    return ext === undefined ? undefined : new SubjectAlternativeNameExtension(AsnConvert.serialize(ext));
  }
}

/**
 * Parses a PEM certificate (the first block of a chain) into a {@link ParsedCertificate}, decoding what callers read
 * (subject, issuer, validity, serial, the subjectAltName, the public key) once. `getExtension` on a plain
 * X509Certificate turns every extension into an object, serializing and parsing each one twice, to find one; reading
 * the names of a freshly issued certificate (on the critical path of a cold start) needs only the SAN, found here
 * without touching the others.
 * @throws IdentityError `INVALID_RESPONSE`
 */
export function parseCertificatePem(pem: string): ParsedCertificate {
  let cert: IssuedCertificate;
  try {
    cert = new IssuedCertificate(pem);
  } catch (cause) {
    throw new AthenzError('INVALID_RESPONSE', 'the certificate is not a valid PEM X.509 certificate', { cause });
  }
  const read = decoded('INVALID_RESPONSE', 'the certificate', () => {
    const san = cert.subjectAltNameExtension();
    return {
      names: names(cert.subjectName, san?.names),
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  });
  let publicKeySpki: Uint8Array;
  try {
    publicKeySpki = new Uint8Array(cert.publicKey.rawData);
  } catch (cause) {
    throw new AthenzError('INVALID_RESPONSE', "the certificate's public key cannot be decoded", { cause });
  }
  const { names: n, ...fields } = read;
  return Object.freeze({ ...fields, der: new Uint8Array(cert.rawData), publicKeySpki, names: Object.freeze(n) });
}

// ---- CSRs ----

/** Signs a PKCS#10 request and returns its PEM (with a final newline) and the names read back from what was encoded. */
export async function signCsr(
  keys: CryptoKeyPair,
  name: CsrName,
  san: CsrGeneralName[],
  signingAlgorithm: SigningAlgorithm,
  crypto: Crypto,
): Promise<{ pem: string; names: X509Names }> {
  let csr: Pkcs10CertificateRequest;
  try {
    csr = await Pkcs10CertificateRequestGenerator.create(
      {
        name,
        keys,
        signingAlgorithm,
        extensions: san.length > 0 ? [new SubjectAlternativeNameExtension(san)] : [],
      },
      crypto,
    );
  } catch (cause) {
    if (cause instanceof IdentityError) throw cause;
    throw new AthenzError('INVALID_CSR', 'signing the CSR failed (is the private key usable for signing?)', {
      cause,
    });
  }
  // The generator's result is parsed back from the encoded request (the DER the PEM armours): these names are sent.
  return { pem: `${csr.toString('pem')}\n`, names: csrNames(csr) };
}

// ---- keys ----

/** PEM with a final newline, as openssl and siad write files (PemConverter leaves it off). */
export function toPem(der: BufferSource, tag: string): string {
  return `${PemConverter.encode(der, tag)}\n`;
}

function namedCurveOid(curve: string): string {
  const oid = Object.entries(EC_CURVES).find(([, name]) => name === curve)?.[0];
  if (!oid) throw new AthenzError('INVALID_KEY', `EC curve ${curve} is not supported (use P-256 or P-384)`);
  return oid;
}

/** The PEM of `privateKey` in `format`, from its PKCS#8 DER. */
export function privateKeyPemFromPkcs8(pkcs8: ArrayBuffer, privateKey: CryptoKey, format: PrivateKeyFormat): string {
  if (format === 'pkcs8') return toPem(pkcs8, 'PRIVATE KEY');
  const info = AsnConvert.parse(pkcs8, PrivateKeyInfo);
  const inner = info.privateKey.buffer;
  if (format === 'pkcs1') return toPem(inner, 'RSA PRIVATE KEY');
  // PKCS#8 usually leaves the curve out of the inner ECPrivateKey; the traditional SEC1 file carries it.
  const ec = AsnConvert.parse(inner, ECPrivateKey);
  ec.parameters = new ECParameters({ namedCurve: namedCurveOid((privateKey.algorithm as EcKeyAlgorithm).namedCurve) });
  return toPem(AsnConvert.serialize(ec), 'EC PRIVATE KEY');
}

const KEY_BLOCKS = ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];

function findKeyBlock(pem: string): { type: string; der: ArrayBuffer } {
  let blocks: { type: string; rawData: ArrayBuffer }[];
  try {
    blocks = PemConverter.decodeWithHeaders(pem);
  } catch (cause) {
    throw new AthenzError('INVALID_KEY', 'the key file is not valid PEM', { cause });
  }
  // `openssl ecparam -genkey` writes an EC PARAMETERS block first: skip anything that is not a key.
  const block = blocks.find((b) => KEY_BLOCKS.includes(b.type));
  if (!block) {
    throw new AthenzError(
      'INVALID_KEY',
      'no private key PEM block found (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)',
    );
  }
  if (block.type === 'ENCRYPTED PRIVATE KEY') {
    throw new AthenzError('INVALID_KEY', 'encrypted private keys are not supported: decrypt the key file first');
  }
  return { type: block.type, der: block.rawData };
}

function parseOrThrow<T>(der: BufferSource, schema: new () => T, what: string): T {
  try {
    return AsnConvert.parse(der, schema);
  } catch (cause) {
    throw new AthenzError('INVALID_KEY', `the key is not a valid ${what} structure`, { cause });
  }
}

/** PKCS#8 DER of a key given in any supported PEM form, plus what it is. @throws IdentityError `INVALID_KEY` */
export function toPkcs8(pem: string): { pkcs8: ArrayBuffer; type: KeyType; curve?: string } {
  const { type, der } = findKeyBlock(pem);
  if (type === 'RSA PRIVATE KEY') {
    parseOrThrow(der, RSAPrivateKey, 'PKCS#1 RSAPrivateKey');
    const info = new PrivateKeyInfo({ privateKeyAlgorithm: rsaEncryption, privateKey: new OctetString(der) });
    return { pkcs8: AsnConvert.serialize(info), type: 'rsa' };
  }
  if (type === 'EC PRIVATE KEY') {
    const ec = parseOrThrow(der, ECPrivateKey, 'SEC1 ECPrivateKey');
    const curveOid = ec.parameters?.namedCurve;
    const curve = curveOid ? EC_CURVES[curveOid] : undefined;
    if (!curveOid || !curve) {
      throw new AthenzError('INVALID_KEY', 'the EC key must name its curve, and it must be P-256 or P-384');
    }
    const info = new PrivateKeyInfo({
      privateKeyAlgorithm: new AlgorithmIdentifier({
        algorithm: id_ecPublicKey,
        parameters: AsnConvert.serialize(new ECParameters({ namedCurve: curveOid })),
      }),
      privateKey: new OctetString(der),
    });
    return { pkcs8: AsnConvert.serialize(info), type: 'ec', curve };
  }
  const info = parseOrThrow(der, PrivateKeyInfo, 'PKCS#8 PrivateKeyInfo');
  const alg = info.privateKeyAlgorithm;
  if (alg.algorithm === id_rsaEncryption) return { pkcs8: der, type: 'rsa' };
  if (alg.algorithm === id_ecPublicKey && alg.parameters) {
    const params = parseOrThrow(alg.parameters, ECParameters, 'EC parameters');
    const curve = params.namedCurve ? EC_CURVES[params.namedCurve] : undefined;
    if (curve) return { pkcs8: der, type: 'ec', curve };
  }
  throw new AthenzError('INVALID_KEY', `private key algorithm ${alg.algorithm} is not supported (RSA, EC P-256/P-384)`);
}
