/**
 * The fake ZTS's configuration (what ZMS and the ZTS properties would hold in a real deployment) and the shared
 * state its request handlers work on.
 * @packageDocumentation
 */
import type * as x509 from '@peculiar/x509';
import type { CallerIdentityFn } from './attestation.js';
import type { CaKeyAlgorithm, ZtsCa } from './ca.js';
import type { CertRecordStore } from './records.js';
import type { TokenSigner } from './tokens.js';

/** A service registered in a domain, and the providers it authorised to launch it. @public */
export interface ZtsServiceConfig {
  name: string;
  /** Providers this service authorised (`launch` on `<domain>:service.<service>`). Default: every configured provider. */
  providers?: string[];
}

/** A domain as ZMS would describe it. @public */
export interface ZtsDomainConfig {
  name: string;
  /** The AWS account registered for the domain; the attestation ARN must be in it. Without one, AWS attestation fails. */
  awsAccount?: string;
  /** Registered services (names or configs). */
  services: Array<string | ZtsServiceConfig>;
  /** Roles and their members (`<domain>.<service>` principals; a trailing `*` matches a prefix). */
  roles?: Record<string, string[]>;
  /** The domain's own cert DNS domain (accepted as a SAN DNS suffix besides the provider's). */
  certDnsDomain?: string;
  /** Principals allowed to delete this domain's instance records (`delete` on `<domain>:instance.<id>`). */
  instanceDeleters?: string[];
}

/** A provider authorised to launch instances in Athenz. @public */
export interface ZtsProviderConfig {
  /** e.g. `athenz.aws-ecs.us-west-2`. */
  name: string;
  /** The provider's DNS suffixes. Default: the server's `dnsSuffix`. */
  dnsSuffixes?: string[];
  /**
   * Suffixes a requested instance `hostname` (and host CNAME) may end with (ZMS: the provider's allowed hostname
   * suffixes, `DataCache.getProviderHostnameAllowedSuffixList`). Default none: like ZTS with none configured
   * (`X509CertRequest.isHostnameAllowed`), any hostname is refused.
   */
  hostnameSuffixes?: string[];
}

/** Where the fake ZTS checks attestation credentials (the testkit `AwsEmulator` itself fits). @public */
export interface ZtsAwsConfig {
  /** The testkit AWS emulator's URL (`GetCallerIdentity` is POSTed here). */
  url: string;
  /** SigV4 region for `sts` (the emulator's region). Default `us-east-1`. */
  region?: string;
}

/** Options of {@link startZts}. @public */
export interface ZtsOptions {
  /** The AWS emulator used to verify attestation credentials. */
  aws?: ZtsAwsConfig;
  /** Overrides `aws`: any function resolving credentials to the caller ARN. */
  callerIdentity?: CallerIdentityFn;
  /**
   * ARN partition(s) the attested assumed-role ARN may be in. Default `aws` only: the stock
   * `AWSStsCredentialsAttestationValidator` accepts nothing but `arn:aws:sts::<account>:assumed-role/<role>/`, so
   * attestation from aws-cn or aws-us-gov is refused. Another value (or a list, e.g. `['aws', 'aws-cn']`) models a ZTS
   * whose validator was built for that partition.
   */
  partition?: string | readonly string[];
  /** Providers authorised to launch instances (names or configs). */
  providers: Array<string | ZtsProviderConfig>;
  domains: ZtsDomainConfig[];
  /** Default provider DNS suffix(es). Default `athenz.cloud`. */
  dnsSuffix?: string | string[];
  /** Suffixes allowed in an old-style role-CSR principal email. Default: the DNS suffixes. */
  emailSuffixes?: string[];
  /** Time source for issuing and checking certificates and tokens. Default: `Date.now`. */
  clock?: { now(): number };
  /** Service certificate lifetime in minutes when the request asks for none or more. Default 10080 (7 days). */
  certLifetimeMinutes?: number;
  /** Role certificate lifetime in minutes when the request asks for none or more. Default 10080. */
  roleCertLifetimeMinutes?: number;
  /** Access token lifetime when `expires_in` is absent. Default 7200 s (ZTS `role_token_default_timeout`). */
  accessTokenDefaultSeconds?: number;
  /** Longest access token lifetime. Default 30 days. */
  accessTokenMaxSeconds?: number;
  /** Longest id token lifetime. Default 12 h. */
  idTokenMaxSeconds?: number;
  /** Allowed subject O values. Default: any single O. */
  validSubjectO?: string[];
  /** Allowed subject OU values besides the provider. */
  validSubjectOU?: string[];
  /** Check the subject OU (`athenz.zts.verify_cert_subject_ou`). Default true here; ZTS ships with it off. */
  verifySubjectOU?: boolean;
  /** SPIFFE trust domain. Default `athenz.io`. */
  spiffeTrustDomain?: string;
  /** CA key type. Default `P-256` (fast start-up). */
  caKeyAlgorithm?: CaKeyAlgorithm;
  /**
   * Verify each CSR's self-signature (proof of possession). Default true, which is stricter than ZTS: the server does
   * not verify it (`X509CertRequest` only parses the CSR). Kept on so a client that signs with the wrong key fails
   * here rather than with a certificate it cannot use; `false` behaves as ZTS does.
   */
  verifyCsrSignature?: boolean;
  /** Called with every access token and id token issued (e.g. to check that none leaks anywhere). */
  onToken?: (token: string) => void;
}

/** The normalised configuration and live state shared by the handlers. @internal */
export interface ZtsContext {
  readonly opts: ZtsOptions;
  readonly providers: Map<string, NormalizedProvider>;
  readonly domains: Map<string, NormalizedDomain>;
  readonly emailSuffixes: string[];
  /** The partitions the attestation validator accepts. */
  readonly partitions: readonly string[];
  readonly callerIdentity: CallerIdentityFn | undefined;
  readonly ca: ZtsCa;
  readonly signer: TokenSigner;
  readonly records: CertRecordStore;
  issuer: string;
  now(): number;
}

/** A provider with its suffix lists resolved. @internal */
export interface NormalizedProvider {
  dnsSuffixes: string[];
  hostnameSuffixes: string[];
}

/** A domain with lower-cased names and resolved provider lists. @internal */
export interface NormalizedDomain {
  name: string;
  awsAccount: string | undefined;
  services: Map<string, Set<string>>;
  roles: Map<string, string[]>;
  certDnsDomain: string | undefined;
  instanceDeleters: string[];
}

/** Lower-cases and resolves the configuration (ZTS stores every name lower-case). @internal */
export function normalizeConfig(opts: ZtsOptions): {
  providers: Map<string, NormalizedProvider>;
  domains: Map<string, NormalizedDomain>;
  dnsSuffixes: string[];
} {
  const dnsSuffixes = [opts.dnsSuffix ?? 'athenz.cloud'].flat();
  const providers = new Map<string, NormalizedProvider>();
  for (const p of opts.providers) {
    const cfg: ZtsProviderConfig = typeof p === 'string' ? { name: p } : p;
    providers.set(cfg.name.toLowerCase(), {
      dnsSuffixes: cfg.dnsSuffixes ?? dnsSuffixes,
      hostnameSuffixes: cfg.hostnameSuffixes ?? [],
    });
  }
  const domains = new Map<string, NormalizedDomain>();
  for (const d of opts.domains) {
    const services = new Map<string, Set<string>>();
    for (const s of d.services) {
      const cfg = typeof s === 'string' ? { name: s } : s;
      const allowed = cfg.providers?.map((p) => p.toLowerCase()) ?? [...providers.keys()];
      services.set(cfg.name.toLowerCase(), new Set(allowed));
    }
    const roles = new Map<string, string[]>();
    for (const [role, members] of Object.entries(d.roles ?? {})) {
      roles.set(
        role.toLowerCase(),
        members.map((m) => m.toLowerCase()),
      );
    }
    domains.set(d.name.toLowerCase(), {
      name: d.name.toLowerCase(),
      awsAccount: d.awsAccount,
      services,
      roles,
      certDnsDomain: d.certDnsDomain,
      instanceDeleters: (d.instanceDeleters ?? []).map((p) => p.toLowerCase()),
    });
  }
  return { providers, domains, dnsSuffixes };
}

/** The roles of `domain` that `principal` is a member of (restricted to `requested` when given). @internal */
export function accessibleRoles(domain: NormalizedDomain, principal: string, requested?: string[]): string[] {
  const out: string[] = [];
  for (const [role, members] of domain.roles) {
    if (requested && !requested.includes(role)) continue;
    const member = members.some((m) => (m.endsWith('*') ? principal.startsWith(m.slice(0, -1)) : m === principal));
    if (member) out.push(role);
  }
  return out;
}

/** The authenticated client of a request (from its verified TLS client certificate). @internal */
export interface ClientIdentity {
  principal: string;
  certificate: x509.X509Certificate;
  der: Uint8Array;
}
