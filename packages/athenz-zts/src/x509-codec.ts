/**
 * Everything this package does with the `@peculiar` stack (`@peculiar/x509`, `@peculiar/asn1-*`, with `asn1js`,
 * `tsyringe` and `reflect-metadata`): read certificates and CSRs, sign CSRs, convert private key formats, armour PEM.
 * It is loaded on first use only, through `loadX509Codec` (x509-load.ts) (which loads `reflect-metadata`
 * first, the global `Reflect.getMetadata` tsyringe needs): importing the package loads none of it.
 * Nothing here is public; the public wrappers are in x509-info.ts, csr.ts and keys.ts.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  ECParameters,
  ECPrivateKey,
  id_ecdsaWithSHA256,
  id_ecPublicKey,
  id_secp256r1,
  id_secp384r1,
} from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { id_rsaEncryption, id_sha256WithRSAEncryption, RSAPrivateKey, rsaEncryption } from '@peculiar/asn1-rsa';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Name as AsnName,
  Attribute,
  AttributeTypeAndValue,
  AttributeValue,
  Extension,
  Extensions,
  GeneralName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  type SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import {
  AsnDefaultSignatureFormatter,
  AsnEcSignatureFormatter,
  type Name,
  PemConverter,
  Pkcs10CertificateRequest,
  type SubjectAlternativeNameExtension,
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

/** A subjectAltName entry, as @peculiar/x509 names its types (`url` for a URI). */
interface SanItem {
  readonly type: string;
  readonly value: string;
}

/**
 * The entries of a decoded subjectAltName that Athenz reads (DNS, URI, email, IP), straight from the ASN.1 schema
 * objects: @peculiar/x509's GeneralName wrappers give the same type names and values, at the cost of encoding and
 * decoding each entry again.
 */
function sanItems(san: Iterable<GeneralName>): SanItem[] {
  const items: SanItem[] = [];
  for (const n of san) {
    if (n.dNSName !== undefined) items.push({ type: 'dns', value: n.dNSName });
    else if (n.uniformResourceIdentifier !== undefined) items.push({ type: 'url', value: n.uniformResourceIdentifier });
    else if (n.rfc822Name !== undefined) items.push({ type: 'email', value: n.rfc822Name });
    else if (n.iPAddress !== undefined) items.push({ type: 'ip', value: n.iPAddress });
  }
  return items;
}

/** The values of one attribute type of a subject (`CN`, `O`, `OU`), in order. */
type SubjectField = (type: 'CN' | 'O' | 'OU') => string[];

const fieldsOf =
  (subject: Name): SubjectField =>
  (type) =>
    subject.getField(type);

function names(field: SubjectField, items: readonly SanItem[]): X509Names {
  const of = (type: string) => items.filter((n) => n.type === type).map((n) => n.value);
  const uris = of('url');
  const out: X509Names = {
    commonNames: field('CN'),
    organizations: field('O'),
    organizationalUnits: field('OU'),
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
    names(
      fieldsOf(req.subjectName),
      (req.getExtension(SAN_OID) as SubjectAlternativeNameExtension | null)?.names.items ?? [],
    ),
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

/** An X509Certificate whose subjectAltName is read through its ASN.1 schema objects (see below). */
class IssuedCertificate extends X509Certificate {
  /** The subjectAltName entries, decoded from the extension alone. */
  subjectAltNames(): SanItem[] {
    const ext = this.asn.tbsCertificate.extensions?.find((e) => e.extnID === SAN_OID);
    return ext === undefined ? [] : sanItems(AsnConvert.parse(ext.extnValue.buffer, SubjectAlternativeName));
  }

  /** The DER SubjectPublicKeyInfo, from the parsed schema object (`publicKey` encodes it and parses it again). */
  publicKeySpki(): Uint8Array {
    return new Uint8Array(AsnConvert.serialize(this.asn.tbsCertificate.subjectPublicKeyInfo));
  }
}

/**
 * Parses a PEM certificate (the first block of a chain) into a {@link ParsedCertificate}, decoding what callers read
 * (subject, issuer, validity, serial, the subjectAltName, the public key) once. The subjectAltName is decoded from
 * the certificate's ASN.1 schema objects directly: `getExtension` on an X509Certificate turns every extension into an
 * object, encoding and decoding each one twice, to find one; reading the names of a freshly issued certificate (on
 * the critical path of a cold start) needs only the SAN.
 * @throws IdentityError `INVALID_RESPONSE`
 */
export function parseCertificatePem(pem: string): ParsedCertificate {
  let der: ArrayBuffer;
  let cert: IssuedCertificate;
  try {
    // The bytes received, kept as they are: X509Certificate's rawData would encode its parsed form again.
    der = IssuedCertificate.toArrayBuffer(pem);
    cert = new IssuedCertificate(der);
  } catch (cause) {
    throw new AthenzError('INVALID_RESPONSE', 'the certificate is not a valid PEM X.509 certificate', { cause });
  }
  const read = decoded('INVALID_RESPONSE', 'the certificate', () => {
    return {
      names: names(fieldsOf(cert.subjectName), cert.subjectAltNames()),
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  });
  let publicKeySpki: Uint8Array;
  try {
    publicKeySpki = cert.publicKeySpki();
  } catch (cause) {
    throw new AthenzError('INVALID_RESPONSE', "the certificate's public key cannot be decoded", { cause });
  }
  const { names: n, ...fields } = read;
  return Object.freeze({ ...fields, der: new Uint8Array(der), publicKeySpki, names: Object.freeze(n) });
}

// ---- CSRs ----

const asnGeneralName = (n: CsrGeneralName): GeneralName =>
  new GeneralName(
    n.type === 'dns'
      ? { dNSName: n.value }
      : n.type === 'url'
        ? { uniformResourceIdentifier: n.value }
        : { rfc822Name: n.value },
  );

/** The attribute types a CSR subject may have (siad's C, ST, L, O settings, the OU and the CN), and their OIDs. */
const SUBJECT_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
};
/** X.680's PrintableString alphabet. A value within it is encoded as a PrintableString, any other as a UTF8String. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** The subject as an ASN.1 Name, its values taken literally (no DN-string escapes to undo). */
function subjectAsn(name: CsrName): AsnName {
  return new AsnName(
    name.map(
      (rdn) =>
        new RelativeDistinguishedName(
          Object.entries(rdn).flatMap(([type, values]) => {
            const oid = SUBJECT_OIDS[type];
            if (oid === undefined) throw new AthenzError('INVALID_ARGUMENT', `unknown subject attribute ${type}`);
            return values.map(
              (v) =>
                new AttributeTypeAndValue({
                  type: oid,
                  value: new AttributeValue(PRINTABLE.test(v) ? { printableString: v } : { utf8String: v }),
                }),
            );
          }),
        ),
    ),
  );
}

/** The signature algorithm identifier of a SHA-256 signature by an ECDSA or RSASSA-PKCS1-v1_5 key. */
function signatureAlgorithmOf(algorithm: { name: string; hash?: unknown }): AlgorithmIdentifier {
  const hash = typeof algorithm.hash === 'string' ? algorithm.hash : (algorithm.hash as { name?: string })?.name;
  if (hash === 'SHA-256' && algorithm.name === 'ECDSA')
    return new AlgorithmIdentifier({ algorithm: id_ecdsaWithSHA256 });
  if (hash === 'SHA-256' && algorithm.name === 'RSASSA-PKCS1-v1_5') {
    return new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null });
  }
  throw new AthenzError(
    'INVALID_CSR',
    `CSRs are signed with ECDSA or RSASSA-PKCS1-v1_5 and SHA-256, not ${algorithm.name} with ${String(hash)}`,
  );
}

/**
 * DER that is already encoded (the request info once signed, the public key as Web Crypto exported it), put where a
 * schema expects a structure: the schema serializer takes it as its own ASN.1 block (`toASN`), and the block writes
 * its bytes as they are where asn1js encodes the structure around it (`toBER`, with the `ViewWriter` it is given, as
 * asn1js's own blocks do). Decoding such bytes into schema objects only to encode them again cost most of a CSR's
 * signing time (asn1js encodes every level into a buffer of its own).
 */
class Encoded {
  private readonly der: ArrayBuffer;
  constructor(der: ArrayBuffer | Uint8Array) {
    this.der = der instanceof ArrayBuffer ? der : new Uint8Array(der).buffer;
  }
  /** For the schema serializer: this object is the ASN.1 block. */
  toASN(): this {
    return this;
  }
  fromASN(): this {
    throw new Error('Encoded is only written');
  }
  /** For asn1js: the bytes, written to the writer of the structure being encoded (or returned, at the top). */
  toBER(_sizeOnly?: boolean, writer?: { write(buf: ArrayBuffer): void }): ArrayBuffer {
    const copy = this.der.slice(0);
    if (writer === undefined) return copy;
    writer.write(copy);
    return new ArrayBuffer(0);
  }
}

/** The schema type of a field, for an `Encoded` put in its place. */
const asField = <T>(encoded: Encoded): T => encoded as unknown as T;

/**
 * Signs a PKCS#10 request and returns its PEM (with a final newline) and the names of the request info it signed.
 *
 * Built from the @peculiar/asn1-* schemas (@peculiar/asn1-csr's CertificationRequest), with @peculiar/x509's
 * signature formats (bytes in, bytes out): the same DER as `Pkcs10CertificateRequestGenerator` for the same names (a
 * test holds them equal), without its rounds of encoding and decoding every part and then the whole request again:
 * the request info is encoded once, and those bytes are both what is signed and what the request holds. `spki` is the
 * public key's DER SubjectPublicKeyInfo (exported once per key: the check of the issued certificate uses it too),
 * put in the request info as it is.
 */
export async function signCsr(
  keys: CryptoKeyPair,
  spki: Uint8Array,
  name: CsrName,
  san: CsrGeneralName[],
  signingAlgorithm: SigningAlgorithm,
  crypto: Crypto,
): Promise<{ pem: string; names: X509Names }> {
  let der: ArrayBuffer;
  try {
    const info = new CertificationRequestInfo({
      subject: subjectAsn(name),
      subjectPKInfo: asField<SubjectPublicKeyInfo>(new Encoded(spki)),
    });
    if (san.length > 0) {
      const extension = new Extension({
        extnID: SAN_OID,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(new SubjectAlternativeName(san.map(asnGeneralName)))),
      });
      info.attributes.push(
        new Attribute({
          type: id_pkcs9_at_extensionRequest,
          values: [AsnConvert.serialize(new Extensions([extension]))],
        }),
      );
    }
    // As the generator does: the key's own parameters (the curve) complete the signing algorithm.
    const algorithm = { ...signingAlgorithm, ...keys.privateKey.algorithm };
    // The identifiers of RFC 5758 (ECDSA: no parameters) and RFC 4055 (RSA: NULL parameters), from this package's
    // copy of the schemas: an object of @peculiar/x509's (AlgorithmProvider) may come from another copy of them (a
    // nested install), whose schemas this copy's encoder does not know.
    const signatureAlgorithm = signatureAlgorithmOf(algorithm);
    const infoDer = AsnConvert.serialize(info);
    const signed = await crypto.subtle.sign(algorithm, keys.privateKey, infoDer);
    // ECDSA's r || s becomes an ECDSA-Sig-Value; an RSA signature goes in as it is (the generator's formatters).
    const signature =
      new AsnEcSignatureFormatter().toAsnSignature(algorithm, signed) ??
      new AsnDefaultSignatureFormatter().toAsnSignature(algorithm, signed);
    if (!signature) throw new Error('the signature has no ASN.1 form');
    const request = new CertificationRequest({ signatureAlgorithm, signature });
    request.certificationRequestInfo = asField<CertificationRequestInfo>(new Encoded(infoDer));
    der = AsnConvert.serialize(request);
  } catch (cause) {
    if (cause instanceof IdentityError) throw cause;
    throw new AthenzError('INVALID_CSR', 'signing the CSR failed (is the private key usable for signing?)', {
      cause,
    });
  }
  // The names of the request info that was encoded and signed (its subject and the SAN entries put in it).
  const field: SubjectField = (type) => name.flatMap((rdn) => rdn[type] ?? []);
  return { pem: toPem(der, 'CERTIFICATE REQUEST'), names: names(field, san) };
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
