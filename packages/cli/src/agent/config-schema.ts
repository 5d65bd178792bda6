/**
 * The agent's configuration file: its JSON Schema and its TypeScript type, from one definition (TypeBox). The schema
 * object is plain JSON Schema (draft 2020-12 keywords only), published as `agent.schema.json` in the package and
 * printed by `ecs-identity agent schema`; the agent validates every file against this very object, so what an editor
 * accepts and what the agent accepts cannot drift apart.
 * @packageDocumentation
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

/** A name usable in a template path (`{{consul.client.secretId}}`). */
const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const path = (description: string) => Type.String({ minLength: 1, description });
const text = (description: string) => Type.String({ minLength: 1, description });
const mode = (description: string) => Type.String({ pattern: '^0?[0-7]{3,4}$', description });
const uid = Type.Integer({
  minimum: 0,
  maximum: 4294967294,
  description: 'owner user id (chown; the agent must be allowed to)',
});
const gid = Type.Integer({ minimum: 0, maximum: 4294967294, description: 'owner group id' });

/** A file holding one secret value (a Consul SecretID, a role certificate, an access token). */
const FileSink = Type.Object(
  {
    path: path(
      'where the value is written (atomically: temp file, fsync, rename); relative paths are resolved against the directory of the configuration file',
    ),
    mode: Type.Optional(mode('file mode as an octal string, e.g. "0640"; default "0600" ("0444" for certificates)')),
    uid: Type.Optional(uid),
    gid: Type.Optional(gid),
  },
  { ...closed, description: 'a file the credential is written to' },
);

const FileSinks = Type.Array(FileSink, { description: 'files the credential is written to, each time it changes' });

const ms = (description: string) => Type.Number({ minimum: 0, description });
const fraction = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 1, description });

/** When a credential is refreshed: core's `refresh` options, by the same names (the agent always refreshes in the background). */
const Refresh = Type.Object(
  {
    intervalMs: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'refresh at the latest this long after issue (siad: 1 day)' }),
    ),
    latestFraction: Type.Optional(fraction('refresh at the latest once this share of the lifetime has passed')),
    beforeExpiryMs: Type.Optional(ms('refresh at the latest when this much validity is left')),
    spread: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'the share of the span up to the latest refresh point over which the refresh time is drawn',
      }),
    ),
    expiringThresholdMs: Type.Optional(ms('an "expiring" event once the validity left falls under this')),
    expiryMarginMs: Type.Optional(ms('a credential counts as expired this long before its expiry')),
  },
  {
    ...closed,
    description:
      "when to refresh: the SDK's refresh options (unset fields keep the provider's defaults; see @ecs-identity/core)",
  },
);

/** How a failed refresh is retried: core's `retry` options, by the same names. */
const Retry = Type.Object(
  {
    baseDelayMs: Type.Optional(ms('the backoff cap after the first failed refresh; it doubles with each failure')),
    maxDelayMs: Type.Optional(ms('the largest backoff cap')),
    remainingFraction: Type.Optional(fraction('a backoff is never longer than this share of the validity left')),
    minDelayMs: Type.Optional(ms('the shortest backoff')),
    initial: Type.Optional(
      Type.Object(
        {
          maxAttempts: Type.Optional(Type.Integer({ minimum: 1, description: 'attempts in all, the first included' })),
          baseDelayMs: Type.Optional(ms('first backoff cap (full jitter, doubling)')),
          maxDelayMs: Type.Optional(ms('largest backoff cap')),
          deadlineMs: Type.Optional(ms('no attempt starts this long after the first')),
        },
        { ...closed, description: 'the quick retry of a fetch made while no valid credential is held' },
      ),
    ),
  },
  {
    ...closed,
    description:
      "how a failed refresh is retried: the SDK's retry options (unset fields keep the provider's defaults; see @ecs-identity/core)",
  },
);

/** The tuning every credential of the agent takes. */
const tuning = { refresh: Type.Optional(Refresh), retry: Type.Optional(Retry) };

const ConsulLogin = Type.Object(
  {
    method: text('the aws-iam auth method, e.g. iam-ecs-client-token or iam-ecs-service-token'),
    meta: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String(), {
        description:
          'token meta, merged over consul.hashicorp.com/task-id and consul.hashicorp.com/cluster (yours win)',
      }),
    ),
    partition: Type.Optional(text('admin partition (Enterprise); default consul.partition')),
    namespace: Type.Optional(text('namespace (Enterprise); default consul.namespace')),
    datacenter: Type.Optional(text('datacenter of the auth method; default consul.datacenter')),
    includeEntity: Type.Optional(
      Type.Boolean({ description: 'embed the signed iam:GetRole request (-aws-include-entity); default true' }),
    ),
    serverIdHeaderValue: Type.Optional(
      text("the auth method's ServerIDHeaderValue; default consul.serverIdHeaderValue"),
    ),
    region: Type.Optional(text("STS signing region; default the task's region")),
    stsEndpoint: Type.Optional(text('STS URL put in the bearer token')),
    iamEndpoint: Type.Optional(text('IAM URL put in the bearer token')),
    replicationAttempts: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'stale self-reads (100 ms apart) to wait for replication; 0 skips the wait; default 20',
      }),
    ),
    supersededGraceMs: Type.Optional(
      ms(
        'how long a token replaced by a new login stays valid before it is logged out, so its readers can switch; default 30000',
      ),
    ),
    ...tuning,
    sinks: Type.Optional(FileSinks),
  },
  { ...closed, description: 'one aws-iam login; its token is logged out when the agent stops (daemon mode)' },
);

const Consul = Type.Object(
  {
    address: Type.Optional(text('Consul HTTP API, http(s)://host:port; default CONSUL_HTTP_ADDR, else 127.0.0.1:8500')),
    caFile: Type.Optional(path('CA bundle for an https address; default CONSUL_CACERT')),
    caPemEnv: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description:
          'name of an environment variable holding the CA bundle in PEM, e.g. CONSUL_HTTPS_CACERT_PEM (unset or empty: not used)',
      }),
    ),
    clientCertFile: Type.Optional(
      path('client certificate, for servers that verify clients; default CONSUL_CLIENT_CERT'),
    ),
    clientKeyFile: Type.Optional(path('key of clientCertFile; default CONSUL_CLIENT_KEY')),
    partition: Type.Optional(text('admin partition of every login; default CONSUL_PARTITION')),
    namespace: Type.Optional(text('namespace of every login; default CONSUL_NAMESPACE')),
    datacenter: Type.Optional(text('datacenter of every login')),
    serverIdHeaderValue: Type.Optional(text("the auth methods' ServerIDHeaderValue")),
    logins: Type.Record(Type.String({ pattern: NAME_PATTERN }), ConsulLogin, {
      ...closed,
      minProperties: 1,
      description: 'the tokens, by name (templates read consul.<name>.secretId); logged out in reverse order at stop',
    }),
  },
  { ...closed, description: 'Consul ACL tokens from the task role (aws-iam auth methods)' },
);

const IdentitySink = Type.Object(
  {
    keyPath: path('the private key (PEM), written with the certificate as one crash-safe pair'),
    certPath: path('the service certificate (PEM)'),
    chainPath: Type.Optional(path('the CA chain ZTS returned (PEM)')),
    keyMode: Type.Optional(mode('default "0400"')),
    certMode: Type.Optional(mode('default "0444" (also for chainPath)')),
    uid: Type.Optional(uid),
    gid: Type.Optional(gid),
  },
  { ...closed, description: 'a key + certificate pair outside the siad layout' },
);

const RoleCertificate = Type.Object(
  {
    role: Type.String({ pattern: '^[^:]+:role\\.[^:]+$', description: '<domain>:role.<role>' }),
    expiryMinutes: Type.Optional(
      Type.Integer({ minimum: 1, description: 'requested lifetime; default the server default' }),
    ),
    ...tuning,
    sinks: Type.Optional(FileSinks),
  },
  { ...closed, description: 'a role certificate (it certifies the service key)' },
);

const AccessToken = Type.Object(
  {
    scope: text('<domain>:domain, or <domain>:role.<r> ..., plus "openid <domain>:service.<s>" for an id token'),
    expiresInSeconds: Type.Optional(
      Type.Integer({ minimum: 1, description: 'requested lifetime; default the server default' }),
    ),
    verifyIssuer: Type.Optional(
      text("verify each token against ZTS's JWKS with this issuer (and its binding to the certificate)"),
    ),
    ...tuning,
    sinks: Type.Optional(FileSinks),
  },
  { ...closed, description: 'an OAuth2 access token, bound to the current service certificate' },
);

const Sia = Type.Object(
  {
    dir: Type.Optional(path('root of the siad layout; default /var/lib/sia')),
    keyDir: Type.Optional(path('default <dir>/keys')),
    certDir: Type.Optional(path('default <dir>/certs')),
    tokenDir: Type.Optional(path('default <dir>/tokens')),
    uid: Type.Optional(uid),
    gid: Type.Optional(gid),
  },
  {
    ...closed,
    description:
      "siad's file layout and modes: the identity is saved there before use and found there after a restart; role certificates and tokens go there too",
  },
);

const Athenz = Type.Object(
  {
    zts: text('ZTS host name, or its URL such as https://zts.example.com:4443/zts/v1'),
    ztsPort: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'ZTS port when zts is a host name; default 4443' }),
    ),
    caFile: Type.Optional(path("CA bundle for ZTS's server certificate; default the system roots")),
    dnsSuffixes: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: "DNS suffixes of the provider, for the certificate's SAN names (siad -dnsdomains)",
    }),
    providerPrefix: Type.Optional(text('the provider is <prefix>.<region>; default athenz.aws-ecs')),
    domain: Type.Optional(text('Athenz domain (with service); default from iamRoleArn or the task role')),
    service: Type.Optional(text('Athenz service (a SimpleName)')),
    iamRoleArn: Type.Optional(text('role assumed for attestation; default ATHENZ_SIA_IAM_ROLE_ARN')),
    rolePath: Type.Optional(text("IAM path of the attestation role (siad's role_path); default ATHENZ_SIA_ROLE_PATH")),
    omitDomain: Type.Optional(
      Type.Boolean({
        description: "the attestation role is named <service> (siad's omit_domain); default ATHENZ_SIA_OMIT_DOMAIN",
      }),
    ),
    stsEndpoint: Type.Optional(
      text(
        'STS for attestation: "global", "regional" or a URL; default AWS_ENDPOINT_URL_STS, else global in the aws partition and regional elsewhere',
      ),
    ),
    keyType: Type.Optional(
      Type.Union([Type.Literal('rsa'), Type.Literal('ec')], {
        description: 'new keys: rsa (RSA 2048, default) or ec (P-256)',
      }),
    ),
    expiryMinutes: Type.Optional(Type.Integer({ minimum: 1, description: 'requested certificate lifetime' })),
    ...tuning,
    spiffeTrustDomain: Type.Optional(text('spiffe://<td>/ns/default/sa/<domain>.<service>')),
    sanDnsWildcard: Type.Optional(Type.Boolean({ description: 'add *.<service>.<dashed-domain>.<suffix>' })),
    sanDnsNames: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'extra SAN DNS names' })),
    deleteOnExit: Type.Optional(
      Type.Boolean({
        description: 'delete the instance record at stop (daemon mode; needs a ZMS delete grant); default false',
      }),
    ),
    sia: Type.Optional(Sia),
    identity: Type.Optional(
      Type.Object(
        { sinks: Type.Optional(Type.Array(IdentitySink)) },
        { ...closed, description: 'extra copies of the key and certificate' },
      ),
    ),
    roleCertificates: Type.Optional(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), RoleCertificate, {
        ...closed,
        description: 'role certificates, by name (templates read athenz.roleCertificates.<name>)',
      }),
    ),
    accessTokens: Type.Optional(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), AccessToken, {
        ...closed,
        description: 'access tokens, by name (templates read athenz.accessTokens.<name>)',
      }),
    ),
  },
  { ...closed, description: 'the Athenz service identity (what siad does on Fargate)' },
);

const Template = Type.Object(
  {
    name: Type.Optional(text('its name in logs and status; default the destination')),
    source: Type.Optional(path('the template file (Handlebars); relative to the configuration file')),
    contents: Type.Optional(Type.String({ description: 'the template text itself, instead of source' })),
    destination: path('the rendered file, replaced atomically'),
    mode: Type.Optional(mode('default "0600"')),
    uid: Type.Optional(uid),
    gid: Type.Optional(gid),
    command: Type.Optional(
      Type.Array(Type.String(), {
        minItems: 1,
        description: 'run after each write (argv, no shell; use ["/bin/sh","-c","..."] for one); non-zero is a failure',
      }),
    ),
    commandTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'default 30' })),
    signal: Type.Optional(
      Type.Object(
        {
          pidFile: path('file holding the PID of the process to signal'),
          signal: Type.Optional(
            Type.Union(
              ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGTERM', 'SIGQUIT'].map((s) => Type.Literal(s)),
              { description: 'default SIGHUP' },
            ),
          ),
        },
        { ...closed, description: 'signal a process after each rewrite (not before it has written its PID file)' },
      ),
    ),
  },
  { ...closed, description: 'a file rendered from the credentials, the task metadata and the environment' },
);

const Health = Type.Object(
  {
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'serve /health/live, /health/ready and /status on 127.0.0.1:<port>',
      }),
    ),
    statusFile: Type.Optional(path('write the status JSON here on every change and every heartbeat')),
    heartbeatSeconds: Type.Optional(
      Type.Integer({ minimum: 1, description: 'status file rewrite interval; default 30' }),
    ),
  },
  { ...closed, description: 'liveness and readiness, for ECS container health checks (ecs-identity agent health)' },
);

const Metrics = Type.Object(
  {
    meterName: Type.Optional(text('the name of the Meter the instruments are made on; default ecs-identity-agent')),
  },
  {
    ...closed,
    description:
      "OpenTelemetry metrics of every credential (time to expiry, refresh attempts and failures by code, login / register / refresh durations; the ecs_identity.credential attribute is the credential's key), on the process's global MeterProvider: register an OpenTelemetry SDK with node --import; needs @opentelemetry/api installed",
  },
);

/** The configuration file's schema. @public */
export const agentConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'the schema, for editors' })),
    ecsAgentUrl: Type.Optional(
      text('ECS agent base URL for v2 metadata and relative credentials URIs; default http://169.254.170.2'),
    ),
    consul: Type.Optional(Consul),
    athenz: Type.Optional(Athenz),
    templates: Type.Optional(Type.Array(Template)),
    health: Type.Optional(Health),
    metrics: Type.Optional(Metrics),
  },
  {
    ...closed,
    title: 'ecs-identity agent configuration',
    description: 'One configuration for a task: Athenz and Consul credentials, their files, templates, health.',
  },
);

/** A parsed, schema-valid configuration file. @public */
export type AgentConfig = Static<typeof agentConfigSchema>;
/** @public */
export type FileSinkConfig = Static<typeof FileSink>;
/** @public */
export type IdentitySinkConfig = Static<typeof IdentitySink>;
/** @public */
export type TemplateConfig = Static<typeof Template>;
/** @public */
export type ConsulLoginConfig = Static<typeof ConsulLogin>;
/** The `refresh` and `retry` of one credential. @public */
export type TuningConfig = { refresh?: Static<typeof Refresh>; retry?: Static<typeof Retry> };

/** The schema as the JSON document published in the package (`agent.schema.json`). @internal */
export function schemaDocument(schema: TSchema = agentConfigSchema): string {
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema }, null, 2)}\n`;
}
