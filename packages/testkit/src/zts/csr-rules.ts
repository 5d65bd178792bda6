/**
 * The CSR rules of the real ZTS (`X509CertRequest`, `X509ServiceCertRequest`, `X509RoleCertRequest` and the AWS
 * provider's `InstanceUtils.validateCertRequestSanDnsNames`), as pure functions, so tests can run a CSR through them
 * without a server. Each verdict carries the status and message the real server answers with.
 *
 * Written from the Athenz sources' behaviour, independently of this SDK's CSR builders: a fake that only accepts what
 * our own client sends would prove nothing.
 * @packageDocumentation
 */
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { ZtsError } from './zts-error.js';

const SPIFFE_PREFIX = 'spiffe://';
const INSTANCE_ID_URI = 'athenz://instanceid/';
const HOSTNAME_URI = 'athenz://hostname/';
const PRINCIPAL_URI = 'athenz://principal/';
const PROXY_USER_URI = 'athenz://proxyuser/';
const INSTANCE_ID_DNS = '.instanceid.athenz.';
const RESTRICTED_SUFFIX = ':restricted';
const ROLE_SEP = ':role.';
/** The SPIFFE trust domain ZTS uses when none is configured (`athenz.zts.spiffe_trust_domain`). @public */
export const DEFAULT_SPIFFE_TRUST_DOMAIN = 'athenz.io';

/** What the fake reads out of a CSR (the fields the ZTS rules look at). @public */
export interface ParsedCsr {
  /** The parsed request (for its public key and signature). */
  readonly request: x509.Pkcs10CertificateRequest;
  /** The one CN, or undefined when the subject has none. */
  readonly cn: string | undefined;
  readonly o: readonly string[];
  readonly ou: readonly string[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly emails: readonly string[];
  readonly ips: readonly string[];
  /** The single `spiffe://` URI, if any. */
  readonly spiffeUri: string | undefined;
  /** From `athenz://instanceid/<provider>/<id>`, else from `<id>.instanceid.athenz.<suffix>`. */
  readonly instanceId: string | undefined;
  /** From `athenz://hostname/<host>`. */
  readonly uriHostname: string | undefined;
  /** From `athenz://principal/<principal>` (role CSRs). */
  readonly principalUri: string | undefined;
}

/** A rule's answer: accepted, or the status and message the real ZTS sends. @public */
export type CsrVerdict<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

function fail<T>(status: number, message: string): CsrVerdict<T> {
  return { ok: false, status, message };
}

function itemFromUris(uris: readonly string[], prefix: string): string | undefined {
  for (const uri of uris) {
    if (uri.toLowerCase().startsWith(prefix)) return uri.slice(prefix.length);
  }
  return undefined;
}

function instanceIdFromUris(uris: readonly string[]): string | undefined {
  for (const uri of uris) {
    if (!uri.startsWith(INSTANCE_ID_URI)) continue;
    // athenz://instanceid/<provider>/<id>: the provider segment is skipped, the rest is the id (may be empty)
    const idx = uri.indexOf('/', INSTANCE_ID_URI.length);
    if (idx !== -1) return uri.slice(idx + 1);
  }
  return undefined;
}

function instanceIdFromDnsNames(dnsNames: readonly string[]): string | undefined {
  for (const name of dnsNames) {
    const idx = name.indexOf(INSTANCE_ID_DNS);
    if (idx !== -1) return name.slice(0, idx);
  }
  return undefined;
}

/** The SAN values of a CSR or certificate, by type. @internal */
export function sanValues(extensions: readonly x509.Extension[]): Record<'dns' | 'url' | 'email' | 'ip', string[]> {
  const out = { dns: [] as string[], url: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const ext of extensions) {
    if (!(ext instanceof x509.SubjectAlternativeNameExtension)) continue;
    for (const name of ext.names.items) {
      if (name.type === 'dns' || name.type === 'url' || name.type === 'email' || name.type === 'ip') {
        out[name.type].push(name.value);
      }
    }
  }
  return out;
}

/** The instance id a ZTS-issued certificate carries (URI form first, then the DNS form). @public */
export function certificateInstanceId(cert: x509.X509Certificate): string | undefined {
  const san = sanValues(cert.extensions);
  return instanceIdFromUris(san.url) ?? instanceIdFromDnsNames(san.dns);
}

/**
 * Parses a PEM CSR the way the ZTS `X509CertRequest` constructor does. Throws a {@link ZtsError} (400) with the
 * constructor's text (`Invalid csr provided`, `Unable to extract CN from CSR:Subject contains multiple values`,
 * `Invalid SPIFFE URI present in CSR`); callers prefix it as the endpoint does.
 * @public
 */
export function parseCsr(pem: string): ParsedCsr {
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new ZtsError(400, 'Invalid csr provided');
  }
  const cns = request.subjectName.getField('CN');
  if (cns.length > 1) throw new ZtsError(400, 'Unable to extract CN from CSR:Subject contains multiple values');
  const san = sanValues(request.extensions);
  const spiffe = san.url.filter((u) => u.toLowerCase().startsWith(SPIFFE_PREFIX));
  if (spiffe.length > 1) throw new ZtsError(400, 'Invalid SPIFFE URI present in CSR');
  return {
    request,
    cn: cns[0],
    o: request.subjectName.getField('O'),
    ou: request.subjectName.getField('OU'),
    dnsNames: san.dns,
    uris: san.url,
    emails: san.email,
    ips: san.ip,
    spiffeUri: spiffe[0],
    instanceId: instanceIdFromUris(san.url) ?? instanceIdFromDnsNames(san.dns),
    uriHostname: itemFromUris(san.url, HOSTNAME_URI),
    principalUri: itemFromUris(san.url, PRINCIPAL_URI),
  };
}

function withDot(suffix: string): string {
  return suffix.startsWith('.') ? suffix : `.${suffix}`;
}

/** `validateSubjectOField`: one O, in the allowed set when one is configured. (ZTS only extracts O when a set is
 * configured; the fake rejects several O values always, since no real deployment accepts them.) */
function subjectOValid(csr: ParsedCsr, validValues: readonly string[] | undefined): boolean {
  if (csr.o.length > 1) return false;
  const value = csr.o[0];
  if (value === undefined || !validValues || validValues.length === 0) return true;
  return validValues.includes(value);
}

/** `validateSubjectOUField`: one OU; `:restricted` stripped; equal to the provider's OU, the provider, or allowed. */
function subjectOUValid(
  csr: ParsedCsr,
  provider: string | undefined,
  certSubjectOU: string | undefined,
  validValues: readonly string[] | undefined,
): boolean {
  if (csr.ou.length > 1) return false;
  let value = csr.ou[0];
  if (value === undefined) return true;
  if (value.endsWith(RESTRICTED_SUFFIX)) value = value.slice(0, -RESTRICTED_SUFFIX.length);
  const lower = value.toLowerCase();
  if (certSubjectOU !== undefined && lower === certSubjectOU.toLowerCase()) return true;
  if (provider !== undefined && lower === provider.toLowerCase()) return true;
  return validValues?.includes(value) ?? false;
}

/** What a service CSR is checked against (the register / refresh request and the server's configuration). @public */
export interface ServiceCsrExpectations {
  domain: string;
  service: string;
  provider: string;
  /** The provider's DNS suffixes (e.g. `athenz.cloud`): SAN DNS names must end with one of them (or the service's). */
  providerDnsSuffixes: readonly string[];
  /** The domain's own cert DNS domain (ZMS `certDnsDomain`), also accepted as a suffix. */
  serviceDnsSuffix?: string;
  /**
   * Suffixes the provider may request instance hostnames (and CNAMEs) under (`DataCache`'s allowed hostname suffixes).
   * Default none: any `hostname` is refused, as ZTS does when the provider has none (`X509CertRequest.isHostnameAllowed`).
   */
  hostnameSuffixes?: readonly string[];
  /** `hostname` from the request. */
  hostname?: string;
  /** `hostCnames` from the request (the fake has no hostname resolver, so, like ZTS without one, they fail). */
  hostCnames?: readonly string[];
  /** Allowed subject O values (`athenz.zts.cert_allowed_o_values`); absent = any single O. */
  validSubjectO?: readonly string[];
  /** Allowed subject OU values besides the provider name. */
  validSubjectOU?: readonly string[];
  /** Whether the OU is checked (`athenz.zts.verify_cert_subject_ou`). Default true. */
  verifySubjectOU?: boolean;
  /** The request's `namespace` for the SPIFFE trust-domain form. Default `default`. */
  namespace?: string;
  /** Default `athenz.io` (ZTS's default trust domain). */
  spiffeTrustDomain?: string;
  /** Refresh only: the instance id in the URL; the CSR's must equal it and the current certificate's. */
  refreshInstanceId?: string;
  /** Refresh only: the instance id of the certificate the client authenticated with. */
  currentCertInstanceId?: string;
}

/** A service CSR that passed: the parsed CSR and the DNS names the provider itself must vouch for. @public */
export interface AcceptedServiceCsr {
  csr: ParsedCsr;
  instanceId: string;
  providerDnsNames: string[];
}

/** `X509CertRequest.isHostnameAllowed`: under one of the allowed suffixes (`DataCache` keeps them with a leading dot). */
function hostnameAllowed(name: string, suffixes: readonly string[]): boolean {
  return suffixes.some((s) => name.endsWith(withDot(s)));
}

/**
 * `X509CertRequest.validateDnsNames` (with `validateInstanceHostname`, `validateInstanceCnames`, `dnsSuffixCheck`).
 * Like the server, it looks at the hostname and CNAMEs only when the CSR has DNS names. Returns the names the
 * provider must vouch for, or the error text.
 */
function checkDnsNames(csr: ParsedCsr, exp: ServiceCsrExpectations): { names: string[] } | { error: string } {
  const names: string[] = [];
  if (csr.dnsNames.length === 0) return { names };
  const hostnameSuffixes = exp.hostnameSuffixes ?? [];
  if (exp.hostname && !hostnameAllowed(exp.hostname, hostnameSuffixes)) {
    return { error: `Unable to validate Instance hostname: ${exp.hostname}` };
  }
  const cnames = exp.hostCnames ?? [];
  if (cnames.length > 0) {
    if (!exp.hostname) return { error: 'Instance Host CNAME list provided without Hostname' };
    for (const cname of cnames) {
      if (!hostnameAllowed(cname, hostnameSuffixes)) return { error: `invalid cname provided for instance: ${cname}` };
    }
    return { error: 'Instance host name CNAME list provided without a valid hostname resolver' };
  }
  const wildcardPrefix = `*.${exp.service}.${exp.domain.replaceAll('.', '-')}.`;
  for (const name of csr.dnsNames) {
    if (exp.providerDnsSuffixes.some((s) => name.endsWith(withDot(s)))) {
      if (!name.startsWith(wildcardPrefix)) names.push(name);
      continue;
    }
    if (exp.serviceDnsSuffix && name.endsWith(withDot(exp.serviceDnsSuffix))) continue;
    if (exp.hostname && name.toLowerCase() === exp.hostname.toLowerCase()) {
      names.push(name);
      continue;
    }
    return { error: `${name} does not end with provider/service configured suffix or hostname` };
  }
  return { names };
}

/** `X509ServiceCertRequest.validateSpiffeURI`: the basic form, or the trust-domain form with the request's namespace. */
function serviceSpiffeValid(csr: ParsedCsr, exp: ServiceCsrExpectations): boolean {
  if (csr.spiffeUri === undefined) return true;
  const ns = exp.namespace ? exp.namespace : 'default';
  const td = exp.spiffeTrustDomain ?? DEFAULT_SPIFFE_TRUST_DOMAIN;
  const basic = `spiffe://${exp.domain}/sa/${exp.service}`;
  const withTrustDomain = `spiffe://${td}/ns/${ns}/sa/${exp.domain}.${exp.service}`;
  const uri = csr.spiffeUri.toLowerCase();
  return uri === basic.toLowerCase() || uri === withTrustDomain.toLowerCase();
}

/** The service-CSR rules, in the order ZTS applies them. @public */
export type ServiceCsrRule = 'instanceId' | 'cn' | 'uriHostname' | 'dns' | 'o' | 'spiffe' | 'refreshInstanceId' | 'ou';

/** One failed rule, with the status and message the endpoint answers when it is the first failure. @public */
export interface RuleFailure<R extends string> {
  rule: R;
  status: number;
  message: string;
}

/**
 * Every service-CSR rule that fails, in the server's order (instance id present, CN = `<domain>.<service>`, URI
 * hostname, SAN DNS suffixes, subject O, SPIFFE URI, on refresh the instance id equal in CSR, URL and current
 * certificate, subject OU). The server answers the first one; tables of test CSRs can check a single rule.
 * @public
 */
export function serviceCsrFailures(
  csr: ParsedCsr,
  exp: ServiceCsrExpectations,
): { failures: RuleFailure<ServiceCsrRule>[]; providerDnsNames: string[] } {
  const failures: RuleFailure<ServiceCsrRule>[] = [];
  const invalid = (rule: ServiceCsrRule, why: string) =>
    failures.push({ rule, status: 400, message: `CSR validation failed - ${why}` });
  // X509ServiceCertRequest.validate, in its order:
  if (!csr.instanceId) invalid('instanceId', 'InstanceId cannot be empty');
  // X509CertRequest.validateCommonName
  if (csr.cn === undefined || csr.cn.toLowerCase() !== `${exp.domain}.${exp.service}`.toLowerCase()) {
    invalid('cn', 'Unable to validate CSR common name');
  }
  // X509CertRequest.validateUriHostname
  if (csr.uriHostname && csr.uriHostname !== exp.hostname) {
    invalid('uriHostname', `Instance/Uri hostname mismatch: ${exp.hostname ?? 'null'} vs. ${csr.uriHostname}`);
  }
  const dns = checkDnsNames(csr, exp);
  if ('error' in dns) invalid('dns', dns.error);
  if (!subjectOValid(csr, exp.validSubjectO)) invalid('o', 'Unable to validate Subject O Field');
  if (!serviceSpiffeValid(csr, exp)) invalid('spiffe', 'Unable to validate Service SPIFFE URI');
  // ZTSImpl.processProviderX509RefreshRequest: X509CertRequest.validateInstanceId (CSR, URL and current certificate)
  const refresh = exp.refreshInstanceId !== undefined;
  if (refresh && (csr.instanceId !== exp.refreshInstanceId || csr.instanceId !== exp.currentCertInstanceId)) {
    invalid('refreshInstanceId', 'instance id mismatch');
  }
  // ZTSImpl (after the provider answered): X509CertRequest.validateSubjectOUField
  if ((exp.verifySubjectOU ?? true) && !subjectOUValid(csr, exp.provider, undefined, exp.validSubjectOU)) {
    failures.push({ rule: 'ou', status: 400, message: 'CSR Subject OrgUnit validation failed' });
  }
  return { failures, providerDnsNames: 'error' in dns ? [] : dns.names };
}

/**
 * Runs a service CSR through the ZTS register / refresh checks and answers as the endpoint would: parse errors
 * (`unable to parse PKCS10 CSR: ...`), then the first failing rule, in ZTS's order.
 * (ZTS checks the OU after the provider confirmed the instance; the server does the same by asking with
 * `verifySubjectOU: false` and checking the OU later.)
 *
 * @example
 * ```ts
 * const v = validateServiceCsr(pem, { domain: 'sports', service: 'api', provider: 'athenz.aws-ecs.us-west-2',
 *   providerDnsSuffixes: ['athenz.cloud'] });
 * if (!v.ok) console.log(v.status, v.message); // 400 "CSR validation failed - Unable to validate CSR common name"
 * ```
 * @public
 */
export function validateServiceCsr(
  csrPem: string | ParsedCsr,
  exp: ServiceCsrExpectations,
): CsrVerdict<AcceptedServiceCsr> {
  const refresh = exp.refreshInstanceId !== undefined;
  let csr: ParsedCsr;
  try {
    csr = typeof csrPem === 'string' ? parseCsr(csrPem) : csrPem;
  } catch (e) {
    // the refresh endpoint drops the parser's detail; register keeps it
    const detail = e instanceof ZtsError ? e.message : String(e);
    return fail(400, refresh ? 'unable to parse PKCS10 CSR' : `unable to parse PKCS10 CSR: ${detail}`);
  }
  const { failures, providerDnsNames } = serviceCsrFailures(csr, exp);
  const first = failures[0];
  if (first) return fail(first.status, first.message);
  return { ok: true, value: { csr, instanceId: csr.instanceId ?? '', providerDnsNames } };
}

/** The subject OU rule on its own (what ZTS checks after the provider answered). @public */
export function subjectOrgUnitValid(
  csr: ParsedCsr,
  provider: string | undefined,
  certSubjectOU: string | undefined,
  validValues: readonly string[] | undefined,
): boolean {
  return subjectOUValid(csr, provider, certSubjectOU, validValues);
}

/**
 * The AWS provider's SAN DNS check (`InstanceUtils.validateCertRequestSanDnsNames`): at least one DNS name; an instance
 * id (from a `<id>.instanceid.athenz.<suffix>` name with a provider suffix, else the `athenz://instanceid/` URI); and
 * every other name (and the requested hostname, if any) `<...>.<domain-with-dashes>.<suffix>` with the service as one
 * of the leading labels.
 * @public
 */
export function providerSanDnsValid(
  providerDnsNames: readonly string[],
  uris: readonly string[],
  domain: string,
  service: string,
  dnsSuffixes: readonly string[],
  hostname?: string,
): boolean {
  if (dnsSuffixes.length === 0 || providerDnsNames.length === 0) return false;
  let instanceId = '';
  for (const host of providerDnsNames) {
    const idx = host.indexOf(INSTANCE_ID_DNS);
    if (idx === -1) continue;
    if (instanceId !== '') return false;
    if (!dnsSuffixes.includes(host.slice(idx + INSTANCE_ID_DNS.length))) return false;
    instanceId = host.slice(0, idx);
  }
  if (instanceId === '' && !instanceIdFromUris(uris)) return false;
  const hostSuffixes = dnsSuffixes.map((s) => `.${domain.replaceAll('.', '-')}.${s.replace(/^\./, '')}`);
  // <...>.<domain-with-dashes>.<suffix> with the service as one of the leading labels
  const serviceHost = (host: string): boolean => {
    const suffix = hostSuffixes.find((s) => host.endsWith(s));
    return (
      suffix !== undefined &&
      host
        .slice(0, host.length - suffix.length)
        .split('.')
        .includes(service)
    );
  };
  if (hostname && !serviceHost(hostname)) return false;
  let hostSeen = false;
  for (const host of providerDnsNames) {
    if (host.includes(INSTANCE_ID_DNS)) continue;
    if (!serviceHost(host)) return false;
    hostSeen = true;
  }
  return hostSeen;
}

/** What a role CSR is checked against. @public */
export interface RoleCsrExpectations {
  /** The principal asking (`<domain>.<service>` of the client certificate). */
  principal: string;
  /** `proxyForPrincipal`'s proxy user, when the request is a proxy request. */
  proxyUser?: string;
  /** DNS suffixes an old-style principal email may use (`athenz.zts.cert_dns_suffix`). */
  emailSuffixes: readonly string[];
  validSubjectO?: readonly string[];
  validSubjectOU?: readonly string[];
  /** Whether the OU is checked against the client certificate's OU. Default true. */
  verifySubjectOU?: boolean;
  /** The client certificate's OU (a role CSR may repeat it). */
  certSubjectOU?: string;
  /** The client certificate's `athenz://hostname/` value. */
  certUriHostname?: string;
  /** The client certificate's instance id: a role CSR naming one must name this one. */
  certInstanceId?: string;
  spiffeTrustDomain?: string;
}

/** A role CSR that passed: the parsed CSR and the role it names. @public */
export interface AcceptedRoleCsr {
  csr: ParsedCsr;
  roleDomain: string;
  role: string;
}

/**
 * Parses a role CSR as the `X509RoleCertRequest` constructor does (CN must be `<domain>:role.<role>`); throws a
 * {@link ZtsError} with the constructor's text.
 * @public
 */
export function parseRoleCsr(pem: string): AcceptedRoleCsr {
  const csr = parseCsr(pem);
  const cn = csr.cn ?? 'null';
  const idx = cn.indexOf(ROLE_SEP);
  if (idx <= 0 || idx === cn.length - ROLE_SEP.length) {
    throw new ZtsError(400, `Role Certificate CN is not a valid role: ${cn}`);
  }
  return { csr, roleDomain: cn.slice(0, idx), role: cn.slice(idx + ROLE_SEP.length) };
}

/** `X509RoleCertRequest.validateEmail` (old-style principal in the email SAN). */
function emailValid(emails: readonly string[], principal: string, suffixes: readonly string[]): boolean {
  if (emails.length !== 1) return false;
  const email = emails[0] ?? '';
  return email.startsWith(`${principal}@`) && suffixes.some((s) => email.endsWith(s));
}

/** `X509RoleCertRequest.validateRolePrincipal`: the `athenz://principal/` URI names the caller, else the email does. */
function rolePrincipalValid(csr: ParsedCsr, principal: string, suffixes: readonly string[]): boolean {
  if (csr.principalUri) {
    if (csr.principalUri.toLowerCase() !== principal.toLowerCase()) return false;
    if (csr.emails.length === 0) return true;
  }
  return emailValid(csr.emails, principal, suffixes);
}

/** `X509RoleCertRequest.validateProxyUserUri`: exactly one `athenz://proxyuser/` URI, naming the proxy user. */
function proxyUserValid(csr: ParsedCsr, proxyUser: string): boolean {
  const values = csr.uris.filter((u) => u.toLowerCase().startsWith(PROXY_USER_URI));
  return values.length === 1 && values[0] === `${PROXY_USER_URI}${proxyUser}`;
}

/** `X509RoleCertRequest.validateSpiffeURI`: `spiffe://<domain>/ra/<role>` or the trust-domain form. */
function roleSpiffeValid(csr: ParsedCsr, roleDomain: string, role: string, trustDomain: string): boolean {
  if (csr.spiffeUri === undefined) return true;
  const uri = csr.spiffeUri.toLowerCase();
  return (
    uri === `spiffe://${roleDomain}/ra/${role}`.toLowerCase() ||
    uri === `spiffe://${trustDomain}/ns/${roleDomain}/ra/${role}`.toLowerCase()
  );
}

/** The role-CSR rules, in the order ZTS applies them. @public */
export type RoleCsrRule = 'principal' | 'proxyUser' | 'o' | 'spiffe' | 'ou' | 'uriHostname' | 'instanceId';

/** Every role-CSR rule that fails, in the server's order. @public */
export function roleCsrFailures(parsed: AcceptedRoleCsr, exp: RoleCsrExpectations): RoleCsrRule[] {
  const { csr, roleDomain, role } = parsed;
  const failed: RoleCsrRule[] = [];
  if (!rolePrincipalValid(csr, exp.principal, exp.emailSuffixes)) failed.push('principal');
  if (exp.proxyUser !== undefined && !proxyUserValid(csr, exp.proxyUser)) failed.push('proxyUser');
  if (!subjectOValid(csr, exp.validSubjectO)) failed.push('o');
  if (!roleSpiffeValid(csr, roleDomain, role, exp.spiffeTrustDomain ?? DEFAULT_SPIFFE_TRUST_DOMAIN)) {
    failed.push('spiffe');
  }
  if ((exp.verifySubjectOU ?? true) && !subjectOUValid(csr, undefined, exp.certSubjectOU, exp.validSubjectOU)) {
    failed.push('ou');
  }
  if (csr.uriHostname && csr.uriHostname !== exp.certUriHostname) failed.push('uriHostname');
  if (csr.instanceId && csr.instanceId !== exp.certInstanceId) failed.push('instanceId');
  return failed;
}

/**
 * Runs a role CSR through the ZTS role-certificate checks (`X509RoleCertRequest.validate` and
 * `validateRoleCertificateRequest`): principal URI / email, proxy user, subject O, SPIFFE role URI, OU against the client
 * certificate, URI hostname and instance id equal to the client certificate's. Role membership is the server's check,
 * not the CSR's. Failures answer 400 `Unable to validate cert request` as ZTS does (parse errors:
 * `Unable to parse PKCS10 CSR: ...`).
 * @public
 */
export function validateRoleCsr(
  csrPem: string | AcceptedRoleCsr,
  exp: RoleCsrExpectations,
): CsrVerdict<AcceptedRoleCsr> {
  let parsed: AcceptedRoleCsr;
  try {
    parsed = typeof csrPem === 'string' ? parseRoleCsr(csrPem) : csrPem;
  } catch (e) {
    return fail(400, `Unable to parse PKCS10 CSR: ${e instanceof ZtsError ? e.message : String(e)}`);
  }
  if (roleCsrFailures(parsed, exp).length > 0) return fail(400, 'Unable to validate cert request');
  return { ok: true, value: parsed };
}
