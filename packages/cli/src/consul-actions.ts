/**
 * What the consul commands do (loaded only when one runs).
 * @packageDocumentation
 */
import { type ConsulAclClient, consulAclClient } from '@ecs-identity/consul-login';
import { consulLogin, consulTlsAgent } from '@ecs-identity/consul-login/node';
import { IdentityError, registerSecret, sleep } from '@ecs-identity/core';
import type { CommandContext } from './command.js';
import { UsageError } from './flags.js';
import { printLine } from './output.js';
import { readTextFile } from './read-file.js';

function str(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function connection(ctx: CommandContext) {
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
  const token = (await readTextFile(path, what)).trim();
  if (token === '') throw new IdentityError('INVALID_CONFIG', `the ${what} ${path} is empty`);
  return token;
}

/** The token SecretID, in the Consul CLI's order: -token-file, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE. */
async function tokenSecret(ctx: CommandContext): Promise<{ secret: string; from: string }> {
  const found = await findTokenSecret(ctx);
  // Registered so that no error or log line can show it, whatever a server echoes back.
  registerSecret(found.secret);
  return found;
}

async function findTokenSecret(ctx: CommandContext): Promise<{ secret: string; from: string }> {
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

/**
 * consul-login's `waitForReplication` takes the ConsulToken a login returned; here only a SecretID from a file or the
 * environment is known, so this is the same loop (same rules: wait out `ACL not found` and transient errors) on it.
 */
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

/** `consul login`. @internal */
export async function login(ctx: CommandContext): Promise<number> {
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
    ...(optional('aws-server-id-header-value') ? { serverIdHeaderValue: optional('aws-server-id-header-value') } : {}),
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
}

/** `consul logout`. @internal */
export async function logout(ctx: CommandContext): Promise<number> {
  const { secret, from } = await tokenSecret(ctx);
  const acl = consulAclClient(connection(ctx));
  await acl.logout(secret);
  printLine(ctx.io, { loggedOut: true, token: from });
  return 0;
}

/** `consul wait`. @internal */
export async function wait(ctx: CommandContext): Promise<number> {
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
}
