/**
 * `ecs-identity agent`: one process for a task's whole identity. It reads the task metadata once, obtains every
 * credential the configuration declares, writes each to its files, renders the templates, and then either exits
 * (init mode, `-exit-after-render`) or keeps everything fresh until SIGTERM, when it logs the Consul tokens out and
 * deletes the Athenz instance record if asked.
 *
 * Every change goes through one queue, so two writers never race for a file: a new credential is written to its
 * files, then the templates that read it are rendered again (and their commands run or processes signalled).
 * @packageDocumentation
 */
import type { ConsulToken } from '@ecs-identity/consul-login';
import { type LogoutTarget, logoutAll } from '@ecs-identity/consul-login/node';
import { type Credential, IdentityError, type Logger, scrubSecrets } from '@ecs-identity/core';
import {
  type ContainerMetadata,
  getContainerMetadata,
  getTaskMetadata,
  type TaskIdentity,
  taskIdentity,
} from '@ecs-identity/ecs-metadata';
import { containerCredentials } from '@ecs-identity/ecs-metadata/node';
import type { CommandContext } from '../command.js';
import { errorCode, oneLine } from '../error-line.js';
import { UsageError } from '../flags.js';
import { printLine } from '../output.js';
import { type LoadedConfig, loadAgentConfig } from './config.js';
import { type AgentCredentials, buildCredentials, type CredentialEntry } from './credentials.js';
import { keepStatusFile, startHealthServer } from './health.js';
import { superviseRun, withStopListener } from './lifecycle.js';
import { StatusBoard } from './status.js';
import { TemplateState } from './templates.js';
import type { CredentialFields, ViewSources } from './view.js';

/** The largest delay setTimeout takes; a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs `work` and rethrows its failure with the step named in front (its code kept). */
async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (IdentityError.is(e, 'ABORTED', 'CLOSED')) throw e;
    const message = e instanceof Error ? e.message : String(e);
    if (IdentityError.is(e)) throw new IdentityError(e.code, `${name}: ${message}`, { cause: e });
    throw new Error(`${name}: ${message}`, { cause: e });
  }
}

function stepName(entry: CredentialEntry): string {
  const [, second, third] = entry.key.split('.');
  switch (entry.kind) {
    case 'consul-token':
      return `consul login "${second}"`;
    case 'athenz-identity':
      return 'athenz identity';
    case 'athenz-role-certificate':
      return `athenz role certificate "${third}"`;
    default:
      return `athenz access token "${third}"`;
  }
}

function firstIPv4(networks: readonly Record<string, unknown>[] | undefined): string | undefined {
  for (const n of networks ?? []) {
    const list = n.IPv4Addresses;
    if (Array.isArray(list) && typeof list[0] === 'string' && list[0] !== '') return list[0];
  }
  return undefined;
}

/** The task's facts for templates: its identity plus this container's IPv4 address (as the seed's script reads it). */
async function readTask(
  env: Readonly<Record<string, string | undefined>>,
  v2BaseUrl: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<{ task: TaskIdentity; fields: CredentialFields }> {
  const metadata = await getTaskMetadata({ env, v2BaseUrl, logger, signal });
  const task = taskIdentity(metadata);
  let container: ContainerMetadata | undefined;
  if (env.ECS_CONTAINER_METADATA_URI_V4 || env.ECS_CONTAINER_METADATA_URI) {
    container = await getContainerMetadata({ env, logger, signal }).catch(() => undefined);
  }
  const ipv4 = firstIPv4(container?.Networks) ?? firstIPv4(metadata.Containers.flatMap((c) => c.Networks ?? []));
  return {
    task,
    fields: {
      region: task.region,
      accountId: task.accountId,
      partition: task.partition,
      taskId: task.taskId,
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      clusterName: task.clusterName,
      family: task.family,
      revision: task.revision,
      launchType: task.launchType,
      availabilityZone: task.availabilityZone,
      ipv4,
    },
  };
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The running agent: its credentials, templates and the queue every change goes through. */
class Agent {
  private readonly latest = new Map<string, Credential>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly templates: TemplateState[];
  private queue: Promise<void> = Promise.resolve();
  /** Failures of queued work during start-up (they fail the start). */
  private readonly startupErrors: unknown[] = [];
  private running = false;
  private sources!: ViewSources;

  constructor(
    private readonly ctx: CommandContext,
    loaded: LoadedConfig,
    private readonly credentials: AgentCredentials,
    readonly board: StatusBoard,
    private readonly fail: (error: unknown) => void,
  ) {
    this.templates = loaded.templates.map((t) => new TemplateState(t));
  }

  private say(event: Record<string, unknown>): void {
    printLine(this.ctx.io, event);
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((e) => {
      if (!this.running) this.startupErrors.push(e);
      else this.ctx.logger.error(oneLine(e instanceof Error ? e.message : String(e)));
    });
  }

  /** Idle: every queued change has been handled. Rethrows the first start-up failure. */
  async settled(): Promise<void> {
    await this.queue;
    if (this.startupErrors.length > 0) throw this.startupErrors[0];
  }

  setSources(task: CredentialFields): void {
    const credentials = new Map(
      this.credentials.entries.map((entry) => [
        entry.key,
        () => {
          const c = this.latest.get(entry.key);
          return c === undefined ? undefined : entry.fields(c);
        },
      ]),
    );
    this.sources = { task, env: definedEnv(this.ctx.io.env), credentials };
  }

  /** Subscribes to every credential: each new one is written, announced, watched for expiry, and rendered. */
  subscribe(): void {
    for (const entry of this.credentials.entries) {
      entry.provider.subscribe((credential) => this.enqueue(() => this.onCredential(entry, credential)));
    }
  }

  private async onCredential(entry: CredentialEntry, credential: Credential): Promise<void> {
    const previous = this.latest.get(entry.key);
    // During start-up the files wait until every template has rendered in memory (see start()).
    if (this.running) await this.writeSinks(entry, credential);
    this.latest.set(entry.key, credential);
    this.board.credentialObtained(entry.key, credential.expiresAt, entry.summary(credential));
    this.say({
      event: previous === undefined ? 'credential' : 'refreshed',
      credential: entry.key,
      ...entry.summary(credential),
      ...(entry.sinkPaths.length > 0 ? { files: entry.sinkPaths } : {}),
    });
    this.watchExpiry(entry, credential);
    if (this.running) await this.renderUsing(entry.key);
    if (previous !== undefined && entry.kind === 'consul-token') await this.logoutReplaced(entry.key, previous);
  }

  private async writeSinks(entry: CredentialEntry, credential: Credential): Promise<void> {
    try {
      await step(`${stepName(entry)}: files`, () => entry.writeSinks(credential));
    } catch (e) {
      this.board.credentialFailed(entry.key, e);
      throw e;
    }
  }

  /**
   * A Consul token replaced by a new login is logged out once the files and templates hold the new one.
   * TODO(merge): consul-login's own superseded-token logout (issue 11) replaces this.
   */
  private async logoutReplaced(key: string, token: Credential): Promise<void> {
    const login = this.credentials.consulLogins.find((l) => l.key === key);
    try {
      await login?.acl.logout(token as ConsulToken);
      this.say({ event: 'logged-out', credential: key, replaced: true });
    } catch (e) {
      if (!IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND')) {
        const message = oneLine(scrubSecrets(e instanceof Error ? e.message : String(e)));
        this.say({ event: 'logout-failed', credential: key, replaced: true, code: errorCode(e), message });
      }
    }
  }

  /** Fails the run when a credential reaches its expiry with no new one (the providers kept failing). */
  private watchExpiry(entry: CredentialEntry, credential: Credential): void {
    clearTimeout(this.expiryTimers.get(entry.key));
    const expiresAt = credential.expiresAt?.getTime();
    if (expiresAt === undefined) return;
    const check = () => {
      if (this.latest.get(entry.key) !== credential) return;
      const left = expiresAt - Date.now();
      if (left > 0) {
        this.expiryTimers.set(entry.key, setTimeout(check, Math.min(left, MAX_TIMER_MS)).unref());
        return;
      }
      this.board.credentialExpired(entry.key);
      const last = this.board.status.credentials[entry.key]?.lastError;
      this.fail(
        new IdentityError(
          'EXPIRED',
          `${entry.key} expired at ${new Date(expiresAt).toISOString()} and no new one could be obtained${
            last ? ` (last error: ${last.code}: ${last.message})` : ''
          }`,
        ),
      );
    };
    check();
  }

  /**
   * The end of start-up, in the queue (a credential that changes meanwhile is handled after): every template is
   * rendered in memory first, so a template that cannot render fails the start before any file is written; then each
   * credential's files, then the templates' files (with their commands and signals).
   */
  async start(): Promise<void> {
    const done = this.queue.then(async () => {
      const contents = this.templates.map((t) =>
        step(`template "${t.spec.name}"`, async () => t.prepare(this.sources)),
      );
      const rendered = await Promise.all(contents);
      for (const entry of this.credentials.entries) {
        const credential = this.latest.get(entry.key);
        if (credential !== undefined) await this.writeSinks(entry, credential);
      }
      for (const [i, t] of this.templates.entries()) {
        await step(`template "${t.spec.name}"`, () => this.write(t, rendered[i] as string, true));
      }
      this.running = true;
    });
    this.queue = done.catch(() => {});
    await done;
  }

  private async renderUsing(key: string): Promise<void> {
    for (const t of this.templates) {
      if (!t.uses(key)) continue;
      try {
        await this.render(t);
      } catch (e) {
        this.board.templateFailed(t.spec.name, e);
        this.say({ event: 'template-failed', template: t.spec.name, code: errorCode(e) });
        this.ctx.logger.error(`template ${t.spec.name}: ${oneLine((e as Error).message)}`);
      }
    }
  }

  private async render(t: TemplateState): Promise<void> {
    let content: string;
    try {
      content = t.prepare(this.sources);
    } catch (e) {
      this.board.templateFailed(t.spec.name, e);
      throw e;
    }
    await this.write(t, content, false);
  }

  private async write(t: TemplateState, content: string, first: boolean): Promise<void> {
    try {
      const outcome = await t.write(content, { env: this.ctx.io.env, logger: this.ctx.logger });
      this.board.templateRendered(t.spec.name, [...(t.used ?? [])]);
      if (outcome.written || first) {
        this.say({
          event: 'rendered',
          template: t.spec.name,
          destination: t.spec.destination,
          changed: outcome.written,
          ...(outcome.commandRan ? { commandRan: true } : {}),
          ...(outcome.signalled === undefined ? {} : { signalled: outcome.signalled }),
        });
      }
    } catch (e) {
      this.board.templateFailed(t.spec.name, e);
      throw e;
    }
  }

  /** A failed fetch of `key`: the status notes it; once running, an event line tells it (start-up fails instead). */
  refreshFailed(key: string, error: unknown): void {
    if (IdentityError.is(error, 'CLOSED')) return; // a refresh cut short by the stop
    this.board.credentialFailed(key, error);
    if (!this.running) return;
    const message = error instanceof Error ? error.message : String(error);
    this.say({
      event: 'refresh-failed',
      credential: key,
      code: errorCode(error),
      message: oneLine(scrubSecrets(message)),
    });
  }

  /**
   * SIGHUP: every Consul login and the Athenz identity are obtained anew now (role certificates and access tokens
   * follow the new certificate), through the providers, so the files and templates change as at a rotation.
   */
  rotate(): void {
    this.ctx.logger.info('SIGHUP: obtaining every credential anew');
    for (const entry of this.credentials.entries) {
      if (entry.kind !== 'consul-token' && entry.kind !== 'athenz-identity') continue;
      // A failure reaches refreshFailed through the provider's onError.
      entry.provider.get({ forceRefresh: true }).catch(() => {});
    }
  }

  stopTimers(): void {
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
  }

  /** The latest Consul tokens, in reverse configuration order (the service token before the client token). */
  tokensToLogOut(): LogoutTarget[] {
    return this.credentials.consulLogins
      .filter((l) => this.latest.has(l.key))
      .map((l) => ({ name: l.key, acl: l.acl, token: this.latest.get(l.key) as ConsulToken }))
      .reverse();
  }

  /** True once the credential `key` has been obtained. */
  has(key: string): boolean {
    return this.latest.has(key);
  }
}

/** `ecs-identity agent run` (also `ecs-identity agent -config FILE`). @internal */
export async function runAgentCommand(ctx: CommandContext): Promise<number> {
  const file = ctx.values.config;
  if (typeof file !== 'string' || file === '')
    throw new UsageError('-config is required (the agent configuration file)');
  const init = ctx.values['exit-after-render'] === true;
  return withStopListener(ctx.io, async (stop) => {
    const loaded = await loadAgentConfig(file);
    return run(ctx, loaded, init, stop);
  });
}

async function run(
  ctx: CommandContext,
  loaded: LoadedConfig,
  init: boolean,
  stop: Parameters<typeof superviseRun>[0],
): Promise<number> {
  const { io, logger } = ctx;
  const { config } = loaded;
  const env = io.env;
  const v2BaseUrl = config.ecsAgentUrl ?? (ctx.values['ecs-agent-url'] as string);
  const aws = containerCredentials({ env, relativeBaseUrl: v2BaseUrl, backgroundRefresh: false, logger });
  let credentials: AgentCredentials | undefined;
  let agent: Agent | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  let offHangup = () => {};

  const end = await superviseRun(
    stop,
    async (control) => {
      const { task, fields } = await step('task metadata', () => readTask(env, v2BaseUrl, logger, control.signal));
      credentials = await step('configuration', () =>
        buildCredentials({
          config,
          task,
          env,
          aws,
          logger,
          onError: (key, e) => agent?.refreshFailed(key, e),
          deleteIdentityOnClose: !init && config.athenz?.deleteOnExit === true,
        }),
      );
      // Seam for the metrics of issue 16 part B: `credentials.entries` (key, kind, provider) is what the agent hands
      // to the OpenTelemetry adapter, once it exists, to observe each provider's expiry and refreshes.
      const board = new StatusBoard(
        credentials.entries.map((e) => e.key),
        loaded.templates,
        config.health?.heartbeatSeconds ?? 30,
      );
      agent = new Agent(ctx, loaded, credentials, board, control.fail);
      agent.setSources(fields);
      if (config.health?.statusFile) {
        const writer = keepStatusFile(config.health.statusFile, board, logger);
        closers.push(async () => {
          writer.stop();
          await writer.flush();
        });
      }
      if (config.health?.port !== undefined) {
        const server = await step('health endpoint', () => startHealthServer(config.health?.port as number, board));
        closers.push(() => server.close());
      }
      agent.subscribe();
      const a = agent;
      await Promise.all(
        credentials.entries.map((entry) => step(stepName(entry), () => entry.provider.get({ signal: control.signal }))),
      );
      await a.settled();
      await a.start();
      board.setPhase('running');
      printLine(io, { event: 'ready', mode: init ? 'init' : 'daemon' });
      if (!init) {
        const onHangup = () => a.rotate();
        process.on('SIGHUP', onHangup);
        offHangup = () => process.off('SIGHUP', onHangup);
      }
    },
    init,
  );

  // Cleanup. Init mode that succeeded leaves everything in place (the tokens and certificates are for the task);
  // otherwise the tokens are logged out and, when asked, the instance record deleted.
  offHangup();
  agent?.board.setPhase('stopping');
  agent?.stopTimers();
  const keep = 'started' in end;
  const failures: string[] = [];
  const deleting = !keep && config.athenz?.deleteOnExit === true && agent?.has('athenz.identity') === true;
  try {
    await credentials?.close();
    if (deleting) printLine(io, { event: 'deleted', credential: 'athenz.identity' });
  } catch (e) {
    failures.push(`athenz.identity: ${errorCode(e)}: ${oneLine((e as Error).message)}`);
  }
  if (!keep && agent && credentials) {
    const targets = agent.tokensToLogOut();
    const failed = await logoutAll(targets, logger);
    for (const t of targets) {
      if (!failed.some((f) => f.name === t.name)) printLine(io, { event: 'logged-out', credential: t.name });
    }
    for (const f of failed)
      failures.push(`${f.name}: logout: ${errorCode(f.error)}: ${oneLine((f.error as Error).message)}`);
  }
  await aws.close();
  for (const close of closers.reverse()) await close();

  if ('error' in end) throw end.error;
  if ('stopped' in end) printLine(io, { event: 'stopped', signal: end.stopped });
  // An init run stopped before it was done has not rendered everything: the containers that depend on it must not start.
  if ('stopped' in end && init) {
    throw new IdentityError('ABORTED', `stopped by ${end.stopped} before everything was obtained and rendered`);
  }
  if (failures.length > 0) {
    throw new IdentityError('LOGOUT_FAILED', `at exit: ${failures.join('; ')}`);
  }
  return 0;
}
