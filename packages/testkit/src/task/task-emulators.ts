/**
 * A whole emulated ECS task deployment in one call: the fake AWS, ECS agent, Consul and ZTS, wired to each other
 * with names that line up the way a real deployment's do.
 * @packageDocumentation
 */
import { withAsyncDispose } from '@ecs-identity/core/internal';
import type { FakeRole, IssuedCredentials } from '../aws/principals.js';
import { type AwsEmulator, type StartAwsOptions, startAws } from '../aws/server.js';
import { type ConsulEmulator, type StartConsulOptions, startConsul } from '../consul/server.js';
import { type EcsAgent, type StartEcsAgentOptions, startEcsAgent } from '../ecs-agent/agent.js';
import type { ZtsOptions } from '../zts/config.js';
import { startZts, type ZtsEmulator } from '../zts/server.js';

/** The names an emulated task deployment uses (see {@link TASK_EMULATOR_DEFAULTS}). @public */
export interface TaskEmulatorNames {
  /** AWS region of the task, the fake STS and the ZTS provider `athenz.aws-ecs.<region>`. */
  readonly region: string;
  /** The one AWS account (also the account registered for the Athenz domain). */
  readonly accountId: string;
  readonly clusterName: string;
  readonly launchType: 'FARGATE' | 'EC2';
  /** IAM path of both roles, `/` or `/a/b/`. */
  readonly rolePath: string;
  /** The task role's name; default `<athenzDomain>.<athenzService>-service` (the Athenz convention). */
  readonly taskRoleName: string;
  readonly athenzDomain: string;
  readonly athenzService: string;
  /** Roles of the Athenz domain that `<athenzDomain>.<athenzService>` is a member of. */
  readonly athenzRoles: readonly string[];
  /** The ZTS provider's DNS suffix. */
  readonly dnsSuffix: string;
  /** The Consul service name, the task role's `consul.hashicorp.com.service-name` tag. */
  readonly consulService: string;
  readonly consulAuthMethod: string;
  /** The auth method's `ServerIDHeaderValue`. */
  readonly consulServerId: string;
}

/**
 * The names {@link startTaskEmulators} uses unless told otherwise (the task role is then `sports.api-service`).
 * @public
 */
export const TASK_EMULATOR_DEFAULTS = {
  region: 'us-west-2',
  accountId: '123456789012',
  clusterName: 'demo',
  launchType: 'FARGATE',
  rolePath: '/ecs/',
  taskRoleName: 'sports.api-service',
  athenzDomain: 'sports',
  athenzService: 'api',
  athenzRoles: ['readers'],
  dnsSuffix: 'athenz.cloud',
  consulService: 'api',
  consulAuthMethod: 'iam-ecs-service-token',
  consulServerId: 'consul.dc1.example',
} as const satisfies TaskEmulatorNames;

/** Options of {@link startTaskEmulators}: any name of {@link TaskEmulatorNames}, plus these. @public */
export interface StartTaskEmulatorsOptions extends Partial<TaskEmulatorNames> {
  /** Consul's replication lag (a `?stale` self-read fails until the token is this old). Default 250 ms. */
  consulReplicationLagMs?: number;
  /**
   * `false`: no Consul (and no `CONSUL_HTTP_ADDR`). An object: extra {@link StartConsulOptions}, spread over the
   * built ones (so `authMethods` / `bindingRules` given here replace the built ones).
   */
  consul?: false | Partial<StartConsulOptions>;
  /** `false`: no ZTS. An object: extra {@link ZtsOptions}, spread over the built ones (`domains` replaces them). */
  zts?: false | Partial<ZtsOptions>;
  /** Extra ECS agent options, spread over the built ones (overriding `credentials` cuts it off from the fake AWS). */
  agent?: Partial<StartEcsAgentOptions>;
  /** Extra fake AWS options (e.g. `onIssue`), spread over the built ones. */
  aws?: Partial<StartAwsOptions>;
  /** Called with every set of task-role credentials the agent hands out (e.g. to check that none leaks). */
  onAgentCredentials?: (credentials: IssuedCredentials) => void;
}

/**
 * `T` when option `K` of `O` is absent or cannot be `false`, `undefined` when it is `false`, else `T | undefined`.
 */
type Started<O, K extends 'consul' | 'zts', T> = K extends keyof O
  ? [O[K]] extends [false]
    ? undefined
    : false extends O[K]
      ? T | undefined
      : T
  : T;

/**
 * The running emulators and the environment ECS would give the task. `O` is the options' `consul` / `zts` shape:
 * `TaskEmulators` has all four, `TaskEmulators<{ consul: false }>` no Consul.
 * @public
 */
export interface TaskEmulators<
  O extends Pick<StartTaskEmulatorsOptions, 'consul' | 'zts'> = {
    consul: Partial<StartConsulOptions>;
    zts: Partial<ZtsOptions>;
  },
> {
  readonly aws: AwsEmulator;
  readonly agent: EcsAgent;
  /** Absent with `consul: false`. */
  readonly consul: Started<O, 'consul', ConsulEmulator>;
  /** Absent with `zts: false`. */
  readonly zts: Started<O, 'zts', ZtsEmulator>;
  /** The names in use (the defaults with the options applied). */
  readonly names: TaskEmulatorNames;
  /** The task role (tagged with the Consul service name): the agent hands out its credentials. */
  readonly taskRole: FakeRole;
  /** The role `<athenzDomain>.<athenzService>` the task role may assume: the Athenz attestation role. */
  readonly serviceRole: FakeRole;
  /** The ZTS provider, `athenz.aws-ecs.<region>`. */
  readonly athenzProvider: string;
  /**
   * What a task's process would see: the ECS agent's variables (metadata URIs, credentials URI and token, region)
   * plus `CONSUL_HTTP_ADDR` when Consul runs, all pointing at 127.0.0.1.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Stops every emulator and closes their sockets. Idempotent. */
  close(): Promise<void>;
  /** The same as `close()`, so that `await using` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The tag Consul's binding rule reads the service name from (consul-ecs's convention). */
const SERVICE_NAME_TAG = 'consul.hashicorp.com.service-name';

/**
 * Starts the fake AWS, ECS agent, Consul and ZTS on 127.0.0.1, wired to each other:
 *
 * - AWS: the task role `<rolePath><taskRoleName>`, tagged `consul.hashicorp.com.service-name: <consulService>`, and
 *   the role `<rolePath><athenzDomain>.<athenzService>` that trusts it (the Athenz attestation role);
 * - the ECS agent hands out task-role credentials issued by that fake AWS, so every signature is checked for real;
 * - Consul: an `aws-iam` auth method bound to `role<rolePath>*` with entity details, the service-name tag and the
 *   server ID header, and a `service` binding rule on the tag;
 * - ZTS: the provider `athenz.aws-ecs.<region>`, the domain (registered for the account) with its service, the
 *   roles in `athenzRoles` with the service as member, and the service allowed to delete its own instance records.
 *
 * Emulators start in parallel; if one fails to start, the others are closed before the error is thrown.
 *
 * @example
 * ```ts
 * import { startTaskEmulators } from '@ecs-identity/testkit';
 * import { getTaskIdentity } from '@ecs-identity/ecs-metadata';
 *
 * const world = await startTaskEmulators({ consulReplicationLagMs: 100 });
 * try {
 *   const id = await getTaskIdentity({ env: world.env }); // region us-west-2, cluster demo...
 *   // Consul at world.env.CONSUL_HTTP_ADDR, ZTS at world.zts.baseUrl (CA world.zts.caPem), STS at world.aws.url
 * } finally {
 *   await world.close();
 * }
 * // Athenz only, other names:
 * const athenz = await startTaskEmulators({ consul: false, athenzDomain: 'media', athenzRoles: ['readers', 'writers'] });
 * ```
 * @public
 */
export async function startTaskEmulators<
  // Inferred from `consul` / `zts` alone: a callback elsewhere in the options (context-sensitive) would otherwise
  // stop the inference of a whole-options type parameter.
  const C extends false | Partial<StartConsulOptions> = Partial<StartConsulOptions>,
  const Z extends false | Partial<ZtsOptions> = Partial<ZtsOptions>,
>(options: StartTaskEmulatorsOptions & { consul?: C; zts?: Z } = {}): Promise<TaskEmulators<{ consul: C; zts: Z }>> {
  const athenzDomain = options.athenzDomain ?? TASK_EMULATOR_DEFAULTS.athenzDomain;
  const athenzService = options.athenzService ?? TASK_EMULATOR_DEFAULTS.athenzService;
  const names: TaskEmulatorNames = {
    ...TASK_EMULATOR_DEFAULTS,
    ...definedOnly(options),
    athenzDomain,
    athenzService,
    taskRoleName: options.taskRoleName ?? `${athenzDomain}.${athenzService}-service`,
  };
  const principal = `${athenzDomain}.${athenzService}`;
  const athenzProvider = `athenz.aws-ecs.${names.region}`;

  const started: { close(): Promise<void> }[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.allSettled(started.reverse().map((s) => s.close())).then(() => undefined);
    return closing;
  };
  // Each emulator is tracked as soon as it runs, so a failure part-way still stops the ones already started.
  const track = async <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const s = await p;
    started.push(s);
    return s;
  };
  const skip = Promise.resolve(undefined);
  try {
    const aws = await track(startAws({ region: names.region, accountId: names.accountId, ...options.aws }));
    const taskRole = aws.addRole({
      name: names.taskRoleName,
      path: names.rolePath,
      tags: { [SERVICE_NAME_TAG]: names.consulService },
    });
    const serviceRole = aws.addRole({ name: principal, path: names.rolePath, trust: [taskRole.arn] });

    // allSettled, not all: on a failure, wait for the others to finish starting so close() stops them too.
    const [agentR, consulR, ztsR] = await Promise.allSettled([
      track(
        startEcsAgent({
          launchType: names.launchType,
          region: names.region,
          accountId: names.accountId,
          clusterName: names.clusterName,
          taskRoleArn: taskRole.arn,
          credentials: async (roleArn) => {
            const c = aws.issueRoleCredentials(roleArn);
            options.onAgentCredentials?.(c);
            return c;
          },
          ...options.agent,
        }),
      ),
      options.consul === false
        ? skip
        : track(
            startConsul({
              aws,
              authMethods: [
                {
                  name: names.consulAuthMethod,
                  config: {
                    BoundIAMPrincipalARNs: [`arn:${aws.partition}:iam::${names.accountId}:role${names.rolePath}*`],
                    EnableIAMEntityDetails: true,
                    IAMEntityTags: [SERVICE_NAME_TAG],
                    ServerIDHeaderValue: names.consulServerId,
                  },
                },
              ],
              bindingRules: [
                {
                  authMethod: names.consulAuthMethod,
                  bindType: 'service',
                  bindName: `\${entity_tags.${SERVICE_NAME_TAG}}`,
                },
              ],
              replicationLagMs: options.consulReplicationLagMs ?? 250,
              ...options.consul,
            }),
          ),
      options.zts === false
        ? skip
        : track(
            startZts({
              aws: { url: aws.url, region: aws.region },
              providers: [athenzProvider],
              dnsSuffix: names.dnsSuffix,
              domains: [
                {
                  name: athenzDomain,
                  awsAccount: names.accountId,
                  services: [athenzService],
                  roles: Object.fromEntries(names.athenzRoles.map((r) => [r, [principal]])),
                  // A ZMS policy granting the service `delete` on its own instance records, so shutdown can clean up.
                  instanceDeleters: [principal],
                },
              ],
              ...options.zts,
            }),
          ),
    ]);
    for (const r of [agentR, consulR, ztsR]) if (r.status === 'rejected') throw r.reason;
    const agent = (agentR as PromiseFulfilledResult<EcsAgent>).value;
    const consul = (consulR as PromiseFulfilledResult<ConsulEmulator | undefined>).value;
    const zts = (ztsR as PromiseFulfilledResult<ZtsEmulator | undefined>).value;
    const world = withAsyncDispose({
      aws,
      agent,
      consul,
      zts,
      names: Object.freeze({ ...names, athenzRoles: Object.freeze([...names.athenzRoles]) }),
      taskRole,
      serviceRole,
      athenzProvider,
      env: Object.freeze({ ...agent.env, ...(consul ? { CONSUL_HTTP_ADDR: consul.url } : {}) }),
      close,
    });
    // consul / zts are present exactly when the options did not turn them off, which is what the type says.
    return world as TaskEmulators<{ consul: C; zts: Z }>;
  } catch (e) {
    await close();
    throw e;
  }
}

/** The name options that were given (an explicit `undefined` keeps the default). */
function definedOnly(options: StartTaskEmulatorsOptions): Partial<TaskEmulatorNames> {
  const keys = Object.keys(TASK_EMULATOR_DEFAULTS) as (keyof TaskEmulatorNames)[];
  return Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
}
