/**
 * `POST /instance` (register), `POST /instance/{provider}/{domain}/{service}/{instanceId}` (refresh) and `DELETE` of
 * the same path, in the order of checks of `ZTSImpl.postInstanceRegisterInformation`,
 * `postInstanceRefreshInformation` and `deleteInstanceIdentity`.
 * @packageDocumentation
 */
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { confirmAwsInstance } from './attestation.js';
import { issueCertificate } from './ca.js';
import type { ClientIdentity, NormalizedDomain, ZtsContext } from './config.js';
import {
  certificateInstanceId,
  type ParsedCsr,
  parseCsr,
  providerSanDnsValid,
  subjectOrgUnitValid,
  validateServiceCsr,
} from './csr-rules.js';
import { isDomainName, isPathElement, isSimpleName } from './names.js';
import { badRequest, forbidden, notFound, ZtsError } from './zts-error.js';

const MINUTE_MS = 60_000;

/** What a handler answers. @internal */
export interface ZtsReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The InstanceIdentity ZTS returns (without certificates for an SSH-only refresh, as a ZTS without an SSH signer). @public */
export interface InstanceIdentity {
  provider: string;
  name: string;
  instanceId: string;
  x509Certificate?: string;
  x509CertificateSigner?: string;
}

function str(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  return typeof v === 'string' ? v : undefined;
}

function invalidType(type: string, why: string): ZtsError {
  return badRequest(`Invalid ${type} error: ${why}`);
}

// Optional fields typed in both request structs (core/zts RDL `InstanceRegisterInformation`,
// `InstanceRefreshInformation`): `DomainName hostname`, `SimpleName namespace`, `Array<DomainName> hostCnames`.
const OPTIONAL_NAMES: Record<string, (v: string) => boolean> = { hostname: isDomainName, namespace: isSimpleName };

/**
 * `ZTSImpl.validate(info, TYPE_INSTANCE_REGISTER_INFO / TYPE_INSTANCE_REFRESH_INFO)` (the RDL schema validator):
 * required strings, the name patterns (including the optional `hostname`, `namespace` and `hostCnames`), string
 * `csr` / `ssh` / `attestationData` / `cloud`, an object `sshCertRequest`, Int32 `expiryTime`.
 */
function validateStruct(
  type: string,
  body: unknown,
  names: Record<string, (v: string) => boolean>,
  required: string[],
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(`Missing or malformed ${type}`);
  const obj = body as Record<string, unknown>;
  for (const field of required) {
    if (typeof obj[field] !== 'string') throw invalidType(type, `missing required field: ${field}`);
  }
  for (const field of ['csr', 'ssh', 'attestationData', 'hostname', 'namespace', 'cloud']) {
    if (obj[field] !== undefined && obj[field] !== null && typeof obj[field] !== 'string') {
      throw invalidType(type, `bad type: ${field}`);
    }
  }
  for (const [field, check] of Object.entries({ ...names, ...OPTIONAL_NAMES })) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !check(v)) throw invalidType(type, `pattern mismatch: ${field}`);
  }
  const sshRequest = obj.sshCertRequest;
  if (
    sshRequest !== undefined &&
    sshRequest !== null &&
    (typeof sshRequest !== 'object' || Array.isArray(sshRequest))
  ) {
    throw invalidType(type, 'bad type: sshCertRequest');
  }
  const expiry = obj.expiryTime;
  if (expiry !== undefined && expiry !== null && !(Number.isInteger(expiry) && Math.abs(expiry as number) < 2 ** 31)) {
    throw invalidType(type, 'bad type: expiryTime');
  }
  const cnames = obj.hostCnames;
  if (cnames !== undefined && cnames !== null) {
    if (!(Array.isArray(cnames) && cnames.every((c) => typeof c === 'string'))) {
      throw invalidType(type, 'bad type: hostCnames');
    }
    if (!cnames.every(isDomainName)) throw invalidType(type, 'pattern mismatch: hostCnames');
  }
  return obj;
}

/** `ZTSImpl.postInstanceRegisterInformation` / `postInstanceRefreshInformation`: `dataStore.getDomainData` is null. */
function domainOrThrow(ctx: ZtsContext, domain: string): NormalizedDomain {
  const d = ctx.domains.get(domain);
  if (!d) throw notFound(`Domain not found: ${domain}`);
  return d;
}

/** `ZTSImpl.validateInstanceServiceIdentity` (enforced, as deployments run it). */
function serviceRegistered(d: NormalizedDomain, service: string): void {
  if (!d.services.has(service)) throw badRequest('Service not registered in domain');
}

/** `InstanceCertManager.authorizeLaunch`: the provider may launch in Athenz, and the service authorised it. */
function authorizeLaunch(ctx: ZtsContext, d: NormalizedDomain, provider: string, service: string): void {
  if (!ctx.providers.has(provider)) {
    throw forbidden(`provider '${provider}' not authorized to launch instances in Athenz`);
  }
  if (!d.services.get(service)?.has(provider)) {
    throw forbidden(`provider '${provider}' not authorized to launch ${d.name}.${service} instances`);
  }
}

/**
 * `ZTSImpl.getServiceCertRequestExpiryTime` with the AWS provider's 7-day cap (`InstanceAWSProvider`'s
 * `cert_validity_sts_only`: no instance document on ECS).
 */
function expiryMinutes(ctx: ZtsContext, requested: unknown): number {
  const cap = ctx.opts.certLifetimeMinutes ?? 10080;
  if (typeof requested !== 'number' || requested <= 0) return cap;
  return Math.min(requested, cap);
}

/**
 * Proof of possession. Stricter than ZTS, which never verifies the CSR's own signature (`X509CertRequest` only parses
 * it); `verifyCsrSignature: false` turns it off.
 */
async function verifyCsrSignature(ctx: ZtsContext, csr: ParsedCsr, prefix: string): Promise<void> {
  if (ctx.opts.verifyCsrSignature === false) return;
  let ok = false;
  try {
    ok = await csr.request.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw badRequest(`${prefix}CSR signature verification failed`);
}

/** `InstanceCertManager.generateIdentity` (the cert signer): the CSR's subject and SANs, serverAuth + clientAuth. */
async function issueServiceCert(ctx: ZtsContext, csr: ParsedCsr, minutes: number): Promise<x509.X509Certificate> {
  const now = ctx.now();
  const san = csr.request.extensions.find(
    (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
  );
  return issueCertificate(ctx.ca, {
    subject: csr.request.subjectName,
    publicKey: csr.request.publicKey,
    notBefore: new Date(now),
    notAfter: new Date(now + minutes * MINUTE_MS),
    ...(san ? { subjectAltName: san } : {}),
    serverAuth: true,
  });
}

/** The provider's `confirmInstance` (register) / `refreshInstance` (refresh): 403 `unable to verify attestation data: ...`. */
async function attest(
  ctx: ZtsContext,
  d: NormalizedDomain,
  service: string,
  provider: string,
  attestation: string | undefined,
  csr: ParsedCsr,
  providerDnsNames: string[],
  refresh: boolean,
  hostname: string | undefined,
): Promise<void> {
  const suffixes = ctx.providers.get(provider)?.dnsSuffixes ?? [];
  const error = await confirmAwsInstance(attestation, {
    domain: d.name,
    service,
    awsAccount: d.awsAccount,
    partitions: ctx.partitions,
    sanDnsValid: providerSanDnsValid(providerDnsNames, csr.uris, d.name, service, suffixes, hostname),
    refresh,
    callerIdentity: ctx.callerIdentity,
    signingDate: new Date(ctx.now()),
  });
  if (error !== undefined) throw forbidden(`unable to verify attestation data: ${error}`);
}

/** `X509CertRequest.validateSubjectOUField`, run by ZTSImpl after the provider answered (`verify_cert_subject_ou`). */
function checkOrgUnit(ctx: ZtsContext, csr: ParsedCsr, provider: string): void {
  if ((ctx.opts.verifySubjectOU ?? true) && !subjectOrgUnitValid(csr, provider, undefined, ctx.opts.validSubjectOU)) {
    throw badRequest('CSR Subject OrgUnit validation failed');
  }
}

function identity(ctx: ZtsContext, provider: string, name: string, instanceId: string, cert: x509.X509Certificate) {
  const body: InstanceIdentity = {
    provider,
    name,
    instanceId,
    x509Certificate: cert.toString('pem'),
    x509CertificateSigner: ctx.ca.certificatePem,
  };
  return body;
}

/** `POST /instance` (`ZTSImpl.postInstanceRegisterInformation`, in its order of checks). @internal */
export async function register(ctx: ZtsContext, body: unknown): Promise<ZtsReply> {
  const info = validateStruct(
    'InstanceRegisterInformation',
    body,
    { provider: isDomainName, domain: isDomainName, service: isSimpleName },
    ['provider', 'domain', 'service', 'attestationData', 'csr'],
  );
  const provider = (str(info, 'provider') ?? '').toLowerCase();
  const domain = (str(info, 'domain') ?? '').toLowerCase();
  const service = (str(info, 'service') ?? '').toLowerCase();
  const d = domainOrThrow(ctx, domain);
  serviceRegistered(d, service);
  authorizeLaunch(ctx, d, provider, service);
  const verdict = validateServiceCsr(str(info, 'csr') ?? '', {
    domain,
    service,
    provider,
    providerDnsSuffixes: ctx.providers.get(provider)?.dnsSuffixes ?? [],
    ...serviceCsrConfig(ctx, d, provider, info),
  });
  if (!verdict.ok) throw new ZtsError(verdict.status, verdict.message);
  const { csr, instanceId, providerDnsNames } = verdict.value;
  await verifyCsrSignature(ctx, csr, 'unable to parse PKCS10 CSR: ');
  await attest(
    ctx,
    d,
    service,
    provider,
    str(info, 'attestationData'),
    csr,
    providerDnsNames,
    false,
    str(info, 'hostname'),
  );
  checkOrgUnit(ctx, csr, provider);
  const cert = await issueServiceCert(ctx, csr, expiryMinutes(ctx, info.expiryTime));
  // ZTSImpl.insertX509CertRecord
  ctx.records.insert({
    provider,
    instanceId,
    service: `${domain}.${service}`,
    currentSerial: cert.serialNumber.toLowerCase(),
    currentTime: ctx.now(),
    expiresAt: cert.notAfter.getTime(),
  });
  return {
    status: 201,
    body: identity(ctx, provider, `${domain}.${service}`, instanceId, cert),
    headers: { Location: `/zts/v1/instance/${provider}/${domain}/${service}/${instanceId}` },
  };
}

/** What `X509ServiceCertRequest.validate` is given: the domain's cert DNS domain, the request's hostname, CNAMEs and
 * namespace, the provider's allowed hostname suffixes (`DataCache`), the server's O / OU settings. */
function serviceCsrConfig(ctx: ZtsContext, d: NormalizedDomain, provider: string, info: Record<string, unknown>) {
  const hostname = str(info, 'hostname');
  const namespace = str(info, 'namespace');
  const cnames = info.hostCnames as string[] | undefined | null;
  return {
    ...(d.certDnsDomain ? { serviceDnsSuffix: d.certDnsDomain } : {}),
    ...(hostname ? { hostname } : {}),
    ...(cnames ? { hostCnames: cnames } : {}),
    ...(namespace ? { namespace } : {}),
    hostnameSuffixes: ctx.providers.get(provider)?.hostnameSuffixes ?? [],
    ...(ctx.opts.validSubjectO ? { validSubjectO: ctx.opts.validSubjectO } : {}),
    ...(ctx.opts.validSubjectOU ? { validSubjectOU: ctx.opts.validSubjectOU } : {}),
    // ZTS checks the OU only after the provider confirmed the instance (see checkOrgUnit)
    verifySubjectOU: false,
    ...(ctx.opts.spiffeTrustDomain ? { spiffeTrustDomain: ctx.opts.spiffeTrustDomain } : {}),
  };
}

/** Path parameters of the instance endpoints, validated and lower-cased. @internal */
export interface InstancePath {
  provider: string;
  domain: string;
  service: string;
  instanceId: string;
}

/**
 * Validates `{provider}/{domain}/{service}/{instanceId}` (ServiceName, DomainName, SimpleName, PathElement), as
 * `ZTSImpl.validate(..., TYPE_SERVICE_NAME / TYPE_DOMAIN_NAME / TYPE_SIMPLE_NAME / TYPE_PATH_ELEMENT)` does.
 * @internal
 */
export function instancePath(segments: string[]): InstancePath {
  const [provider = '', domain = '', service = '', instanceId = ''] = segments;
  if (!isDomainName(provider)) throw invalidType('ServiceName', 'pattern mismatch: provider');
  if (!isDomainName(domain)) throw invalidType('DomainName', 'pattern mismatch: domain');
  if (!isSimpleName(service)) throw invalidType('SimpleName', 'pattern mismatch: service');
  if (!isPathElement(instanceId)) throw invalidType('PathElement', 'pattern mismatch: instanceId');
  return {
    provider: provider.toLowerCase(),
    domain: domain.toLowerCase(),
    service: service.toLowerCase(),
    instanceId,
  };
}

/** `POST /instance/{provider}/{domain}/{service}/{instanceId}` over mTLS (`ZTSImpl.postInstanceRefreshInformation`, `processProviderX509RefreshRequest`). @internal */
export async function refresh(
  ctx: ZtsContext,
  path: InstancePath,
  body: unknown,
  client: ClientIdentity | undefined,
): Promise<ZtsReply> {
  // the real server authenticates (mTLS, CertificateAuthority) before the handler runs
  if (!client) throw new ZtsError(401, 'Invalid credentials');
  const info = validateStruct('InstanceRefreshInformation', body, {}, []);
  const { provider, domain, service, instanceId } = path;
  const d = domainOrThrow(ctx, domain);
  serviceRegistered(d, service);
  // `csr` is optional in InstanceRefreshInformation: the request may ask for an SSH certificate only
  // (`convertEmptyStringToNull`: an empty string is no value).
  const csrPem = str(info, 'csr') || undefined;
  const ssh = str(info, 'ssh') || undefined;
  const sshRequest = info.sshCertRequest ?? undefined;
  if (!csrPem && !ssh && sshRequest === undefined) throw badRequest('no csr provided');
  // ZTSImpl.postInstanceRefreshInformation: the client certificate is the service's own
  const principalName = `${domain}.${service}`;
  if (principalName !== client.principal) {
    throw badRequest(`Principal mismatch: ${principalName} vs. ${client.principal}`);
  }
  authorizeLaunch(ctx, d, provider, service);
  if (!csrPem) {
    // ZTSImpl.processProviderSSHRefreshRequest: with no SSH signer configured (the fake has none),
    // InstanceCertManager.generateSSHIdentity does nothing and succeeds: an identity without certificates.
    const body: InstanceIdentity = { provider, name: principalName, instanceId };
    return { status: 200, body };
  }
  let parsed: ParsedCsr;
  try {
    parsed = parseCsr(csrPem);
  } catch {
    throw badRequest('unable to parse PKCS10 CSR');
  }
  const verdict = validateServiceCsr(parsed, {
    domain,
    service,
    provider,
    providerDnsSuffixes: ctx.providers.get(provider)?.dnsSuffixes ?? [],
    ...serviceCsrConfig(ctx, d, provider, info),
    refreshInstanceId: instanceId,
    currentCertInstanceId: certificateInstanceId(client.certificate) ?? '',
  });
  if (!verdict.ok) throw new ZtsError(verdict.status, verdict.message);
  await verifyCsrSignature(ctx, parsed, 'unable to parse PKCS10 CSR: ');
  await attest(
    ctx,
    d,
    service,
    provider,
    str(info, 'attestationData'),
    parsed,
    verdict.value.providerDnsNames,
    true,
    str(info, 'hostname'),
  );
  checkOrgUnit(ctx, parsed, provider);
  // ZTSImpl.getValidatedX509CertRecord: the record, then the serial (current / previous, else revoke)
  const record = ctx.records.get(provider, instanceId, principalName);
  if (!record) throw forbidden('Unable to find certificate record');
  if (ctx.records.present(record, client.certificate.serialNumber) === 'revoked') {
    throw forbidden('Certificate revoked');
  }
  const cert = await issueServiceCert(ctx, parsed, expiryMinutes(ctx, info.expiryTime));
  ctx.records.update(record, cert.serialNumber, ctx.now(), cert.notAfter.getTime());
  return { status: 200, body: identity(ctx, provider, principalName, instanceId, cert) };
}

/** `DELETE /instance/{provider}/{domain}/{service}/{instanceId}` (`ZTSImpl.deleteInstanceIdentity`): the provider itself or an authorised principal. @internal */
export function deleteInstance(ctx: ZtsContext, path: InstancePath, client: ClientIdentity | undefined): ZtsReply {
  if (!client) throw new ZtsError(401, 'Invalid credentials');
  // ZTSImpl.validatePrincipalNotRoleIdentity
  if (client.principal.includes(':role.')) throw forbidden('Role Identity not authorized for request');
  // the provider itself, or authorizer.access("delete", "<domain>:instance.<id>")
  const d = ctx.domains.get(path.domain);
  const allowed = client.principal === path.provider || (d?.instanceDeleters.includes(client.principal) ?? false);
  if (!allowed) throw forbidden('principal not authorized to delete the requested instance record');
  ctx.records.delete(path.provider, path.instanceId, `${path.domain}.${path.service}`);
  return { status: 204 };
}
