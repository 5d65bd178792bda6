/**
 * What the consul commands do (loaded only when one runs).
 * @packageDocumentation
 */
import {
  type ConsulAclClient,
  type ConsulAclClientOptions,
  type ConsulAwsOptions,
  type ConsulLoginOptions,
  type ConsulToken,
  type ConsulTokenProvider,
  consulAclClient,
  consulLogin,
  consulTokenProvider,
  logoutAll,
  waitForReplication,
} from '@ecs-identity/consul-login';
import { tokenFileSink } from '@ecs-identity/consul-login/node';
import { IdentityError, registerSecret } from '@ecs-identity/core';
import { containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';
import type { CommandContext } from './command.js';
import { errorCode, errorLine } from './error-line.js';
import { UsageError } from './flags.js';
import { type StopListener, superviseRun } from './long-running.js';
import { printLine } from './output.js';
import { readTextFile } from './read-file.js';
import { expiryBackstop, onProviderEvent } from './run-events.js';

function str(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The Consul client the connection flags describe: -http-addr (CONSUL_HTTP_SSL still applies to a host:port),
 * -ca-file, -client-cert / -client-key, -timeout-ms, and the login's -datacenter, -partition, -namespace.
 * @internal
 */
export function connection(ctx: CommandContext): ConsulAclClientOptions {
  const { values, io } = ctx;
  return {
    address: values['http-addr'] as string,
    env: io.env,
    tls: { caFile: str(values, 'ca-file'), certFile: str(values, 'client-cert'), keyFile: str(values, 'client-key') },
    timeoutMs: values['timeout-ms'] as number,
    datacenter: str(values, 'datacenter'),
    partition: str(values, 'partition'),
    namespace: str(values, 'namespace'),
  };
}

/** The bearer token's AWS requests the -aws-* flags describe (`consul login`, `consul run`, `doctor`). @internal */
export function awsOptions(values: CommandContext['values']): ConsulAwsOptions {
  return {
    region: str(values, 'aws-region'),
    stsEndpoint: str(values, 'aws-sts-endpoint'),
    iamEndpoint: str(values, 'aws-iam-endpoint'),
    serverIdHeaderValue: str(values, 'aws-server-id-header-value'),
    includeEntity: values['aws-include-entity'] !== false,
  };
}

async function readTokenFile(path: string, what: string): Promise<string> {
  const token = (await readTextFile(path, what)).trim();
  if (token === '') throw new IdentityError('INVALID_CONFIG', `the ${what} ${path} is empty`);
  return token;
}

/** The token SecretID, in the Consul CLI's order: -token-file, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE. */
async function tokenSecret(ctx: CommandContext): Promise<{ secret: string; from: string }> {
  const file = str(ctx.values, 'token-file');
  const found = file ? { secret: await readTokenFile(file, 'token file'), from: file } : await envTokenSecret(ctx);
  // Registered so that no error or log line can show it, whatever a server echoes back.
  registerSecret(found.secret);
  return found;
}

/** The token from CONSUL_HTTP_TOKEN, else from the file named by CONSUL_HTTP_TOKEN_FILE (not yet registered). */
async function envTokenSecret(ctx: CommandContext): Promise<{ secret: string; from: string }> {
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
  authMethod?: string | undefined;
  namespace?: string | undefined;
  partition?: string | undefined;
  expiresAt?: Date | undefined;
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

/** `-token-sink-mode`: an octal file mode like chmod's (`644`, `0644`, `0o644`). @internal */
export function sinkMode(values: CommandContext['values']): number {
  const raw = String(values['token-sink-mode'] ?? '0600').trim();
  if (!/^(?:0o?)?[0-7]{3}$/i.test(raw)) {
    throw new UsageError(`-token-sink-mode ${JSON.stringify(raw)} must be an octal file mode like 0600 or 0644`);
  }
  return Number.parseInt(raw.slice(-3), 8);
}

/**
 * The login the login flags describe (`consul login`, `consul run`): the options, and the task-role credentials they
 * use (read from the ECS agent -ecs-agent-url names), which the caller closes when done.
 */
function loginOptions(ctx: CommandContext) {
  const { values, io, logger } = ctx;
  if (values.type !== 'aws-iam') throw new UsageError('-type: only aws-iam is supported');
  if (values['aws-auto-bearer-token'] !== true) {
    throw new UsageError('-aws-auto-bearer-token=false: bearer token files are not supported');
  }
  const sinkFile = str(values, 'token-sink-file');
  if (!sinkFile) throw new UsageError('-token-sink-file is required');
  const mode = sinkMode(values);
  const meta = parseMeta(values.meta as string[] | undefined);
  const attempts = values['replication-attempts'] as number;
  const agentUrl = values['ecs-agent-url'] as string;
  // Made last: every flag is checked first (a usage error is status 2, whatever the environment holds).
  const credentials = containerCredentials({ env: io.env, agentUrl, refresh: { background: false }, logger });
  return {
    sinkFile,
    credentials,
    options: {
      acl: connection(ctx),
      env: io.env,
      authMethod: values.method as string,
      meta,
      aws: awsOptions(values),
      task: (signal: AbortSignal) => getTaskIdentity({ env: io.env, agentUrl, signal, logger }),
      credentials,
      replication: attempts === 0 ? (false as const) : { attempts },
      sink: tokenFileSink(sinkFile, { mode }),
      logger,
    } satisfies ConsulLoginOptions,
  };
}

/** `consul login`. @internal */
export async function login(ctx: CommandContext): Promise<number> {
  const { sinkFile, credentials, options } = loginOptions(ctx);
  try {
    const token = await consulLogin(options);
    printLine(ctx.io, { ...summary(token), tokenSinkFile: sinkFile });
    return 0;
  } finally {
    await credentials.close();
  }
}

/** A token to log out, read from its file when the time comes; `undefined` secret when it could not be read. */
async function tokenFromFile(file: string): Promise<{ from: string; secret?: string; error?: unknown }> {
  try {
    const secret = await readTokenFile(file, 'token file');
    registerSecret(secret);
    return { from: file, secret };
  } catch (error) {
    return { from: file, error };
  }
}

/**
 * Logs out each token, continuing past failures (a token already gone counts as done): one stdout line per token
 * logged out, one stderr line per failure. Returns the number of failures.
 */
async function logoutEach(
  ctx: CommandContext,
  acl: ConsulAclClient,
  tokens: readonly { from: string; secret?: string; error?: unknown }[],
  line: (fields: Record<string, unknown>) => Record<string, unknown>,
): Promise<number> {
  const readable = tokens.filter((t) => t.secret !== undefined);
  const failures = new Map<string, unknown>(tokens.filter((t) => t.secret === undefined).map((t) => [t.from, t.error]));
  for (const f of await logoutAll(
    readable.map((t) => ({ name: t.from, acl, token: t.secret as string })),
    ctx.logger,
  )) {
    failures.set(f.name, f.error);
  }
  for (const t of tokens) {
    const error = failures.get(t.from);
    if (error === undefined) printLine(ctx.io, line({ loggedOut: true, token: t.from }));
    else ctx.io.stderr(`${errorLine(ctx.command, error)} (${t.from})\n`);
  }
  return failures.size;
}

/** `consul logout`: every -token-file, else the token from the environment. @internal */
export async function logout(ctx: CommandContext): Promise<number> {
  const files = (ctx.values['token-file'] as string[] | undefined) ?? [];
  let tokens: { from: string; secret?: string; error?: unknown }[];
  if (files.length > 0) {
    tokens = await Promise.all(files.map(tokenFromFile));
  } else {
    const found = await envTokenSecret(ctx);
    registerSecret(found.secret);
    tokens = [found];
  }
  const failed = await logoutEach(ctx, consulAclClient(connection(ctx)), tokens, (fields) => fields);
  return failed > 0 ? 1 : 0;
}

/**
 * `consul run`: log in, keep the sink current, log out everything at the end. `stop` has listened since the command
 * began.
 * @internal
 */
export async function runConsul(ctx: CommandContext, stop: StopListener): Promise<number> {
  const { io, values, logger } = ctx;
  const { sinkFile, credentials, options } = loginOptions(ctx);
  const graceMs = values['old-token-grace-ms'] as number;
  const tokenFiles = (values['token-file'] as string[] | undefined) ?? [];
  let provider: ConsulTokenProvider | undefined;
  let backstop: ReturnType<typeof expiryBackstop> | undefined;
  let logoutFailures = 0;
  const end = await superviseRun(stop, async ({ signal, fail }) => {
    backstop = expiryBackstop('the Consul token', fail);
    let lastError: unknown;
    let current: ConsulToken | undefined;
    const tokens = consulTokenProvider({
      ...options,
      logout: { supersededGraceMs: graceMs },
      onLogout: (e) => {
        if (e.error === undefined) {
          printLine(io, { event: 'logged-out', accessorId: e.accessorId, reason: e.reason });
          return;
        }
        logoutFailures++;
        printLine(io, { event: 'logout-failed', accessorId: e.accessorId, reason: e.reason, code: errorCode(e.error) });
      },
      // The error behind each event (onError is called just before it), for the event's line.
      onError: (error) => {
        lastError = error;
      },
      onEvent: (event) => {
        // Before the first token a failure ends start-up by itself (get() rejects).
        if (current === undefined) return;
        const end = onProviderEvent(
          io,
          event.type === 'refresh-failed' ? { ...event, error: lastError } : event,
          undefined,
        );
        if (end) fail(end);
      },
    });
    provider = tokens;
    tokens.subscribe((token) => {
      const previous = current;
      current = token;
      printLine(io, {
        event: previous === undefined ? 'token' : 'rotated',
        ...summary(token),
        tokenSinkFile: sinkFile,
        ...(previous === undefined ? {} : { previousAccessorId: previous.accessorId }),
      });
      backstop?.set(token.expiresAt);
    });
    await tokens.get({ signal });
  });
  backstop?.clear();
  // Every token this run made: the one in use, replaced ones in their grace period, late login answers.
  const closed = await provider?.close().then(
    () => undefined,
    (error: unknown) => error,
  );
  await credentials.close();
  if ('error' in end) throw end.error;
  // health-sync's part: the tokens other containers' logins made, read now (they may have been rewritten).
  const extra = await Promise.all(tokenFiles.map(tokenFromFile));
  const failedFiles = await logoutEach(ctx, consulAclClient(connection(ctx)), extra, (fields) => ({
    event: 'logged-out',
    ...fields,
  }));
  const failed = failedFiles + (closed === undefined ? 0 : Math.max(1, logoutFailures));
  logger.info(`received ${end.stopped}, stopped`);
  printLine(io, { event: 'stopped', signal: end.stopped, ...(failed > 0 ? { failedLogouts: failed } : {}) });
  if (failed > 0) {
    throw new IdentityError(
      'LOGOUT_FAILED',
      `${failed} logout(s) failed at ${end.stopped} (each is named on a line above)${
        closed instanceof Error ? `: ${closed.message}` : ''
      }`,
    );
  }
  return 0;
}

/** `consul wait`: consul-login's replication wait on a SecretID from a file or the environment. @internal */
export async function wait(ctx: CommandContext): Promise<number> {
  const { secret, from } = await tokenSecret(ctx);
  const token = await waitForReplication(consulAclClient(connection(ctx)), secret, {
    attempts: ctx.values.attempts as number,
    intervalMs: ctx.values['interval-ms'] as number,
    timeoutMs: ctx.values['max-wait-ms'] as number,
    description: `the token from ${from}`,
  });
  printLine(ctx.io, { replicated: true, ...summary(token) });
  return 0;
}
