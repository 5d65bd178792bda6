/**
 * `ecs-identity agent`: one process for a task's whole identity. It reads the task metadata once, obtains every
 * credential the configuration declares, writes each to its files, renders the templates, and then either exits
 * (init mode, `-exit-after-render`) or keeps everything fresh until SIGTERM, when it logs the Consul tokens out and
 * deletes the Athenz instance record if asked.
 *
 * Every change goes through one queue, so two writers never race for a file: a new credential is written to its
 * files, then the templates that read it are rendered again (and their commands run or processes signalled).
 *
 * Its life is the CLI's long-running lifecycle (`long-running.ts`, as `athenz run` and `consul run`): the stop
 * listener from the first moment, start-up told to give up at a stop or a fatal error, cleanup before the status.
 * The providers' refresh events are printed and judged by `run-events.ts`, as those commands do.
 * @packageDocumentation
 */
import type { ConsulToken, TokenLogoutEvent } from '@ecs-identity/consul-login';
import { logoutAll } from '@ecs-identity/consul-login';
import { type Credential, IdentityError, type Logger, type RefreshEvent } from '@ecs-identity/core';
import {
  type ContainerMetadata,
  containerCredentials,
  getContainerMetadata,
  getTaskMetadata,
  type TaskIdentity,
  taskIdentity,
} from '@ecs-identity/ecs-metadata';
import type { CommandContext } from '../command.js';
import { errorCode, errorMessage } from '../error-line.js';
import { UsageError } from '../flags.js';
import { type StopListener, superviseRun } from '../long-running.js';
import { printLine } from '../output.js';
import { expiryBackstop, onProviderEvent } from '../run-events.js';
import { type LoadedConfig, loadAgentConfig } from './config.js';
import {
  type AgentCredentials,
  buildCredentials,
  type CloseFailure,
  type CredentialEntry,
  type CredentialHooks,
} from './credentials.js';
import { keepStatusFile, startHealthServer } from './health.js';
import { type AgentMetrics, agentMetrics } from './metrics.js';
import { StatusBoard } from './status.js';
import { TemplateState } from './templates.js';
import type { CredentialFields, ViewSources } from './view.js';

/** What ends an init run that obtained and rendered everything: the agent's own stop, not a signal. */
const RENDERED = 'exit-after-render';

/** The stop listener of an init run: a signal, or the end of start-up (`done()`), whichever comes first. */
function initStop(stop: StopListener): { listener: StopListener; done(): void } {
  let done = () => {};
  const rendered = new Promise<string>((resolve) => {
    done = () => resolve(RENDERED);
  });
  return { listener: { stopped: Promise.race([stop.stopped, rendered]) }, done };
}

/** `error` with the credential's key in front of its message (its code kept). */
function about(key: string, error: unknown): unknown {
  if (!(error instanceof IdentityError)) return error;
  return new IdentityError(error.code, `${key}: ${error.message}`, { cause: error });
}

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
  agentUrl: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<{ task: TaskIdentity; fields: CredentialFields }> {
  const metadata = await getTaskMetadata({ env, agentUrl, logger, signal });
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
  /** Each credential as the queue has handled it (files written, templates rendered). */
  private readonly latest = new Map<string, Credential>();
  /** Each credential as its provider handed it out, before the queue got to it. */
  private readonly handed = new Map<string, Credential>();
  /** The error behind each credential's latest `refresh-failed` event (onError comes just before it). */
  private readonly lastErrors = new Map<string, unknown>();
  private readonly backstops = new Map<string, ReturnType<typeof expiryBackstop>>();
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
      else this.ctx.logger.error(errorMessage(e));
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

  /**
   * Subscribes to every credential: each new one is written, announced, and rendered; until a newer one comes, the
   * run ends if it expires (the last line of defence, whatever the provider's schedule did).
   */
  subscribe(): void {
    for (const entry of this.credentials.entries) {
      entry.provider.subscribe((credential) => {
        this.handed.set(entry.key, credential);
        this.backstopOf(entry.key).set(credential.expiresAt);
        this.enqueue(() => this.onCredential(entry, credential));
      });
    }
  }

  private backstopOf(key: string): ReturnType<typeof expiryBackstop> {
    let backstop = this.backstops.get(key);
    if (backstop === undefined) {
      backstop = expiryBackstop(key, (error) => {
        this.board.credentialExpired(key);
        const last = this.board.status.credentials[key]?.lastError;
        this.fail(
          last
            ? new IdentityError('EXPIRED', `${error.message} (last error: ${last.code}: ${last.message})`, {
                cause: error,
              })
            : error,
        );
      });
      this.backstops.set(key, backstop);
    }
    return backstop;
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
    if (this.running) await this.renderUsing(entry.key);
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
   * A logout a Consul provider did: a token replaced by a new login (after its grace period, so the files and
   * templates hold the new one by then), or a login whose answer came too late.
   */
  onLogout(key: string, event: TokenLogoutEvent): void {
    const { accessorId, reason, error } = event;
    if (error === undefined) this.say({ event: 'logged-out', credential: key, accessorId, reason });
    else this.say({ event: 'logout-failed', credential: key, accessorId, reason, ...this.failure(error) });
  }

  private failure(error: unknown): { code: string; message: string } {
    return { code: errorCode(error), message: errorMessage(error) };
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
        this.ctx.logger.error(`template ${t.spec.name}: ${errorMessage(e)}`);
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

  /** A failed fetch of `key`: the status notes it, and its `refresh-failed` event (next) tells it. */
  refreshFailed(key: string, error: unknown): void {
    this.lastErrors.set(key, error);
    if (IdentityError.is(error, 'CLOSED')) return; // a refresh cut short by the stop
    this.board.credentialFailed(key, error);
  }

  /**
   * A refresh event of `key`: one line (`refresh-failed`, `expiring`; a new credential has its own line), and the
   * end of the run when the SDK says the credential will expire before its next attempt. Before its first credential
   * a failure ends start-up by itself (get() rejects).
   */
  onEvent(key: string, event: RefreshEvent): void {
    if (!this.handed.has(key)) return;
    const failed = event.type === 'refresh-failed';
    if (failed && IdentityError.is(this.lastErrors.get(key), 'CLOSED')) return;
    // The line names the credential by its key: two Consul logins are two providers both called "consul token".
    const end = onProviderEvent(
      this.ctx.io,
      { ...event, provider: key, ...(failed ? { error: this.lastErrors.get(key) } : {}) },
      undefined,
    );
    if (end) this.fail(about(key, end));
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
    for (const backstop of this.backstops.values()) backstop.clear();
  }

  /**
   * The Consul tokens in use (the newest each provider handed out, written or not), in reverse configuration order
   * (the service token before the client token).
   */
  private tokensToLogOut(): {
    name: string;
    acl: AgentCredentials['consulLogins'][number]['acl'];
    token: ConsulToken;
  }[] {
    return this.credentials.consulLogins
      .filter((l) => this.handed.has(l.key))
      .map((l) => ({ name: l.key, acl: l.acl, token: this.handed.get(l.key) as ConsulToken }))
      .reverse();
  }

  /** Logs the tokens in use out (the providers have logged out the rest); what failed, by key. */
  async logOut(): Promise<CloseFailure[]> {
    const targets = this.tokensToLogOut();
    const failed = await logoutAll(targets, this.ctx.logger);
    for (const t of targets) {
      const accessorId = t.token.accessorId;
      const failure = failed.find((f) => f.name === t.name);
      this.say({
        event: failure ? 'logout-failed' : 'logged-out',
        credential: t.name,
        accessorId,
        reason: 'close',
        ...(failure ? this.failure(failure.error) : {}),
      });
    }
    return failed.map((f) => ({ key: f.name, error: f.error }));
  }

  /** True once the provider of `key` has handed out a credential. */
  has(key: string): boolean {
    return this.handed.has(key);
  }
}

/** The hooks of `key`'s provider, for the agent made once the providers exist (none fetches before). */
function hooksOf(agent: () => Agent | undefined, key: string, metrics: AgentMetrics): CredentialHooks {
  const m = metrics.of(key);
  return {
    onError: (error) => agent()?.refreshFailed(key, error),
    onEvent: (event) => agent()?.onEvent(key, event),
    onLogout: (event) => agent()?.onLogout(key, event),
    ...(m === undefined ? {} : { metrics: m }),
  };
}

/**
 * `ecs-identity agent run` (also `ecs-identity agent -config FILE`). `stop` has listened since the command began.
 * @internal
 */
export async function runAgentCommand(ctx: CommandContext, stop: StopListener): Promise<number> {
  const file = ctx.values.config;
  if (typeof file !== 'string' || file === '')
    throw new UsageError('-config is required (the agent configuration file)');
  const init = ctx.values['exit-after-render'] === true;
  const loaded = await loadAgentConfig(file);
  // Before any network call too: a metrics section without @opentelemetry/api is a configuration error.
  const metrics = await agentMetrics(loaded.config.metrics);
  return run(ctx, loaded, init, stop, metrics);
}

async function run(
  ctx: CommandContext,
  loaded: LoadedConfig,
  init: boolean,
  stop: StopListener,
  metrics: AgentMetrics,
): Promise<number> {
  const { io, logger } = ctx;
  const { config } = loaded;
  const env = io.env;
  const agentUrl = config.ecsAgentUrl ?? (ctx.values['ecs-agent-url'] as string);
  const aws = containerCredentials({ env, agentUrl, refresh: { background: false }, logger });
  let credentials: AgentCredentials | undefined;
  let agent: Agent | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  let offHangup = () => {};
  const initEnd = init ? initStop(stop) : undefined;

  const end = await superviseRun(initEnd?.listener ?? stop, async (control) => {
    const { task, fields } = await step('task metadata', () => readTask(env, agentUrl, logger, control.signal));
    credentials = await step('configuration', () =>
      buildCredentials({
        config,
        task,
        env,
        aws,
        logger,
        hooks: (key) => hooksOf(() => agent, key, metrics),
        deleteIdentityOnClose: !init && config.athenz?.deleteOnExit === true,
      }),
    );
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
    if (initEnd) {
      initEnd.done();
      return;
    }
    const onHangup = () => a.rotate();
    process.on('SIGHUP', onHangup);
    offHangup = () => process.off('SIGHUP', onHangup);
  });

  // Cleanup. Init mode that succeeded leaves everything in place (the tokens and certificates are for the task);
  // otherwise the tokens are logged out and, when asked, the instance record deleted.
  offHangup();
  agent?.board.setPhase('stopping');
  agent?.stopTimers();
  const keep = 'stopped' in end && end.stopped === RENDERED;
  const failures: CloseFailure[] = [];
  const deleting = !keep && config.athenz?.deleteOnExit === true && agent?.has('athenz.identity') === true;
  if (credentials) {
    const closed = await credentials.close();
    failures.push(...closed);
    if (deleting && !closed.some((f) => f.key === 'athenz.identity')) {
      printLine(io, { event: 'deleted', credential: 'athenz.identity' });
    }
  }
  if (!keep && agent) failures.push(...(await agent.logOut()));
  metrics.close();
  await aws.close();
  for (const close of closers.reverse()) await close();

  if ('error' in end) throw end.error;
  if (keep) return 0;
  printLine(io, { event: 'stopped', signal: end.stopped });
  // An init run stopped before it was done has not rendered everything: the containers that depend on it must not start.
  if (init) {
    throw new IdentityError('ABORTED', `stopped by ${end.stopped} before everything was obtained and rendered`);
  }
  if (failures.length > 0) {
    const each = failures.map((f) => `${f.key}: ${errorCode(f.error)}: ${errorMessage(f.error)}`);
    throw new IdentityError('LOGOUT_FAILED', `at exit: ${each.join('; ')}`);
  }
  return 0;
}
