import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '@ecs-identity/core';
import { withAsyncDispose } from '@ecs-identity/core/internal';
import { type Fault, FaultSlot, faultBeforeAnswer, realDelay, sendBody } from '../aws/faults.js';
import { headerValues, readBody, startLoopbackServer } from '../aws/loopback-server.js';
import { type AuthMethodSpec, validateAuthMethod } from './auth-method.js';
import { validateAwsIamLogin } from './aws-iam-validator.js';
import { TokenRejected } from './bearer-token.js';
import { type BindingRuleSpec, compileSelector, evaluateBindings } from './binding-rules.js';
import { aclNotFound, ConsulHttpError, permissionDenied, validatorError } from './errors.js';
import { goJsonStringMap } from './go-compat.js';
import { type ConsulTokenRecord, TokenStore, tokenJson } from './tokens.js';

/** @public */
export interface StartConsulOptions {
  /**
   * The fake AWS (or its URL). Requests for real AWS hosts (`sts.<region>.amazonaws.com`, `iam.amazonaws.com`) are
   * sent there with their original Host header; without it they fail like an unreachable host. Methods with
   * `STSEndpoint` / `IAMEndpoint` use those instead.
   */
  aws?: { url: string } | string;
  authMethods?: AuthMethodSpec[];
  bindingRules?: BindingRuleSpec[];
  /** Names of ACL roles that exist (a `role` binding to another name is skipped, as in Consul). */
  roles?: string[];
  /** A stale self-read (`?stale`) answers 403 `ACL not found` until a token is this old. Default 0. */
  replicationLagMs?: number;
  /** Default true; false answers 401 `ACL support disabled`. */
  aclsEnabled?: boolean;
  /** Answer as a client agent would: server (RPC) errors prefixed with `rpc error making call: `. */
  viaClientAgent?: boolean;
  /** Default `dc1`. */
  datacenter?: string;
  /** Accept `ns` / `partition` (Consul Enterprise); OSS (default) rejects them with 400. */
  enterprise?: boolean;
  /** Token creation and expiry, replication lag. Default the system clock. */
  clock?: Pick<Clock, 'now'>;
  /** Timeout of each AWS call. Default 10 s. */
  awsTimeoutMs?: number;
  /** First retry wait for `MaxRetries` (doubling, capped at 30 s). Default 500 ms like consul-awsauth. */
  awsRetryWaitMs?: number;
  /** Called with every token a login creates (e.g. to check that no SecretID leaks anywhere). */
  onToken?: (token: ConsulTokenRecord) => void;
}

/**
 * A fault for the fake Consul (`match` is the URL path, e.g. `/v1/acl/login`).
 * @public
 */
export interface ConsulFault extends Fault {
  /**
   * Handle the request for real, then wait this long (real milliseconds) before answering: the server's work is done
   * (a login has created its token) while the client still waits, as in a Consul login latency spike
   * (hashicorp/consul#15157). A client that gives up first never learns of the token; Consul keeps it all the same.
   */
  answerDelayMs?: number;
}

/** One handled request, without secrets (no bearer token, no SecretID). @public */
export interface ConsulRequestRecord {
  readonly at: number;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly status: number;
  readonly authMethod?: string;
  readonly accessorId?: string;
  /** The error text answered, if any. */
  readonly error?: string;
  /** For logins that passed the AWS checks: the principal ARN matched against BoundIAMPrincipalARNs. */
  readonly principalArn?: string;
}

/**
 * A running fake Consul ACL API (`/v1/acl/login`, `/v1/acl/logout`, `/v1/acl/token/self`).
 * @public
 */
export interface ConsulEmulator {
  /** `http://127.0.0.1:<port>` (use as `CONSUL_HTTP_ADDR`). */
  readonly url: string;
  readonly datacenter: string;
  /** Every request so far (no secrets). */
  readonly requests: readonly ConsulRequestRecord[];
  /** The tokens that exist now, expired ones included (state for tests: includes SecretIDs). */
  tokens(): ConsulTokenRecord[];
  /**
   * The tokens still usable now: neither logged out nor past their `ExpirationTime` (Consul treats an expired token
   * as gone at once and reaps it later). What a leak check counts.
   */
  liveTokens(): ConsulTokenRecord[];
  /** Creates a token not made by login (e.g. a management token; such tokens cannot log out). */
  createToken(options?: { description?: string; secretId?: string }): ConsulTokenRecord;
  addAuthMethod(spec: AuthMethodSpec): void;
  addBindingRule(rule: BindingRuleSpec): void;
  setReplicationLag(ms: number): void;
  setAclsEnabled(enabled: boolean): void;
  /** Injects a fault (match = the URL path, e.g. `/v1/acl/login`); `undefined` clears it. */
  setFault(fault: ConsulFault | undefined): void;
  close(): Promise<void>;
  /** The same as `close()`, so that `await using` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const ALLOWED_METHODS: Record<string, string[]> = {
  '/v1/acl/login': ['POST'],
  '/v1/acl/logout': ['POST'],
  '/v1/acl/token/self': ['GET'],
};

/** `parseToken`: X-Consul-Token, then `Authorization: Bearer`, then `?token=`. */
function requestToken(headers: Record<string, string[]>, query: URLSearchParams): string {
  const direct = headers['x-consul-token']?.[0];
  if (direct) return direct;
  const auth = headers.authorization?.[0];
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return query.get('token') ?? '';
}

/**
 * Starts a strict fake Consul on 127.0.0.1 (ephemeral port) emulating the ACL login flow of an `aws-iam` auth
 * method: every bearer-token check of consul-awsauth in order, the embedded STS / IAM requests forwarded to the fake
 * AWS exactly as sent (their signatures are verified there), binding rules, token TTLs, replication lag on stale
 * self-reads, logout, and the real statuses and texts.
 *
 * @example
 * ```ts
 * const consul = await startConsul({
 *   aws,
 *   authMethods: [{ name: 'iam-ecs-service-token', config: {
 *     BoundIAMPrincipalARNs: [`arn:aws:iam::${aws.accountId}:role/ecs/*`], EnableIAMEntityDetails: true,
 *     IAMEntityTags: ['consul.hashicorp.com.service-name'] } }],
 *   bindingRules: [{ authMethod: 'iam-ecs-service-token', bindType: 'service',
 *     bindName: '${entity_tags.consul.hashicorp.com.service-name}' }],
 *   replicationLagMs: 300,
 * });
 * ```
 * @public
 */
export async function startConsul(options: StartConsulOptions = {}): Promise<ConsulEmulator> {
  const clock = options.clock ?? systemClock;
  const datacenter = options.datacenter ?? 'dc1';
  const awsUrl = typeof options.aws === 'string' ? options.aws : options.aws?.url;
  const methods = new Map<string, AuthMethodSpec>();
  const rules: (BindingRuleSpec & { match: (f: Record<string, string>) => boolean })[] = [];
  const roleIds = new Map<string, string>((options.roles ?? []).map((r) => [r, randomUUID()]));
  const store = new TokenStore();
  const requests: ConsulRequestRecord[] = [];
  const faults = new FaultSlot();
  let lagMs = options.replicationLagMs ?? 0;
  let aclsEnabled = options.aclsEnabled ?? true;
  const retryWait = options.awsRetryWaitMs ?? 500;

  const addAuthMethod = (spec: AuthMethodSpec) => {
    validateAuthMethod(spec);
    methods.set(spec.name, { ...spec, config: { ...spec.config } });
  };
  const addBindingRule = (rule: BindingRuleSpec) => {
    if (!['service', 'node', 'role'].includes(rule.bindType)) {
      throw new TypeError(`binding rule bindType must be service, node or role (got ${JSON.stringify(rule.bindType)})`);
    }
    rules.push({ ...rule, match: compileSelector(rule.selector) });
  };
  for (const m of options.authMethods ?? []) addAuthMethod(m);
  for (const r of options.bindingRules ?? []) addBindingRule(r);

  /** `parseEntMeta`: OSS refuses namespaces and partitions. */
  const entMeta = (headers: Record<string, string[]>, query: URLSearchParams) => {
    const ns = headers['x-consul-namespace']?.[0] || query.get('ns') || undefined;
    const partition = headers['x-consul-partition']?.[0] || query.get('partition') || undefined;
    if (!options.enterprise) {
      if (headers['x-consul-namespace']?.[0]) {
        throw new ConsulHttpError(
          400,
          'Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature',
          false,
        );
      }
      if (query.get('ns')) {
        throw new ConsulHttpError(
          400,
          'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
          false,
        );
      }
      if (partition) {
        throw new ConsulHttpError(
          400,
          'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature',
          false,
        );
      }
      return {};
    }
    return { namespace: ns ?? 'default', partition: partition ?? 'default' };
  };

  const checkDatacenter = (query: URLSearchParams) => {
    const dc = query.get('dc');
    if (dc && dc !== datacenter) throw new ConsulHttpError(500, 'No path to datacenter');
  };

  type Outcome = {
    status: number;
    body: unknown;
    record?: Partial<ConsulRequestRecord>;
    headers?: Record<string, string>;
  };

  const login = async (headers: Record<string, string[]>, query: URLSearchParams, body: Buffer): Promise<Outcome> => {
    checkDatacenter(query);
    const ent = entMeta(headers, query);
    let args: { AuthMethod?: unknown; BearerToken?: unknown; Meta?: unknown };
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      args = parsed as typeof args;
    } catch {
      const reason = body.length === 0 ? 'EOF' : 'invalid character looking for beginning of value';
      throw new ConsulHttpError(400, `Failed to decode request body: ${reason}`, false);
    }
    const bad = (field: string, type: string) =>
      new ConsulHttpError(
        400,
        `Failed to decode request body: json: cannot unmarshal into Go struct field ACLLoginParams.${field} of type ${type}`,
        false,
      );
    if (args.AuthMethod !== undefined && typeof args.AuthMethod !== 'string') throw bad('AuthMethod', 'string');
    if (args.BearerToken !== undefined && typeof args.BearerToken !== 'string') throw bad('BearerToken', 'string');
    const meta = args.Meta ?? {};
    if (meta === null || typeof meta !== 'object' || Object.values(meta).some((v) => typeof v !== 'string')) {
      throw bad('Meta', 'map[string]string');
    }
    const methodName = (args.AuthMethod as string | undefined) ?? '';
    const method = methods.get(methodName);
    if (method === undefined) throw aclNotFound(`auth method ${JSON.stringify(methodName)} not found`);
    let details: Awaited<ReturnType<typeof validateAwsIamLogin>>;
    try {
      details = await validateAwsIamLogin((args.BearerToken as string | undefined) ?? '', method.config, {
        ...(awsUrl !== undefined ? { awsUrl } : {}),
        timeoutMs: options.awsTimeoutMs ?? 10_000,
        retryWaitMs: (n) => Math.min(retryWait * 2 ** (n - 1), 30_000),
        sleep: realDelay,
      });
    } catch (e) {
      if (e instanceof TokenRejected) throw validatorError(e.message);
      throw e;
    }
    const bindings = evaluateBindings(rules, method, details, datacenter, roleIds);
    if (bindings.serviceIdentities.length + bindings.nodeIdentities.length + bindings.roles.length === 0) {
      throw permissionDenied(details.clientArn);
    }
    const metaText = Object.keys(meta).length > 0 ? `: ${goJsonStringMap(meta as Record<string, string>)}` : '';
    const token = store.create({
      description: `token created via login${metaText}`,
      authMethod: method.name,
      bindings,
      local: method.tokenLocality !== 'global',
      now: clock.now(),
      ...(method.maxTokenTtlMs !== undefined ? { ttlMs: method.maxTokenTtlMs } : {}),
      ...ent,
    });
    options.onToken?.(token);
    return {
      status: 200,
      body: tokenJson(token),
      record: { authMethod: method.name, accessorId: token.accessorId, principalArn: details.clientArn },
    };
  };

  const logout = (headers: Record<string, string[]>, query: URLSearchParams): Outcome => {
    checkDatacenter(query);
    const secret = requestToken(headers, query);
    if (secret === '') throw new ConsulHttpError(401, 'Supplied token does not exist', false);
    const token = store.get(secret);
    if (token === undefined) throw aclNotFound();
    if (token.authMethod === '') throw permissionDenied();
    store.delete(secret);
    return { status: 200, body: true, record: { accessorId: token.accessorId, authMethod: token.authMethod } };
  };

  const self = (headers: Record<string, string[]>, query: URLSearchParams): Outcome => {
    checkDatacenter(query);
    const secret = requestToken(headers, query);
    const token = secret === '' ? undefined : store.get(secret);
    const now = clock.now();
    // A stale read may be served by a follower that has not applied the token yet; expired tokens read as absent.
    const notReplicated = token !== undefined && query.has('stale') && now < token.createdAt + lagMs;
    if (token === undefined || notReplicated || (token.expiresAt !== undefined && now >= token.expiresAt)) {
      throw aclNotFound();
    }
    return {
      status: 200,
      body: tokenJson(token),
      record: { accessorId: token.accessorId },
      headers: { 'X-Consul-Index': String(store.index), 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '0' },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = clock.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://consul.invalid');
    const path = url.pathname;
    const headers = headerValues(req);
    const body = (await readBody(req)) ?? Buffer.alloc(0);
    const log = (status: number, extra: Partial<ConsulRequestRecord> = {}) =>
      requests.push({ at, method, path, status, ...extra });

    const fault = faults.take(path) as ConsulFault | undefined;
    const before = await faultBeforeAnswer(req, fault);
    if (before !== undefined) {
      log(0, { error: before === 'hang' ? 'no answer (injected)' : 'connection reset (injected)' });
      return;
    }
    if (fault?.status !== undefined) {
      const text = fault.body ?? `injected fault (status ${fault.status})`;
      log(fault.status, { error: text });
      sendBody(res, fault.status, { 'Content-Type': fault.contentType ?? TEXT_TYPE }, text, fault);
      return;
    }

    try {
      const allowed = ALLOWED_METHODS[path];
      if (allowed === undefined) throw new ConsulHttpError(404, '404 page not found', false);
      if (!allowed.includes(method)) throw new ConsulHttpError(405, `method ${method} not allowed`, false);
      if (!aclsEnabled) throw new ConsulHttpError(401, 'ACL support disabled', false);
      const out =
        path === '/v1/acl/login'
          ? await login(headers, url.searchParams, body)
          : path === '/v1/acl/logout'
            ? logout(headers, url.searchParams)
            : self(headers, url.searchParams);
      log(out.status, out.record);
      if (fault?.answerDelayMs !== undefined) await realDelay(fault.answerDelayMs);
      sendBody(
        res,
        out.status,
        { 'Content-Type': fault?.contentType ?? JSON_TYPE, ...out.headers },
        JSON.stringify(out.body),
        fault,
      );
    } catch (e) {
      if (!(e instanceof ConsulHttpError)) throw e;
      const text = e.rpc && options.viaClientAgent ? `rpc error making call: ${e.message}` : e.message;
      log(e.status, { error: text, ...(e.principalArn !== undefined ? { principalArn: e.principalArn } : {}) });
      sendBody(res, e.status, { 'Content-Type': fault?.contentType ?? TEXT_TYPE }, text, fault);
    }
  };

  const server = await startLoopbackServer(handle);
  return withAsyncDispose<Omit<ConsulEmulator, typeof Symbol.asyncDispose>>({
    url: server.url,
    datacenter,
    requests,
    tokens: () => store.all(),
    liveTokens: () => {
      const now = clock.now();
      return store.all().filter((t) => t.expiresAt === undefined || now < t.expiresAt);
    },
    createToken: (o = {}) =>
      store.create({
        description: o.description ?? 'created by the testkit',
        authMethod: '',
        local: false,
        now: clock.now(),
        ...(o.secretId !== undefined ? { secretId: o.secretId } : {}),
      }),
    addAuthMethod,
    addBindingRule,
    setReplicationLag: (ms) => {
      lagMs = ms;
    },
    setAclsEnabled: (enabled) => {
      aclsEnabled = enabled;
    },
    setFault: (f) => faults.set(f),
    close: () => server.close(),
  });
}
