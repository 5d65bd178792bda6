/**
 * Reads the names Athenz cares about (subject CN / O / OU, SAN DNS / URI / email, the SPIFFE and instance-id URIs)
 * out of a CSR or a certificate, with @peculiar/x509.
 * @packageDocumentation
 */
import 'reflect-metadata';
import { IdentityError } from '@ecs-identity/core';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  type GeneralNames,
  type Name,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
  X509Certificate,
} from '@peculiar/x509';
import { AthenzError } from './errors.js';

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

const SAN_OID = '2.5.29.17';

/**
 * The certificates this package parses. `getExtension` on a plain X509Certificate turns every extension into an
 * object, serializing and parsing each one twice, to find one; reading the names of a freshly issued certificate
 * (on the critical path of a cold start) needs only the SAN, found here without touching the others.
 */
class IssuedCertificate extends X509Certificate {
  subjectAltNameExtension(): SubjectAlternativeNameExtension | undefined {
    const ext = this.asn.tbsCertificate.extensions?.find((e) => e.extnID === SAN_OID);
    return ext === undefined ? undefined : new SubjectAlternativeNameExtension(AsnConvert.serialize(ext));
  }
}

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
 * Parses a PEM CSR and returns its names.
 * @throws IdentityError `INVALID_CSR` when it is not a PKCS#10 request
 * @public
 */
export function describeCsr(csr: string | Pkcs10CertificateRequest): X509Names {
  let req: Pkcs10CertificateRequest;
  try {
    req = typeof csr === 'string' ? new Pkcs10CertificateRequest(csr) : csr;
  } catch (cause) {
    throw new AthenzError('INVALID_CSR', 'the CSR is not a valid PEM PKCS#10 certificate request', { cause });
  }
  return decoded('INVALID_CSR', 'the CSR', () =>
    names(req.subjectName, (req.getExtension(SAN_OID) as SubjectAlternativeNameExtension | null)?.names),
  );
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

/**
 * Parses a PEM certificate (the first one, when given a chain) and returns its names.
 * @throws IdentityError `INVALID_RESPONSE` when it is not an X.509 certificate
 * @public
 */
export function describeCertificate(cert: string | X509Certificate): X509Names {
  const parsed = parseCertificate(cert);
  return decoded('INVALID_RESPONSE', 'the certificate', () => {
    const san =
      parsed instanceof IssuedCertificate
        ? parsed.subjectAltNameExtension()
        : parsed.getExtension(SubjectAlternativeNameExtension);
    return names(parsed.subjectName, san?.names);
  });
}

/**
 * Parses a PEM certificate (the first block of a chain).
 * @throws IdentityError `INVALID_RESPONSE`
 * @public
 */
export function parseCertificate(cert: string | X509Certificate): X509Certificate {
  if (typeof cert !== 'string') return cert;
  try {
    return new IssuedCertificate(cert);
  } catch (cause) {
    throw new AthenzError('INVALID_RESPONSE', 'the certificate is not a valid PEM X.509 certificate', { cause });
  }
}
