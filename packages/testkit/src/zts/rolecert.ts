/**
 * `POST /rolecert` (`ZTSImpl.postRoleCertificateRequestExt`): a role certificate for a member of the role named by
 * the CSR's CN, requested over mTLS with the service certificate.
 * @packageDocumentation
 */
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { issueCertificate } from './ca.js';
import { accessibleRoles, type ClientIdentity, type ZtsContext } from './config.js';
import { type AcceptedRoleCsr, certificateInstanceId, parseRoleCsr, sanValues, validateRoleCsr } from './csr-rules.js';
import type { ZtsReply } from './instance.js';
import { badRequest, forbidden, notFound, ZtsError } from './zts-error.js';

const CALLER = 'postrolecertificaterequestext';
const MINUTE_MS = 60_000;

/** `POST /rolecert`. @internal */
export async function roleCertificate(
  ctx: ZtsContext,
  body: unknown,
  client: ClientIdentity | undefined,
): Promise<ZtsReply> {
  // authentication runs before the handler (mTLS only: the RDL `authenticate` of /rolecert)
  if (!client) throw new ZtsError(401, 'Invalid credentials');
  // ZTSImpl.validate(req, TYPE_ROLE_CERTIFICATE_REQUEST): the RDL schema
  if (typeof body !== 'object' || body === null || typeof (body as { csr?: unknown }).csr !== 'string') {
    throw badRequest('Invalid RoleCertificateRequest error: missing required field: csr');
  }
  const req = body as { csr: string; expiryTime?: unknown; proxyForPrincipal?: unknown };
  if (req.expiryTime !== undefined && req.expiryTime !== null && !Number.isInteger(req.expiryTime)) {
    throw badRequest('Invalid RoleCertificateRequest error: bad type: expiryTime');
  }
  let parsed: AcceptedRoleCsr;
  try {
    // the X509RoleCertRequest constructor
    parsed = parseRoleCsr(req.csr);
  } catch (e) {
    throw badRequest(`Unable to parse PKCS10 CSR: ${e instanceof ZtsError ? e.message : String(e)}`);
  }
  // ZTSImpl.processRoleCertificateRequest, in its order: validatePrincipalNotRoleIdentity
  if (client.principal.includes(':role.')) throw forbidden('Role Identity not authorized for request');
  // ...isAuthorizedProxyUser (the fake authorises no proxy user)
  if (typeof req.proxyForPrincipal === 'string' && req.proxyForPrincipal !== '') {
    throw forbidden(`Principal: ${client.principal} not authorized for proxy role certificate request`);
  }
  const roleDomain = parsed.roleDomain.toLowerCase();
  const role = parsed.role.toLowerCase();
  // ...dataStore.getDataCache
  const d = ctx.domains.get(roleDomain);
  if (!d) throw notFound(`No such domain: ${roleDomain}`);
  // ...dataStore.getAccessibleRoles, refused with tokenErrorMessage
  if (accessibleRoles(d, client.principal, [role]).length === 0) {
    throw forbidden(
      `${CALLER}: principal ${client.principal} is not included in the requested role(s) in domain ${roleDomain}`,
    );
  }
  const certOU = client.certificate.subjectName.getField('OU')[0];
  const certHostname = sanValues(client.certificate.extensions)
    .url.find((u) => u.startsWith('athenz://hostname/'))
    ?.slice('athenz://hostname/'.length);
  const verdict = validateRoleCsr(parsed, {
    principal: client.principal,
    emailSuffixes: ctx.emailSuffixes,
    ...(ctx.opts.validSubjectO ? { validSubjectO: ctx.opts.validSubjectO } : {}),
    ...(ctx.opts.validSubjectOU ? { validSubjectOU: ctx.opts.validSubjectOU } : {}),
    verifySubjectOU: ctx.opts.verifySubjectOU ?? true,
    ...(certOU !== undefined ? { certSubjectOU: certOU } : {}),
    ...(certHostname !== undefined ? { certUriHostname: certHostname } : {}),
    certInstanceId: certificateInstanceId(client.certificate) ?? '',
    ...(ctx.opts.spiffeTrustDomain ? { spiffeTrustDomain: ctx.opts.spiffeTrustDomain } : {}),
  });
  if (!verdict.ok) throw new ZtsError(verdict.status, verdict.message);
  // proof of possession: stricter than ZTS, which does not verify the CSR's signature (see verifyCsrSignature)
  if (ctx.opts.verifyCsrSignature !== false && !(await parsed.csr.request.verify().catch(() => false))) {
    throw badRequest('Unable to parse PKCS10 CSR: CSR signature verification failed');
  }
  // ZTSImpl.determineRoleCertTimeout (the signer's default when nothing is asked)
  const cap = ctx.opts.roleCertLifetimeMinutes ?? 10080;
  const asked = typeof req.expiryTime === 'number' && req.expiryTime > 0 ? req.expiryTime : cap;
  const now = ctx.now();
  const san = parsed.csr.request.extensions.find(
    (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
  );
  const cert = await issueCertificate(ctx.ca, {
    subject: parsed.csr.request.subjectName,
    publicKey: parsed.csr.request.publicKey,
    notBefore: new Date(now),
    notAfter: new Date(now + Math.min(asked, cap) * MINUTE_MS),
    ...(san ? { subjectAltName: san } : {}),
    serverAuth: false,
  });
  return { status: 200, body: { x509Certificate: cert.toString('pem') } };
}
