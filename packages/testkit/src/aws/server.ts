import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '@ecs-identity/core';
import { withAsyncDispose } from '@ecs-identity/core/internal';
import {
  ACTIONS,
  type ActionContext,
  type AwsService,
  assumedRoleArn,
  HANDLERS,
  IAM_NAMESPACE,
  IAM_VERSION,
  STS_NAMESPACE,
  STS_VERSION,
} from './actions.js';
import { AwsApiError } from './errors.js';
import { type Fault, FaultSlot, faultBeforeAnswer, sendBody } from './faults.js';
import { headerValues, readBody, startLoopbackServer } from './loopback-server.js';
import {
  type CallerIdentity,
  checkName,
  type FakeRole,
  type FakeUser,
  type IssuedCredentials,
  type KeyRecord,
  normalizePath,
  type RoleSpec,
  randomId,
  randomSecret,
  randomSessionToken,
  type UserSpec,
} from './principals.js';
import { verifySigV4 } from './sigv4-verifier.js';
import { errorResponseXml, queryResponseXml } from './xml.js';

/** @public */
export interface StartAwsOptions {
  /** The region STS serves on the emulator's own URL. Default `us-west-2`. */
  region?: string;
  /** Default `123456789012`. */
  accountId?: string;
  /** Default `aws`. */
  partition?: string;
  /** Roles to create at start (see {@link AwsEmulator.addRole}). */
  roles?: RoleSpec[];
  /** The IAM user behind {@link AwsEmulator.staticCredentials}. Default `{ name: 'testkit-admin' }`. */
  staticUser?: UserSpec;
  /** Fixed long-term keys for the static user (e.g. the SigV4 suite's `AKIDEXAMPLE`); random by default. */
  staticCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** The emulator's time (session expiry, signature skew). Default the system clock. */
  clock?: Pick<Clock, 'now'>;
  /** Allowed signature clock skew. Default 15 minutes, like AWS. */
  maxSkewMs?: number;
  /**
   * Whether `caller` may run `iam:GetRole` / `iam:GetUser` on `resourceArn`. Default: every principal of the account
   * may (a role needs `iam:GetRole` on itself for Consul's entity details; deny it here to test that failure).
   */
  iamAccess?: (caller: CallerIdentity, action: 'GetRole' | 'GetUser', resourceArn: string) => boolean;
  /** Called with every set of session credentials issued (AssumeRole, `issueRoleCredentials`): to check none leaks. */
  onIssue?: (credentials: IssuedCredentials) => void;
}

/** One handled request, without secrets (no keys, tokens or signatures). @public */
export interface AwsRequestRecord {
  readonly at: number;
  readonly method: string;
  /** The Host header as received (the original AWS host when a fake Consul forwarded the request). */
  readonly host: string;
  readonly service?: AwsService;
  readonly action?: string;
  readonly accessKeyId?: string;
  /** The caller's ARN when the signature verified. */
  readonly callerArn?: string;
  readonly status: number;
  readonly errorCode?: string;
}

/** @public */
export interface IssueRoleCredentialsOptions {
  /** Session lifetime. Default 6 hours (what the ECS agent hands out for task roles). */
  lifetimeMs?: number;
  /** Default: 32 random hex characters, like the ECS agent's task id session names. */
  sessionName?: string;
}

/**
 * A running fake of AWS STS (`GetCallerIdentity`, `AssumeRole`) and IAM (`GetRole`, `GetUser`) on the Query protocol.
 * @public
 */
export interface AwsEmulator {
  /** `http://127.0.0.1:<port>`: use as the STS and IAM endpoint. */
  readonly url: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** Long-term keys of {@link AwsEmulator.staticUser} (`AKIA...`, no session token). */
  readonly staticCredentials: IssuedCredentials;
  readonly staticUser: FakeUser;
  /** Every request handled so far (no secrets). */
  readonly requests: readonly AwsRequestRecord[];
  /** Creates a role (name unique); returns it with its ARN (`arn:aws:iam::<acct>:role<path><name>`) and `AROA...` id. */
  addRole(spec: RoleSpec): FakeRole;
  /** Creates a user with fresh long-term keys. */
  addUser(spec: UserSpec): { user: FakeUser; credentials: IssuedCredentials };
  role(name: string): FakeRole | undefined;
  /**
   * Issues session credentials for a role without an STS call: the source for a fake ECS agent's task-role
   * credentials. Throws when the role does not exist.
   */
  issueRoleCredentials(roleArn: string, options?: IssueRoleCredentialsOptions): IssuedCredentials;
  /** Makes an issued access key unknown (`InvalidClientTokenId` from then on). */
  revokeCredentials(accessKeyId: string): void;
  /** Injects a fault (match = the Action name); `undefined` clears it. */
  setFault(fault: Fault | undefined): void;
  /** Stops the server and closes every socket. */
  close(): Promise<void>;
  /** The same as `close()`, so that `await using` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

const TASK_ROLE_LIFETIME_MS = 6 * 3600_000;
const STS_HOST = /^sts(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?::443)?$/;
const GLOBAL_STS_HOST = /^sts\.amazonaws\.com(?::443)?$/;
const IAM_HOST = /^iam(?:-fips)?\.amazonaws\.com(?::443)?$/;

/**
 * Where a request was addressed. Requests a fake Consul forwards keep their AWS Host header, so the fake answers
 * as that endpoint would: the signature's scope must name the endpoint's service and region.
 */
function endpointOf(host: string, region: string, action: string | null) {
  const regional = STS_HOST.exec(host);
  if (regional) return { service: 'sts' as const, regions: [regional[1]!] };
  if (GLOBAL_STS_HOST.test(host)) return { service: 'sts' as const, regions: ['us-east-1'] };
  if (IAM_HOST.test(host)) return { service: 'iam' as const, regions: ['us-east-1'] };
  // The emulator's own URL serves both: the Action says which (unknown actions are reported after authentication).
  const service = (action !== null ? ACTIONS[action] : undefined) ?? 'sts';
  return { service, regions: service === 'iam' ? ['us-east-1'] : [region] };
}

/**
 * Starts a strict fake AWS on 127.0.0.1 (ephemeral port). Every request's SigV4 signature is recomputed with
 * `@smithy/signature-v4` from the credentials the fake issued (or the static ones) and must match; `X-Amz-Date` must be
 * within 15 minutes of the fake's clock; a session token must be the one issued with its key and unexpired. Answers are
 * AWS-shaped XML (`Content-Type: text/xml`), errors `ErrorResponse` XML with AWS's codes and statuses.
 *
 * @example
 * ```ts
 * const aws = await startAws({ region: 'us-west-2' });
 * const role = aws.addRole({ name: 'web', path: '/ecs/', tags: { 'consul.hashicorp.com.service-name': 'web' },
 *   trust: [aws.staticUser.arn] });
 * const creds = aws.issueRoleCredentials(role.arn); // what the ECS agent would hand the task
 * const sts = new STSClient({ region: aws.region, endpoint: aws.url, credentials: creds });
 * await aws.close();
 * ```
 * @public
 */
export async function startAws(options: StartAwsOptions = {}): Promise<AwsEmulator> {
  const region = options.region ?? 'us-west-2';
  const accountId = options.accountId ?? '123456789012';
  const partition = options.partition ?? 'aws';
  if (!/^\d{12}$/.test(accountId))
    throw new TypeError(`accountId must be 12 digits (got ${JSON.stringify(accountId)})`);
  const clock = options.clock ?? systemClock;
  const iamAccess = options.iamAccess ?? ((caller: CallerIdentity) => caller.account === accountId);
  const roles = new Map<string, FakeRole>();
  const users = new Map<string, FakeUser>();
  const keys = new Map<string, KeyRecord>();
  const requests: AwsRequestRecord[] = [];
  const faults = new FaultSlot();

  const addRole = (spec: RoleSpec): FakeRole => {
    const name = checkName(spec.name, 'role');
    if (roles.has(name)) throw new TypeError(`role ${name} already exists`);
    const path = normalizePath(spec.path, 'role');
    const max = spec.maxSessionDurationSeconds ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new TypeError(`role maxSessionDurationSeconds must be an integer in 3600..43200 (got ${max})`);
    }
    const role: FakeRole = {
      name,
      path,
      arn: `arn:${partition}:iam::${accountId}:role${path}${name}`,
      roleId: randomId('AROA', 17),
      tags: { ...spec.tags },
      maxSessionDurationSeconds: max,
      createdAt: new Date(clock.now()),
      trust: spec.trust ?? [],
    };
    roles.set(name, role);
    return role;
  };

  const newUser = (spec: UserSpec, fixed?: { accessKeyId: string; secretAccessKey: string }) => {
    const name = checkName(spec.name, 'user');
    if (users.has(name)) throw new TypeError(`user ${name} already exists`);
    const path = normalizePath(spec.path, 'user');
    const user: FakeUser = {
      name,
      path,
      arn: `arn:${partition}:iam::${accountId}:user${path}${name}`,
      userId: randomId('AIDA', 17),
      tags: { ...spec.tags },
      createdAt: new Date(clock.now()),
    };
    users.set(name, user);
    const accessKeyId = fixed?.accessKeyId ?? randomId('AKIA', 16);
    const secretAccessKey = fixed?.secretAccessKey ?? randomSecret();
    keys.set(accessKeyId, {
      accessKeyId,
      secretAccessKey,
      caller: { arn: user.arn, userId: user.userId, account: accountId, principalArn: user.arn, kind: 'user', user },
    });
    return { user, credentials: { accessKeyId, secretAccessKey, accountId } satisfies IssuedCredentials };
  };

  const issueSession = (role: FakeRole, sessionName: string, lifetimeMs: number): IssuedCredentials => {
    const accessKeyId = randomId('ASIA', 16);
    const secretAccessKey = randomSecret();
    const sessionToken = randomSessionToken();
    const expiresAt = clock.now() + lifetimeMs;
    const caller: CallerIdentity = {
      arn: assumedRoleArn(role, sessionName),
      userId: `${role.roleId}:${sessionName}`,
      account: accountId,
      principalArn: role.arn,
      kind: 'role-session',
      role,
    };
    keys.set(accessKeyId, { accessKeyId, secretAccessKey, sessionToken, expiresAt, caller });
    const issued = {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      expiresAt: new Date(expiresAt),
      roleArn: role.arn,
      accountId,
    };
    options.onIssue?.(issued);
    return issued;
  };

  for (const spec of options.roles ?? []) addRole(spec);
  const staticKeys = newUser(options.staticUser ?? { name: 'testkit-admin' }, options.staticCredentials);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = clock.now();
    const headers = headerValues(req);
    const host = headers.host?.[0] ?? '';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    const body = await readBody(req);

    const params = new URLSearchParams(query);
    const contentType = headers['content-type']?.[0] ?? '';
    if (body !== undefined && method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    }
    const action = params.get('Action');
    const endpoint = endpointOf(host, region, action);
    const namespace = endpoint.service === 'iam' ? IAM_NAMESPACE : STS_NAMESPACE;
    const requestId = randomUUID();
    let record: { service?: AwsService; accessKeyId?: string; callerArn?: string } = { service: endpoint.service };
    const log = (status: number, errorCode?: string) =>
      requests.push({
        at: started,
        method,
        host,
        ...(action !== null ? { action } : {}),
        ...record,
        status,
        ...(errorCode !== undefined ? { errorCode } : {}),
      });

    const fault = faults.take(action ?? '');
    const before = await faultBeforeAnswer(req, fault);
    if (before !== undefined) {
      log(0, before === 'hang' ? 'NoAnswer' : 'ConnectionReset');
      return;
    }
    const xmlHeaders = (ct?: string) => ({ 'Content-Type': ct ?? 'text/xml', 'x-amzn-RequestId': requestId });
    const sendError = (e: AwsApiError) => {
      log(e.status, e.code);
      sendBody(res, e.status, xmlHeaders(fault?.contentType), errorResponseXml(namespace, e, requestId), fault);
    };
    if (fault?.status !== undefined) {
      const code = fault.status === 429 || fault.status === 400 ? 'Throttling' : 'ServiceUnavailable';
      const message = code === 'Throttling' ? 'Rate exceeded' : 'Service is unable to handle request.';
      const text = fault.body ?? errorResponseXml(namespace, { type: 'Receiver', code, message }, requestId);
      log(fault.status, 'InjectedFault');
      sendBody(res, fault.status, xmlHeaders(fault.contentType), text, fault);
      return;
    }

    try {
      if (body === undefined) throw new AwsApiError('RequestEntityTooLarge', 'Request body too large', 413);
      const verified = await verifySigV4(
        { method, path, query, headers, body },
        {
          lookup: (id) => keys.get(id),
          now: clock.now(),
          ...(options.maxSkewMs !== undefined ? { maxSkewMs: options.maxSkewMs } : {}),
          service: endpoint.service,
          regions: endpoint.regions,
        },
      );
      const key = keys.get(verified.accessKeyId)!;
      record = { ...record, accessKeyId: key.accessKeyId, callerArn: key.caller.arn };
      const version = params.get('Version');
      const expectedVersion = endpoint.service === 'iam' ? IAM_VERSION : STS_VERSION;
      if (action === null) throw new AwsApiError('MissingAction', 'Missing Action', 400);
      const handler = HANDLERS[action];
      if (
        handler === undefined ||
        ACTIONS[action] !== endpoint.service ||
        (version !== null && version !== expectedVersion)
      ) {
        throw new AwsApiError(
          'InvalidAction',
          `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
          400,
        );
      }
      const ctx: ActionContext = {
        caller: key.caller,
        params,
        now: clock.now(),
        findRoleByArn: (arn) => [...roles.values()].find((r) => r.arn === arn),
        findRole: (name) => roles.get(name),
        findUser: (name) => users.get(name),
        issueSession,
        iamAccess: (caller, act, resource) => iamAccess(caller, act as 'GetRole' | 'GetUser', resource),
      };
      const result = handler(ctx);
      log(200);
      sendBody(res, 200, xmlHeaders(fault?.contentType), queryResponseXml(action, namespace, result, requestId), fault);
    } catch (e) {
      if (!(e instanceof AwsApiError)) throw e;
      sendError(e);
    }
  };

  const server = await startLoopbackServer(handle);
  return withAsyncDispose<Omit<AwsEmulator, typeof Symbol.asyncDispose>>({
    url: server.url,
    region,
    accountId,
    partition,
    staticCredentials: staticKeys.credentials,
    staticUser: staticKeys.user,
    requests,
    addRole,
    addUser: (spec) => newUser(spec),
    role: (name) => roles.get(name),
    issueRoleCredentials(roleArn, opts = {}) {
      const role = [...roles.values()].find((r) => r.arn === roleArn);
      if (role === undefined) throw new TypeError(`no role with ARN ${roleArn} in the fake AWS`);
      const sessionName = opts.sessionName ?? randomUUID().replaceAll('-', '');
      return issueSession(role, sessionName, opts.lifetimeMs ?? TASK_ROLE_LIFETIME_MS);
    },
    revokeCredentials: (accessKeyId) => void keys.delete(accessKeyId),
    setFault: (fault) => faults.set(fault),
    close: () => server.close(),
  });
}
