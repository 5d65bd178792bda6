/**
 * Service and role CSRs exactly as ZTS expects them (PROTOCOLS.md §3 "CSR contents"), built with @peculiar/x509
 * (loaded on first use: x509-load.ts).
 * Inputs are validated first, so a CSR the server would reject (bad names, empty instance id, a DNS name outside
 * the suffixes) is never produced.
 * @packageDocumentation
 */
import { AthenzError } from './errors.js';
import { type CryptoOption, publicKeySpki, resolveCrypto, signingAlgorithmFor } from './keys.js';
import {
  dashedDomain,
  validateDnsName,
  validateDnsSuffix,
  validateDomain,
  validateInstanceId,
  validateProvider,
  validateRole,
  validateService,
  validateSimpleName,
} from './names.js';
import type { Crypto, CryptoKeyPair } from './web-crypto.js';
import type { X509Names } from './x509-info.js';
import { loadX509Codec } from './x509-load.js';

/** A subject name as relative distinguished names, in order (e.g. `[{ OU: ['x'] }, { CN: ['y'] }]`). @internal */
export type CsrName = Record<string, string[]>[];

/** A subjectAltName entry. @internal */
export interface CsrGeneralName {
  type: 'dns' | 'url' | 'email';
  value: string;
}

/** Optional single-valued subject fields (siad's `C`, `ST`, `L`, `O` settings). @public */
export interface CsrSubject {
  country?: string;
  state?: string;
  locality?: string;
  organization?: string;
}

/** How the SPIFFE URI is written. @public */
export interface SpiffeOptions {
  /** With a trust domain the form is `spiffe://<td>/ns/<namespace>/sa/<domain>.<service>` (roles: `.../ns/<domain>/ra/<role>`); without it, `spiffe://<domain>/sa/<service>` (roles: `spiffe://<domain>/ra/<role>`). */
  trustDomain?: string | undefined;
  /**
   * Namespace for the trust-domain service form (a SimpleName: ZTS takes it as the request's `namespace` and checks the
   * URI against it). Default `default`.
   */
  namespace?: string | undefined;
}

/** @public */
export interface ServiceCsrOptions extends CryptoOption {
  /** The key pair; the CSR is signed with its private key (SHA-256). */
  keys: CryptoKeyPair;
  domain: string;
  service: string;
  /** The provider, e.g. `athenz.aws-ecs.us-west-2`; goes into OU and the instance-id URI. */
  provider: string;
  /** On ECS, the task id. */
  instanceId: string;
  /** One SAN `<service>.<dashed-domain>.<suffix>` per suffix; at least one. */
  dnsSuffixes: readonly string[];
  /** Also add `*.<service>.<dashed-domain>.<suffix>` for each suffix. Default false. */
  wildcard?: boolean | undefined;
  /** Extra DNS names (CNAMEs); each must end with one of `dnsSuffixes`, as the server requires. */
  extraDnsNames?: readonly string[] | undefined;
  /** `false` leaves the SPIFFE URI out. Default: the basic `spiffe://<domain>/sa/<service>`. */
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
}

/** @public */
export interface RoleCsrOptions extends CryptoOption {
  /** The service's key pair (role certs reuse the service key). */
  keys: CryptoKeyPair;
  /** The principal asking: its domain and service. */
  domain: string;
  service: string;
  /** The role's domain and name: CN `<roleDomain>:role.<role>`. */
  roleDomain: string;
  role: string;
  provider: string;
  instanceId: string;
  /** Adds the email SAN `<domain>.<service>@<emailDomain>` (old-style role principal). */
  emailDomain?: string | undefined;
  /** `false` leaves the SPIFFE URI out. Default: `spiffe://<roleDomain>/ra/<role>`. */
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
}

/** A built CSR. @public */
export interface BuiltCsr {
  /** PEM `CERTIFICATE REQUEST`, as ZTS wants it in `csr`. */
  pem: string;
  /** The DNS SANs, in order. */
  dnsNames: string[];
  /** The URI SANs, in order. */
  uris: string[];
  /** The subject CN. */
  commonName: string;
}

function subjectName(subject: CsrSubject | undefined, ou: string, cn: string): CsrName {
  const rdns: CsrName = [];
  const add = (type: string, field: keyof CsrSubject) => {
    const v = subject?.[field];
    if (v === undefined) return;
    if (typeof v !== 'string' || v.length === 0 || v.length > 64) {
      throw new AthenzError('INVALID_ARGUMENT', `subject.${field} must be a string of 1-64 characters`);
    }
    rdns.push({ [type]: [v] });
  };
  add('C', 'country');
  add('ST', 'state');
  add('L', 'locality');
  add('O', 'organization');
  // One value each: ZTS rejects a second CN, O or OU.
  rdns.push({ OU: [ou] });
  rdns.push({ CN: [cn] });
  return rdns;
}

function spiffeSegment(value: string, field: string): string {
  // A trust domain is a DNS-like name; a namespace a simple label. Both land inside a URI, so keep them plain.
  if (!/^[a-z0-9._-]+$/i.test(value)) {
    throw new AthenzError('INVALID_ARGUMENT', `${field} ${JSON.stringify(value)} may only contain a-z 0-9 . _ -`);
  }
  return value.toLowerCase();
}

/**
 * The namespace a service CSR's SPIFFE URI names: `spiffe.namespace` (default `default`) in the trust-domain form,
 * undefined in the basic form or without a SPIFFE URI. Register and refresh send it as `namespace` (siad does), since
 * ZTS checks the URI against the request's namespace (`X509ServiceCertRequest.validateSpiffeURI`, default `default`).
 * @throws IdentityError `INVALID_NAME` when the namespace is not a SimpleName
 * @public
 */
export function spiffeNamespace(spiffe: SpiffeOptions | false | undefined): string | undefined {
  if (!spiffe || spiffe.trustDomain === undefined) return undefined;
  return validateSimpleName(spiffe.namespace ?? 'default', 'spiffe.namespace');
}

/** `spiffe://<domain>/sa/<service>` or, with a trust domain, `spiffe://<td>/ns/<ns>/sa/<domain>.<service>`. @public */
export function serviceSpiffeUri(domain: string, service: string, spiffe: SpiffeOptions = {}): string {
  const d = validateDomain(domain);
  const s = validateService(service);
  if (spiffe.trustDomain === undefined) return `spiffe://${d}/sa/${s}`;
  const td = spiffeSegment(spiffe.trustDomain, 'spiffe.trustDomain');
  return `spiffe://${td}/ns/${spiffeNamespace(spiffe)}/sa/${d}.${s}`;
}

/** `spiffe://<roleDomain>/ra/<role>` or, with a trust domain, `spiffe://<td>/ns/<roleDomain>/ra/<role>`. @public */
export function roleSpiffeUri(roleDomain: string, role: string, spiffe: SpiffeOptions = {}): string {
  const d = validateDomain(roleDomain, 'roleDomain');
  const r = validateRole(role);
  if (spiffe.trustDomain === undefined) return `spiffe://${d}/ra/${r}`;
  return `spiffe://${spiffeSegment(spiffe.trustDomain, 'spiffe.trustDomain')}/ns/${d}/ra/${r}`;
}

/** `athenz://instanceid/<provider>/<instanceId>`. @public */
export function instanceIdUri(provider: string, instanceId: string): string {
  return `athenz://instanceid/${validateProvider(provider)}/${validateInstanceId(instanceId)}`;
}

function checkKeys(keys: CryptoKeyPair | undefined): CryptoKeyPair {
  if (!keys?.privateKey || !keys.publicKey || keys.privateKey.type !== 'private' || keys.publicKey.type !== 'public') {
    throw new AthenzError('INVALID_ARGUMENT', 'keys must be a CryptoKeyPair (a private and a public key)');
  }
  return keys;
}

/** Signs the CSR, checks it (selfCheck) and returns its PEM. */
async function generate(
  keys: CryptoKeyPair,
  name: CsrName,
  san: CsrGeneralName[],
  cn: string,
  crypto: Crypto | undefined,
): Promise<string> {
  const c = resolveCrypto(crypto);
  const signingAlgorithm = signingAlgorithmFor(keys.privateKey);
  const spki = publicKeySpki(keys.publicKey, { crypto: c }).catch((cause: unknown) => {
    throw new AthenzError('INVALID_CSR', "exporting the CSR's public key failed", { cause });
  });
  const [codec, spkiDer] = await Promise.all([loadX509Codec(), spki]);
  const csr = await codec.signCsr(keys, spkiDer, name, san, signingAlgorithm, c);
  selfCheck(csr.names, cn);
  return csr.pem;
}

/**
 * Checks the server's structural rules on the signed CSR, so a bug here can never reach the server. The names are
 * read from the request info that was encoded and signed (its subject and SAN schema objects), so this checks what is
 * sent.
 */
function selfCheck(n: X509Names, cn: string): void {
  if (n.commonNames.length !== 1 || n.commonNames[0] !== cn) {
    throw new AthenzError('INVALID_CSR', `built CSR has CN ${JSON.stringify(n.commonNames)}, expected ${cn}`);
  }
  if (n.organizationalUnits.length > 1 || n.organizations.length > 1 || n.spiffeUris.length > 1) {
    throw new AthenzError('INVALID_CSR', 'built CSR has more than one OU, O or SPIFFE URI');
  }
}

/**
 * Builds the service CSR for register / refresh: CN `<domain>.<service>`, OU `<provider>`, a DNS SAN per suffix,
 * the SPIFFE URI and `athenz://instanceid/<provider>/<instanceId>`.
 * @example
 * ```ts
 * const keys = await generateKeyPair();
 * const { pem } = await buildServiceCsr({
 *   keys, domain: 'sports', service: 'api', provider: 'athenz.aws-ecs.us-west-2',
 *   instanceId: taskId, dnsSuffixes: ['aws.athenz.cloud'],
 * });
 * ```
 * @throws IdentityError `INVALID_NAME` / `INVALID_ARGUMENT` naming the bad field; `INVALID_CSR` if signing fails
 * @public
 */
export async function buildServiceCsr(options: ServiceCsrOptions): Promise<BuiltCsr> {
  const keys = checkKeys(options.keys);
  const domain = validateDomain(options.domain);
  const service = validateService(options.service);
  const provider = validateProvider(options.provider);
  const instanceId = validateInstanceId(options.instanceId);
  if (!Array.isArray(options.dnsSuffixes) || options.dnsSuffixes.length === 0) {
    throw new AthenzError('INVALID_ARGUMENT', 'dnsSuffixes must list at least one DNS suffix (e.g. aws.athenz.cloud)');
  }
  const suffixes = options.dnsSuffixes.map((s, i) => validateDnsSuffix(s, `dnsSuffixes[${i}]`));
  const label = `${service}.${dashedDomain(domain)}`;
  const dnsNames: string[] = [];
  const addDns = (name: string) => {
    if (!dnsNames.includes(name)) dnsNames.push(name);
  };
  for (const s of suffixes) addDns(`${label}.${s}`);
  if (options.wildcard) for (const s of suffixes) addDns(`*.${label}.${s}`);
  for (const [i, extra] of (options.extraDnsNames ?? []).entries()) {
    const name = validateDnsName(extra, `extraDnsNames[${i}]`);
    if (!suffixes.some((s) => name.endsWith(`.${s}`))) {
      throw new AthenzError(
        'INVALID_ARGUMENT',
        `extraDnsNames[${i}] ${name} does not end with one of the DNS suffixes (${suffixes.join(', ')}); ZTS would reject it`,
      );
    }
    addDns(name);
  }
  const uris: string[] = [];
  if (options.spiffe !== false) uris.push(serviceSpiffeUri(domain, service, options.spiffe ?? {}));
  uris.push(instanceIdUri(provider, instanceId));
  const cn = `${domain}.${service}`;
  const san: CsrGeneralName[] = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...uris.map((value) => ({ type: 'url' as const, value })),
  ];
  const pem = await generate(keys, subjectName(options.subject, provider, cn), san, cn, options.crypto);
  return { pem, dnsNames, uris, commonName: cn };
}

/**
 * Builds a role CSR: CN `<roleDomain>:role.<role>`, OU `<provider>`, the SPIFFE role URI, the instance-id and
 * `athenz://principal/<domain>.<service>` URIs, optional email `<domain>.<service>@<emailDomain>`, no DNS names.
 * @throws IdentityError `INVALID_NAME` / `INVALID_ARGUMENT` naming the bad field
 * @public
 */
export async function buildRoleCsr(options: RoleCsrOptions): Promise<BuiltCsr> {
  const keys = checkKeys(options.keys);
  const domain = validateDomain(options.domain);
  const service = validateService(options.service);
  const roleDomain = validateDomain(options.roleDomain, 'roleDomain');
  const role = validateRole(options.role);
  const provider = validateProvider(options.provider);
  const instanceId = validateInstanceId(options.instanceId);
  const principal = `${domain}.${service}`;
  const uris: string[] = [];
  if (options.spiffe !== false) uris.push(roleSpiffeUri(roleDomain, role, options.spiffe ?? {}));
  uris.push(instanceIdUri(provider, instanceId), `athenz://principal/${principal}`);
  const san: CsrGeneralName[] = uris.map((value) => ({ type: 'url' as const, value }));
  if (options.emailDomain !== undefined) {
    san.push({ type: 'email', value: `${principal}@${validateDnsSuffix(options.emailDomain, 'emailDomain')}` });
  }
  const cn = `${roleDomain}:role.${role}`;
  const pem = await generate(keys, subjectName(options.subject, provider, cn), san, cn, options.crypto);
  return { pem, dnsNames: [], uris, commonName: cn };
}
