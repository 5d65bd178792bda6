/**
 * The flags of the athenz commands: siad's names and `ATHENZ_SIA_*` variables. Kept apart from the commands' code so
 * that help and usage errors do not load the ZTS client.
 * @packageDocumentation
 */
import type { FlagSpecs } from './flags.js';
import { ECS_AGENT_FLAG } from './shared-flags.js';

/** Flags of every athenz command: where ZTS is, who we are, where the files go. @internal */
export const ATHENZ_COMMON_FLAGS: FlagSpecs = {
  zts: {
    type: 'string',
    placeholder: 'HOST',
    help: 'ZTS host name (siad -zts), or a full URL such as https://zts.example.com:4443/zts/v1 (required)',
  },
  ztsport: { type: 'int', min: 1, help: 'ZTS port when -zts is a host name', default: 4443 },
  ztscacert: {
    type: 'string',
    placeholder: 'FILE',
    help: "CA bundle for ZTS's server certificate (default: system roots)",
  },
  dnsdomains: {
    type: 'string',
    placeholder: 'LIST',
    aliases: ['dnsdomain'],
    help: "comma-separated DNS suffixes of the provider, for the certificate's SAN names (required)",
  },
  providerprefix: {
    type: 'string',
    placeholder: 'PREFIX',
    help: 'provider name prefix; the provider is <prefix>.<region>',
    default: 'athenz.aws-ecs',
  },
  domain: {
    type: 'string',
    help: 'Athenz domain (with -service; default from ATHENZ_SIA_IAM_ROLE_ARN or the task role)',
  },
  service: { type: 'string', help: 'Athenz service (with -domain)' },
  'iam-role-arn': {
    type: 'string',
    placeholder: 'ARN',
    help: 'role to assume for attestation, arn:aws:iam::<account>:role/<domain>.<service>',
    env: ['ATHENZ_SIA_IAM_ROLE_ARN'],
  },
  'role-path': {
    type: 'string',
    placeholder: 'PATH',
    help: "IAM path of the attestation role (siad's role_path): ecs, /ecs and /ecs/ all mean /ecs/",
    env: ['ATHENZ_SIA_ROLE_PATH'],
  },
  'omit-domain': {
    type: 'bool',
    help: "the attestation role is named <service>, not <domain>.<service> (siad's omit_domain)",
    env: ['ATHENZ_SIA_OMIT_DOMAIN'],
    default: false,
  },
  regionalsts: {
    type: 'bool',
    help: "use the task region's STS endpoint instead of the global one for attestation",
    env: ['ATHENZ_SIA_REGIONAL_STS'],
    default: false,
  },
  'sts-endpoint': {
    type: 'string',
    placeholder: 'URL',
    help: 'STS URL for attestation (overrides -regionalsts; e.g. a VPC endpoint)',
    env: ['AWS_ENDPOINT_URL_STS'],
  },
  'sia-dir': { type: 'string', placeholder: 'DIR', help: 'root of the siad layout', default: '/var/lib/sia' },
  keydir: {
    type: 'string',
    placeholder: 'DIR',
    help: 'key directory (default <sia-dir>/keys)',
    env: ['ATHENZ_SIA_KEY_DIR'],
  },
  certdir: {
    type: 'string',
    placeholder: 'DIR',
    help: 'certificate directory (default <sia-dir>/certs)',
    env: ['ATHENZ_SIA_CERT_DIR'],
  },
  tokendir: {
    type: 'string',
    placeholder: 'DIR',
    help: 'access token directory (default <sia-dir>/tokens)',
    env: ['ATHENZ_SIA_TOKEN_DIR'],
  },
  'spiffe-trust-domain': {
    type: 'string',
    placeholder: 'TD',
    help: 'SPIFFE trust domain (spiffe://<td>/ns/default/sa/<domain>.<service>)',
    env: ['ATHENZ_SIA_SPIFFE_TRUST_DOMAIN'],
  },
  'ecs-agent-url': { ...ECS_AGENT_FLAG, aliases: ['meta'] },
};

/** Flags of the commands that obtain a service certificate (post, rotate, run). @internal */
export const ATHENZ_IDENTITY_FLAGS: FlagSpecs = {
  'key-type': {
    type: 'string',
    placeholder: 'TYPE',
    help: 'type of new keys: rsa (RSA 2048, what siad makes) or ec (ECDSA P-256)',
    env: ['ECS_IDENTITY_KEY_TYPE'],
    default: 'rsa',
  },
  expirytime: {
    type: 'int',
    placeholder: 'MINUTES',
    help: 'requested certificate lifetime; the server may lower it (0: the server default)',
    env: ['ATHENZ_SIA_EXPIRY_TIME'],
    default: 0,
  },
  'sandns-wildcard': {
    type: 'bool',
    help: 'add the wildcard SAN *.<service>.<dashed-domain>.<suffix>',
    env: ['ATHENZ_SIA_SANDNS_WILDCARD'],
    default: false,
  },
  'sandns-x509-cnames': {
    type: 'string',
    placeholder: 'LIST',
    help: 'comma-separated extra SAN DNS names',
    env: ['ATHENZ_SIA_SANDNS_X509_CNAMES'],
  },
};

/** The role certificates to get. @internal */
export const ROLES_FLAG: FlagSpecs = {
  roles: {
    type: 'list',
    placeholder: 'LIST',
    aliases: ['role'],
    help: 'role certificates to get, <domain>:role.<role>, comma-separated (env: the keys of the JSON object)',
    env: ['ATHENZ_SIA_ACCOUNT_ROLES'],
  },
};

/** The access token to get. @internal */
export const TOKEN_FLAGS: FlagSpecs = {
  scope: {
    type: 'string',
    help: 'access token scope: <domain>:domain, or <domain>:role.<r> [...], plus "openid <domain>:service.<s>" for an id token',
  },
  'expires-in': {
    type: 'int',
    placeholder: 'SECONDS',
    help: 'requested token lifetime (0: the server default)',
    default: 0,
  },
  'token-name': {
    type: 'string',
    placeholder: 'NAME',
    help: 'file name under <tokendir>/<domain>/ (default: the scope with spaces as commas)',
  },
  'verify-issuer': {
    type: 'string',
    placeholder: 'ISS',
    help: "verify the token against ZTS's JWKS with this issuer (and its binding to our certificate)",
  },
};
