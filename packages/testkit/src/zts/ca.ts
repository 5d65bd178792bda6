/**
 * The fake ZTS's certificate authority: a P-256 (default, fast) or RSA CA generated at start, the server's own TLS
 * certificate, and the issuing of service and role certificates from CSRs the way ZTS's cert signers do (subject and
 * SANs copied from the CSR, random serial, digitalSignature + keyEncipherment, clientAuth [+ serverAuth]).
 * @packageDocumentation
 */
import './reflect-metadata.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The CA's key type. @public */
export type CaKeyAlgorithm = 'P-256' | 'RSA';

/** A CA able to issue certificates. @internal */
export interface ZtsCa {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

function keyParams(alg: CaKeyAlgorithm): {
  gen: EcKeyGenParams | RsaHashedKeyGenParams;
  sign: Algorithm | EcdsaParams;
} {
  if (alg === 'RSA') {
    return {
      gen: {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      sign: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
}

/** A random positive serial (16 bytes, top bit cleared so DER keeps it positive without padding). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Generates the CA. Its validity spans the real time and the injected clock's time, so certificates issued at a
 * test's fake time still chain in `openssl verify` and in Node's TLS.
 * @internal
 */
export async function createCa(alg: CaKeyAlgorithm, nowMs: number, commonName: string): Promise<ZtsCa> {
  const { gen, sign } = keyParams(alg);
  const keys = (await webcrypto.subtle.generateKey(gen, true, ['sign', 'verify'])) as CryptoKeyPair;
  const start = Math.min(nowMs, Date.now()) - DAY_MS;
  const end = Math.max(nowMs, Date.now()) + 3650 * DAY_MS;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: `CN=${commonName}, O=ecs-identity testkit`,
      notBefore: new Date(start),
      notAfter: new Date(end),
      keys,
      signingAlgorithm: sign,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto as Crypto),
      ],
    },
    webcrypto as Crypto,
  );
  return { certificate, certificatePem: certificate.toString('pem'), keys, signingAlgorithm: sign };
}

/** What {@link issueCertificate} puts in a certificate. @internal */
export interface IssueParams {
  subject: x509.Name | string;
  publicKey: x509.PublicKey | webcrypto.CryptoKey;
  notBefore: Date;
  notAfter: Date;
  /** SubjectAlternativeName extension copied from the request (omitted when the request had none). */
  subjectAltName?: x509.SubjectAlternativeNameExtension;
  serverAuth: boolean;
}

/** Issues a leaf certificate signed by the CA. @internal */
export async function issueCertificate(ca: ZtsCa, params: IssueParams): Promise<x509.X509Certificate> {
  const usages = [x509.ExtendedKeyUsage.clientAuth];
  if (params.serverAuth) usages.unshift(x509.ExtendedKeyUsage.serverAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false, webcrypto as Crypto),
  ];
  if (params.subjectAltName) {
    extensions.push(new x509.SubjectAlternativeNameExtension(params.subjectAltName.names.toJSON(), false));
  }
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: params.subject,
      issuer: ca.certificate.subjectName,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey: params.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: ca.signingAlgorithm,
      extensions,
    },
    webcrypto as Crypto,
  );
}

/** The HTTPS server's own key and certificate (loopback names), issued by the CA with the real time. @internal */
export async function issueServerCertificate(
  ca: ZtsCa,
): Promise<{ certPem: string; keyPem: string; certificate: x509.X509Certificate }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const certificate = await issueCertificate(ca, {
    subject: 'CN=localhost, O=ecs-identity testkit ZTS',
    publicKey: keys.publicKey,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    subjectAltName: new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]),
    serverAuth: true,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certPem: certificate.toString('pem'), keyPem, certificate };
}
