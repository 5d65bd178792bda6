/**
 * `ecs-identity consul login | logout | wait`: `consul login -type aws-iam -aws-auto-bearer-token` with the ECS
 * task's role, the token's logout, and the replication wait consul-ecs does after a login.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { type ConsulAclClient, consulAclClient } from '@ecs-identity/consul-login';
import { consulLogin, consulTlsAgent } from '@ecs-identity/consul-login/node';
import { IdentityError, sleep } from '@ecs-identity/core';
import type { Command, CommandContext, CommandGroup } from './command.js';
import { type FlagSpecs, UsageError } from './flags.js';
import { ECS_AGENT_FLAG } from './metadata-command.js';
import { printLine } from './output.js';

/** Where the Consul HTTP API is and how to trust it: the Consul CLI's flags and variables. */
const CONNECTION_FLAGS: FlagSpecs = {
  'http-addr': {
    type: 'string',
    placeholder: 'ADDR',
    help: 'Consul HTTP API address, http(s)://host:port or host:port (https when CONSUL_HTTP_SSL=true)',
    env: ['CONSUL_HTTP_ADDR'],
    default: '127.0.0.1:8500',
  },
  'ca-file': { type: 'string', placeholder: 'FILE', help: 'CA bundle for an https address', env: ['CONSUL_CACERT'] },
  'client-cert': {
    type: 'string',
    placeholder: 'FILE',
    help: 'client certificate for servers that verify clients',
    env: ['CONSUL_CLIENT_CERT'],
  },
  'client-key': { type: 'string', placeholder: 'FILE', help: 'key of -client-cert', env: ['CONSUL_CLIENT_KEY'] },
};

const TOKEN_FILE_FLAG: FlagSpecs = {
  'token-file': {
    type: 'string',
    placeholder: 'FILE',
    aliases: ['token-sink-file'],
    help: 'file holding the token SecretID (what login wrote); else CONSUL_HTTP_TOKEN, else CONSUL_HTTP_TOKEN_FILE',
  },
};

function str(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function connection(ctx: CommandContext) {
  const { values, io } = ctx;
  const caFile = str(values, 'ca-file');
  const certFile = str(values, 'client-cert');
  const keyFile = str(values, 'client-key');
  const agent = consulTlsAgent({
    env: {},
    ...(caFile ? { caFile } : {}),
    ...(certFile ? { certFile } : {}),
    ...(keyFile ? { keyFile } : {}),
  });
  return {
    address: values['http-addr'] as string,
    // CONSUL_HTTP_SSL still applies to a host:port address.
    env: io.env,
    ...(agent === undefined ? {} : { agent }),
  };
}

async function readTokenFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new IdentityError(
      'FILE_IO',
      `cannot read the ${what} ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
      {
        cause: e,
      },
    );
  }
  const token = text.trim();
  if (token === '') throw new IdentityError('INVALID_CONFIG', `the ${what} ${path} is empty`);
  return token;
}

/** The token SecretID, in the Consul CLI's order: -token-file, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE. */
async function tokenSecret(ctx: CommandContext): Promise<{ secret: string; from: string }> {
  const file = str(ctx.values, 'token-file');
  if (file) return { secret: await readTokenFile(file, 'token file'), from: file };
  const fromEnv = ctx.io.env.CONSUL_HTTP_TOKEN?.trim();
  if (fromEnv) return { secret: fromEnv, from: 'CONSUL_HTTP_TOKEN' };
  const envFile = ctx.io.env.CONSUL_HTTP_TOKEN_FILE?.trim();
  if (envFile) return { secret: await readTokenFile(envFile, 'token file (CONSUL_HTTP_TOKEN_FILE)'), from: envFile };
  throw new UsageError('no token: pass -token-file, or set CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE');
}

function parseMeta(items: string[] | undefined): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-meta ${JSON.stringify(item)} must be key=value`);
    meta[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return meta;
}

/** Everything a token summary may show (never the SecretID). */
function summary(token: {
  accessorId: string;
  authMethod?: string;
  namespace?: string;
  partition?: string;
  expiresAt?: Date;
  serviceIdentities: readonly { serviceName: string }[];
}) {
  return {
    accessorId: token.accessorId,
    ...(token.authMethod ? { authMethod: token.authMethod } : {}),
    ...(token.namespace ? { namespace: token.namespace } : {}),
    ...(token.partition ? { partition: token.partition } : {}),
    ...(token.expiresAt ? { expiresAt: token.expiresAt.toISOString() } : {}),
    serviceIdentities: token.serviceIdentities.map((s) => s.serviceName),
  };
}

/** @public */
export const consulLoginCommand: Command = {
  name: 'login',
  summary: 'log in with the task role (aws-iam auth method) and write the token to a sink file',
  description: `Does what "consul login -type aws-iam -aws-auto-bearer-token -aws-include-entity" does in
consul-ecs: reads the task metadata and the task-role credentials, builds a signed bearer token, logs in with the
token meta consul.hashicorp.com/task-id and consul.hashicorp.com/cluster (merged with -meta, yours win), waits until
the token can be read back with ?stale (replication), and writes the SecretID alone to -token-sink-file (atomic,
mode 0600). On stdout: one JSON line with the AccessorID (never the SecretID). If anything after the login fails,
the token is logged out again.`,
  flags: {
    method: {
      type: 'string',
      placeholder: 'NAME',
      help: 'the aws-iam auth method',
      default: 'iam-ecs-service-token',
    },
    'token-sink-file': { type: 'string', placeholder: 'FILE', help: 'where to write the SecretID (required)' },
    meta: { type: 'list', placeholder: 'KEY=VALUE', help: 'token meta' },
    ...CONNECTION_FLAGS,
    partition: { type: 'string', help: 'admin partition (Enterprise)', env: ['CONSUL_PARTITION'] },
    namespace: { type: 'string', help: 'namespace (Enterprise)', env: ['CONSUL_NAMESPACE'] },
    datacenter: { type: 'string', placeholder: 'DC', help: 'datacenter of the auth method' },
    'aws-include-entity': {
      type: 'bool',
      help: 'embed the signed iam:GetRole request (needed for entity_tags / path bindings)',
      default: true,
    },
    'aws-server-id-header-value': {
      type: 'string',
      help: "the auth method's ServerIDHeaderValue (signed X-Consul-IAM-ServerID header)",
    },
    'aws-region': { type: 'string', placeholder: 'REGION', help: "STS signing region (default: the task's region)" },
    'aws-sts-endpoint': { type: 'string', placeholder: 'URL', help: 'STS URL put in the token' },
    'aws-iam-endpoint': { type: 'string', placeholder: 'URL', help: 'IAM URL put in the token' },
    type: { type: 'string', help: 'auth method type (only aws-iam)', default: 'aws-iam' },
    'aws-auto-bearer-token': {
      type: 'bool',
      help: 'build the bearer token from the task role (always on; accepted for consul login compatibility)',
      default: true,
    },
    'replication-attempts': {
      type: 'int',
      help: 'stale self-reads (100 ms apart) to wait for replication; 0 skips the wait',
      default: 20,
    },
    'ecs-agent-url': ECS_AGENT_FLAG,
  },
  async run(ctx) {
    const { values, io, logger } = ctx;
    if (values.type !== 'aws-iam') throw new UsageError('-type: only aws-iam is supported');
    if (values['aws-auto-bearer-token'] !== true) {
      throw new UsageError('-aws-auto-bearer-token=false: bearer token files are not supported');
    }
    const sinkFile = str(values, 'token-sink-file');
    if (!sinkFile) throw new UsageError('-token-sink-file is required');
    const attempts = values['replication-attempts'] as number;
    const optional = (name: string) => str(values, name);
    const token = await consulLogin({
      ...connection(ctx),
      authMethod: values.method as string,
      meta: parseMeta(values.meta as string[] | undefined),
      includeEntity: values['aws-include-entity'] === true,
      ...(optional('partition') ? { partition: optional('partition') } : {}),
      ...(optional('namespace') ? { namespace: optional('namespace') } : {}),
      ...(optional('datacenter') ? { datacenter: optional('datacenter') } : {}),
      ...(optional('aws-server-id-header-value')
        ? { serverIdHeaderValue: optional('aws-server-id-header-value') }
        : {}),
      ...(optional('aws-region') ? { region: optional('aws-region') } : {}),
      ...(optional('aws-sts-endpoint') ? { stsEndpoint: optional('aws-sts-endpoint') } : {}),
      ...(optional('aws-iam-endpoint') ? { iamEndpoint: optional('aws-iam-endpoint') } : {}),
      replication: attempts === 0 ? false : { attempts },
      metadata: { env: io.env, v2BaseUrl: values['ecs-agent-url'] as string },
      containerCredentials: { env: io.env, relativeBaseUrl: values['ecs-agent-url'] as string },
      sinkFile,
      logger,
    });
    printLine(io, { ...summary(token), tokenSinkFile: sinkFile });
    return 0;
  },
};

/** @public */
export const consulLogoutCommand: Command = {
  name: 'logout',
  summary: 'log out (delete) the token that login wrote',
  description: `Destroys a token made by an auth method login (POST /v1/acl/logout), like "consul logout". The
token is read from -token-file, else CONSUL_HTTP_TOKEN, else the file named by CONSUL_HTTP_TOKEN_FILE. The file is
left in place.`,
  flags: { ...TOKEN_FILE_FLAG, ...CONNECTION_FLAGS },
  async run(ctx) {
    const { secret, from } = await tokenSecret(ctx);
    const acl = consulAclClient(connection(ctx));
    await acl.logout(secret);
    printLine(ctx.io, { loggedOut: true, token: from });
    return 0;
  },
};

async function waitReadable(
  acl: ConsulAclClient,
  secret: string,
  from: string,
  attempts: number,
  intervalMs: number,
): Promise<Awaited<ReturnType<ConsulAclClient['readSelf']>>> {
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await acl.readSelf(secret, { stale: true });
    } catch (e) {
      // Not replicated yet, or a transient error: wait. Anything else (ACLs off, a bad address) fails now.
      if (!(IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND') || (IdentityError.is(e) && e.retryable))) throw e;
      last = e;
    }
    if (attempt < attempts) await sleep(intervalMs);
  }
  throw new IdentityError(
    'CONSUL_NOT_REPLICATED',
    `the token from ${from} was not readable with ?stale after ${attempts} tries ${intervalMs} ms apart (last: ${
      last instanceof Error ? last.message : String(last)
    })`,
    { cause: last },
  );
}

/** @public */
export const consulWaitCommand: Command = {
  name: 'wait',
  summary: 'wait until the token has replicated (stale self-read answers)',
  description: `Reads the token back with GET /v1/acl/token/self?stale until a server answers, as consul-ecs does
after a login: a token is created on the leader and a follower may not know it yet. The token comes from
-token-file, else CONSUL_HTTP_TOKEN, else CONSUL_HTTP_TOKEN_FILE. On stdout: one JSON line with the AccessorID.`,
  flags: {
    ...TOKEN_FILE_FLAG,
    ...CONNECTION_FLAGS,
    attempts: { type: 'int', min: 1, help: 'self-reads in all', default: 20 },
    'interval-ms': { type: 'int', help: 'pause between self-reads in milliseconds', default: 100 },
  },
  async run(ctx) {
    const { secret, from } = await tokenSecret(ctx);
    const acl = consulAclClient(connection(ctx));
    const token = await waitReadable(
      acl,
      secret,
      from,
      ctx.values.attempts as number,
      ctx.values['interval-ms'] as number,
    );
    printLine(ctx.io, { replicated: true, ...summary(token) });
    return 0;
  },
};

/** @public */
export const consulGroup: CommandGroup = {
  name: 'consul',
  summary: 'Consul ACL login with the task role (consul login -type aws-iam), logout, replication wait',
  description: `Consul ACL tokens for an ECS task, from its IAM task role through an aws-iam auth method.
The address and TLS come from -http-addr / CONSUL_HTTP_ADDR, CONSUL_HTTP_SSL, -ca-file / CONSUL_CACERT.`,
  commands: [consulLoginCommand, consulLogoutCommand, consulWaitCommand],
};
