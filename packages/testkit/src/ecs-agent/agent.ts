/**
 * A fake ECS agent on 127.0.0.1: task metadata v4 / v3 / v2 and the task-role credentials endpoint, with the
 * environment a real task would see, fault injection and a request log without secrets.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '@ecs-identity/core';
import { withAsyncDispose } from '@ecs-identity/core/internal';
import { type Fault, FaultSlot, faultBeforeAnswer, sendBody } from '../aws/faults.js';
import { startLoopbackServer } from '../aws/loopback-server.js';
import { containerDocument, type TaskFacts, taskDocument } from './documents.js';

/** Task-role credentials as a source hands them to the agent (`expiration` or `expiresAt`). @public */
export interface EcsAgentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  expiresAt?: Date;
}

/**
 * A fault for the fake agent. `match` is tested against the endpoint name: `v4/task`, `v4/taskWithTags`,
 * `v4/container`, the same for `v3/`, `v2/metadata`, `v2/metadataWithTags`, `v2/container`, `credentials`.
 * @public
 */
export interface EcsAgentFault extends Fault {
  /** Answer 200 with a body that is not JSON. */
  invalidJson?: boolean;
}

/** @public */
export interface StartEcsAgentOptions {
  /** Default `FARGATE`. */
  launchType?: 'EC2' | 'FARGATE';
  /** Default `aws`. */
  partition?: string;
  /** Default `us-west-2`. */
  region?: string;
  /** Default `123456789012`. */
  accountId?: string;
  /** Default `default`. */
  clusterName?: string;
  /** `new` (`task/<cluster>/<32 hex>`, default) or `old` (`task/<uuid>`). */
  arnFormat?: 'new' | 'old';
  /** Default: 32 random hex characters (new format) or a random UUID (old format). */
  taskId?: string;
  /** Default `sports-api`. */
  family?: string;
  /** Default `7`. */
  revision?: string;
  /** Default `<region>a`. */
  availabilityZone?: string;
  /** Default `app`. */
  containerName?: string;
  /** Task tags (served by `/taskWithTags`). Default `{ team: 'sports' }`. */
  tags?: Record<string, string>;
  /** Which metadata endpoints exist (and appear in `env`). Default all three; `['v2']` is an old Fargate platform. */
  metadataVersions?: ReadonlyArray<'v4' | 'v3' | 'v2'>;
  /**
   * The task role. Default `arn:<partition>:iam::<account>:role/ecs-task-role`. `null`: no task role, so no
   * credentials endpoint and no credentials variables.
   */
  taskRoleArn?: string | null;
  /** Where task-role credentials come from (e.g. the fake AWS's `issueRoleCredentials`). Default: random ones. */
  credentials?: (roleArn: string) => Promise<EcsAgentCredentials>;
  /** Lifetime of the agent's own random credentials. Default 6 hours (what ECS hands out). */
  credentialsLifetimeMs?: number;
  /** The agent serves fresh credentials once the current ones have less than this left. Default 15 minutes. */
  rotateBeforeMs?: number;
  /**
   * How `env` points at the credentials: `full` (default: `AWS_CONTAINER_CREDENTIALS_FULL_URI`, works as is) or
   * `relative` (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, as on a real task; clients need the agent's URL as base).
   */
  credentialsUri?: 'full' | 'relative';
  /**
   * The token the credentials endpoint requires in `Authorization`. Default: a random one (given in `env` as
   * `AWS_CONTAINER_AUTHORIZATION_TOKEN`). `null`: no token required (a real ECS task's relative URI needs none).
   */
  authToken?: string | null;
  /** The agent's time (credential expiry, rotation). Default the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/** One request the agent handled, without secrets (the credentials id in the path is masked). @public */
export interface EcsAgentRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** `v4/task`, `v3/container`, `v2/metadata`, `credentials`, ... or `unknown`. */
  readonly endpoint: string;
  readonly authorization: 'none' | 'valid' | 'invalid';
  readonly status: number;
  /** What fault was applied, if any. */
  readonly fault?:
    | 'status'
    | 'reset'
    | 'hang'
    | 'truncate'
    | 'resetMidBody'
    | 'malformed'
    | 'padded'
    | 'invalidJson'
    | 'delay';
}

/** A running fake ECS agent. @public */
export interface EcsAgent {
  /** `http://127.0.0.1:<port>`: also the base for v2 metadata and relative credentials URIs. */
  readonly url: string;
  /** The environment a task would see (with loopback URLs): metadata URIs, credentials URI and token, region... */
  readonly env: Readonly<Record<string, string>>;
  readonly taskArn: string;
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly taskId: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly launchType: 'EC2' | 'FARGATE';
  /** The task role, or undefined when the task has none. */
  readonly roleArn: string | undefined;
  /** The full credentials URL (undefined without a task role). */
  readonly credentialsUrl: string | undefined;
  /** The token the credentials endpoint requires (undefined when none). */
  readonly authToken: string | undefined;
  /** Requests handled so far (no secrets). */
  readonly requests: readonly EcsAgentRequest[];
  /** How many credential sets have been issued. */
  readonly credentialsIssued: number;
  /** Requests received and not yet answered (e.g. held by a `delayMs` fault). */
  readonly inFlight: number;
  /** The task document the agent serves for v4 `/task`. */
  taskMetadata(version?: 'v2' | 'v3' | 'v4'): Record<string, unknown>;
  /** Injects faults (the first matching one applies); `undefined` clears them all. */
  setFault(fault: EcsAgentFault | readonly EcsAgentFault[] | undefined): void;
  /** The next credentials request gets a new set. */
  rotateCredentials(): void;
  /** Changes the required token (e.g. to test a token file being re-read). */
  setAuthToken(token: string | null): void;
  /** Stops the server and closes every socket. Idempotent. */
  close(): Promise<void>;
  /** The same as `close()`, so that `await using` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

const HOUR = 3600_000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomKeyId(): string {
  let out = 'ASIA';
  for (const b of randomBytes(16)) out += ALNUM[b & 31];
  return out;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Starts a fake ECS agent on 127.0.0.1 (ephemeral port).
 *
 * Serves `GET /v4/<id>` (container), `/v4/<id>/task`, `/v4/<id>/taskWithTags`, the same under `/v3/<id>`,
 * `/v2/metadata`, `/v2/metadataWithTags`, `/v2/metadata/<id>` (container) and `/v2/credentials/<credentials-id>`.
 * The credentials endpoint requires the configured `Authorization` token (401 otherwise), answers an unknown id
 * with 400 like the agent, and returns `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration` (RFC 3339),
 * `RoleArn` and `AccountId`. The agent's own credentials are random; pass `credentials` to hand out ones another
 * fake recognises (`credentials: async (arn) => aws.issueRoleCredentials(arn)`).
 *
 * @example
 * ```ts
 * const agent = await startEcsAgent({ launchType: 'FARGATE', arnFormat: 'new' });
 * const task = await getTaskMetadata({ env: agent.env, agentUrl: agent.url });
 * const creds = await containerCredentials({ env: agent.env }).get();
 * await agent.close();
 * ```
 * @public
 */
export async function startEcsAgent(options: StartEcsAgentOptions = {}): Promise<EcsAgent> {
  const clock = options.clock ?? systemClock;
  const partition = options.partition ?? 'aws';
  const region = options.region ?? 'us-west-2';
  const accountId = options.accountId ?? '123456789012';
  const clusterName = options.clusterName ?? 'default';
  const arnFormat = options.arnFormat ?? 'new';
  const taskId = options.taskId ?? (arnFormat === 'new' ? randomBytes(16).toString('hex') : randomUUID());
  const launchType = options.launchType ?? 'FARGATE';
  const versions = new Set(options.metadataVersions ?? ['v4', 'v3', 'v2']);
  const roleArn =
    options.taskRoleArn === null
      ? undefined
      : (options.taskRoleArn ?? `arn:${partition}:iam::${accountId}:role/ecs-task-role`);
  let authToken: string | undefined =
    options.authToken === null ? undefined : (options.authToken ?? randomBytes(24).toString('base64url'));
  const lifetimeMs = options.credentialsLifetimeMs ?? 6 * HOUR;
  const rotateBeforeMs = options.rotateBeforeMs ?? 15 * 60_000;
  const credentialsId = randomUUID();
  const dockerId = `${taskId.replace(/-/g, '').slice(0, 32)}-${randomBytes(4).readUInt32BE(0)}`;

  const taskArn =
    arnFormat === 'new'
      ? `arn:${partition}:ecs:${region}:${accountId}:task/${clusterName}/${taskId}`
      : `arn:${partition}:ecs:${region}:${accountId}:task/${taskId}`;
  const clusterArn = `arn:${partition}:ecs:${region}:${accountId}:cluster/${clusterName}`;
  const facts: TaskFacts = {
    partition,
    region,
    accountId,
    clusterName,
    taskId,
    taskArn,
    clusterArn,
    family: options.family ?? 'sports-api',
    revision: options.revision ?? '7',
    launchType,
    availabilityZone: options.availabilityZone ?? `${region}a`,
    containerName: options.containerName ?? 'app',
    dockerId,
    containerArn: `arn:${partition}:ecs:${region}:${accountId}:container/${clusterName}/${taskId}/${randomUUID()}`,
    tags: options.tags ?? { team: 'sports' },
    startedAt: new Date(clock.now()),
  };

  const source =
    options.credentials ??
    (async (): Promise<EcsAgentCredentials> => ({
      accessKeyId: randomKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(300).toString('base64'),
      expiration: new Date(clock.now() + lifetimeMs),
    }));
  let current: { creds: EcsAgentCredentials; expiresAt: number } | undefined;
  let issuing: Promise<{ creds: EcsAgentCredentials; expiresAt: number }> | undefined;
  let issued = 0;

  async function currentCredentials() {
    if (current !== undefined && current.expiresAt - clock.now() > rotateBeforeMs) return current;
    issuing ??= (async () => {
      try {
        const creds = await source(roleArn as string);
        const expiry = creds.expiration ?? creds.expiresAt;
        if (!(expiry instanceof Date)) throw new Error('the credentials source gave no expiration');
        issued += 1;
        current = { creds, expiresAt: expiry.getTime() };
        return current;
      } finally {
        issuing = undefined;
      }
    })();
    return issuing;
  }

  const requests: EcsAgentRequest[] = [];
  let faults: FaultSlot[] = [];

  function route(path: string): { endpoint: string; answer?: () => Promise<{ status: number; body: unknown }> } {
    const json = (body: unknown) => async () => ({ status: 200, body });
    for (const version of ['v4', 'v3'] as const) {
      const prefix = `/${version}/${dockerId}`;
      if (!versions.has(version) || !path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      if (rest === '') return { endpoint: `${version}/container`, answer: json(containerDocument(facts, version)) };
      if (rest === '/task') return { endpoint: `${version}/task`, answer: json(taskDocument(facts, version, false)) };
      if (rest === '/taskWithTags') {
        return { endpoint: `${version}/taskWithTags`, answer: json(taskDocument(facts, version, true)) };
      }
    }
    if (versions.has('v2') && path === '/v2/metadata') {
      return { endpoint: 'v2/metadata', answer: json(taskDocument(facts, 'v2', false)) };
    }
    if (versions.has('v2') && path === `/v2/metadata/${dockerId}`) {
      return { endpoint: 'v2/container', answer: json(containerDocument(facts, 'v2')) };
    }
    if (versions.has('v2') && path === '/v2/metadataWithTags') {
      return { endpoint: 'v2/metadataWithTags', answer: json(taskDocument(facts, 'v2', true)) };
    }
    if (path.startsWith('/v2/credentials')) {
      return {
        endpoint: 'credentials',
        answer: async () => {
          // What the ECS agent answers for an unknown or missing credentials id.
          if (roleArn === undefined || path !== `/v2/credentials/${credentialsId}`) {
            return {
              status: 400,
              body: {
                code: 'InvalidIdInRequest',
                message: 'CredentialsV2Request: Credentials not found',
                HTTPErrorCode: 400,
              },
            };
          }
          const { creds, expiresAt } = await currentCredentials();
          const body: Record<string, string> = {
            RoleArn: roleArn,
            AccessKeyId: creds.accessKeyId,
            SecretAccessKey: creds.secretAccessKey,
            Expiration: rfc3339(new Date(expiresAt)),
            AccountId: accountId,
          };
          if (creds.sessionToken !== undefined) body.Token = creds.sessionToken;
          return { status: 200, body };
        },
      };
    }
    return { endpoint: 'unknown' };
  }

  let inFlight = 0;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight += 1;
    try {
      await answerRequest(req, res);
    } finally {
      inFlight -= 1;
    }
  }

  async function answerRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    const { endpoint, answer } = route(path);
    const given = req.headers.authorization;
    const authorization: EcsAgentRequest['authorization'] =
      given === undefined ? 'none' : authToken !== undefined && sameToken(given, authToken) ? 'valid' : 'invalid';
    const record = (status: number, fault?: EcsAgentRequest['fault']) => {
      requests.push({
        at: clock.now(),
        method: req.method ?? 'GET',
        path: path.startsWith('/v2/credentials/') ? '/v2/credentials/<id>' : path,
        endpoint,
        authorization,
        status,
        ...(fault === undefined ? {} : { fault }),
      });
    };
    const send = (status: number, body: unknown, fault?: EcsAgentFault) => {
      sendBody(res, status, { 'Content-Type': fault?.contentType ?? 'application/json' }, JSON.stringify(body), fault);
    };

    let fault: EcsAgentFault | undefined;
    for (const slot of faults) {
      fault = slot.take(endpoint) as EcsAgentFault | undefined;
      if (fault !== undefined) break;
    }
    const before = await faultBeforeAnswer(req, fault);
    if (before !== undefined) {
      record(0, before);
      return;
    }
    if (fault?.status !== undefined) {
      record(fault.status, 'status');
      const body = fault.body ?? JSON.stringify({ code: 'InternalError', message: 'injected fault' });
      sendBody(res, fault.status, { 'Content-Type': fault.contentType ?? 'application/json' }, body, fault);
      return;
    }
    if (req.method !== 'GET') {
      record(405);
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain' }).end('method not allowed');
      return;
    }
    if (answer === undefined) {
      record(404);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
      return;
    }
    if (endpoint === 'credentials' && authToken !== undefined && authorization !== 'valid') {
      record(401);
      send(401, {
        code: 'AccessDenied',
        message: given === undefined ? 'Authorization header is missing' : 'Authorization token is not valid',
      });
      return;
    }
    const { status, body } = await answer();
    const faultName = fault?.invalidJson
      ? 'invalidJson'
      : fault?.truncate
        ? 'truncate'
        : fault?.resetMidBody
          ? 'resetMidBody'
          : fault?.malformed
            ? 'malformed'
            : fault?.padTo !== undefined
              ? 'padded'
              : fault?.delayMs
                ? 'delay'
                : undefined;
    record(status, faultName);
    if (fault?.invalidJson) {
      sendBody(res, 200, { 'Content-Type': 'application/json' }, '<html>not json</html>');
      return;
    }
    send(status, body, fault);
  }

  const server = await startLoopbackServer(handle);
  const url = server.url;
  const credentialsUrl = roleArn === undefined ? undefined : `${url}/v2/credentials/${credentialsId}`;

  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: launchType === 'FARGATE' ? 'AWS_ECS_FARGATE' : 'AWS_ECS_EC2',
    ECS_AGENT_URI: `${url}/api/${dockerId}`,
  };
  if (versions.has('v4')) env.ECS_CONTAINER_METADATA_URI_V4 = `${url}/v4/${dockerId}`;
  if (versions.has('v3')) env.ECS_CONTAINER_METADATA_URI = `${url}/v3/${dockerId}`;
  if (roleArn !== undefined) {
    if ((options.credentialsUri ?? 'full') === 'full')
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = credentialsUrl as string;
    else env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = `/v2/credentials/${credentialsId}`;
    if (authToken !== undefined) env.AWS_CONTAINER_AUTHORIZATION_TOKEN = authToken;
  }
  Object.freeze(env);

  return withAsyncDispose<Omit<EcsAgent, typeof Symbol.asyncDispose>>({
    url,
    env,
    taskArn,
    clusterArn,
    clusterName,
    taskId,
    region,
    accountId,
    partition,
    launchType,
    roleArn,
    credentialsUrl,
    get authToken() {
      return authToken;
    },
    requests,
    get credentialsIssued() {
      return issued;
    },
    get inFlight() {
      return inFlight;
    },
    taskMetadata: (version = 'v4') => taskDocument(facts, version, false),
    setFault(fault) {
      const list = fault === undefined ? [] : Array.isArray(fault) ? fault : [fault as EcsAgentFault];
      faults = list.map((f) => {
        const slot = new FaultSlot();
        slot.set(f);
        return slot;
      });
    },
    rotateCredentials() {
      current = undefined;
    },
    setAuthToken(token) {
      authToken = token ?? undefined;
    },
    close: () => server.close(),
  });
}
