/**
 * One coherent "AWS account + ECS task + Consul + Athenz" world on 127.0.0.1, built from the testkit emulators, for the
 * demo and the examples. The names line up the way a real deployment's do:
 *
 * - the task role `arn:aws:iam::<acct>:role/ecs/sports.api-service` (the Athenz convention `<domain>.<service>-service`,
 *   tagged with the Consul service name), whose credentials the fake ECS agent hands out, signed by the fake AWS;
 * - the role `sports.api` that the task role may assume: the Athenz attestation role;
 * - a Consul `aws-iam` auth method bound to `role/ecs/*` with entity details and a server ID header, a service binding
 *   rule on the role's tag, and a little replication lag;
 * - a ZTS with the provider `athenz.aws-ecs.<region>`, the domain `sports` (registered for the account) with the
 *   service `api`, a role `readers` that `sports.api` is a member of, and `sports.api` allowed to delete its own
 *   instance records.
 *
 * Not for production: it is the testkit, started in-process.
 * @packageDocumentation
 */
import {
  type AwsEmulator,
  type ConsulEmulator,
  type EcsAgent,
  startAws,
  startConsul,
  startEcsAgent,
  startZts,
  type ZtsEmulator,
} from '@ecs-identity/testkit';

/** The names the emulated deployment uses. */
export const WORLD = {
  region: 'us-west-2',
  accountId: '123456789012',
  clusterName: 'demo',
  athenzDomain: 'sports',
  athenzService: 'api',
  athenzRole: 'readers',
  dnsSuffix: 'athenz.cloud',
  consulService: 'api',
  consulAuthMethod: 'iam-ecs-service-token',
  consulServerId: 'consul.dc1.example',
} as const;

/** @public */
export interface TaskEmulatorsOptions {
  /** Consul's replication lag (a `?stale` self-read fails until the token is this old). Default 250 ms. */
  consulReplicationLagMs?: number;
}

/** The running emulators and the environment ECS would give the task. @public */
export interface TaskEmulators {
  readonly aws: AwsEmulator;
  readonly agent: EcsAgent;
  readonly consul: ConsulEmulator;
  readonly zts: ZtsEmulator;
  /**
   * What a Fargate task's process would see: the ECS agent's variables (metadata URIs, credentials URI and token,
   * region) plus `CONSUL_HTTP_ADDR`, all pointing at 127.0.0.1.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Stops every emulator and closes their sockets. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the fake AWS, ECS agent, Consul and ZTS, wired to each other.
 * @example
 * ```ts
 * const world = await startTaskEmulators();
 * const id = await getTaskIdentity({ env: world.env });
 * await world.close();
 * ```
 * @public
 */
export async function startTaskEmulators(options: TaskEmulatorsOptions = {}): Promise<TaskEmulators> {
  const started: { close(): Promise<void> }[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.allSettled(started.reverse().map((s) => s.close())).then(() => undefined);
    return closing;
  };
  try {
    // Each emulator is tracked as soon as it runs, so a failure part-way still stops the ones already started.
    const track = async <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => {
      const s = await p;
      started.push(s);
      return s;
    };
    const aws = await track(startAws({ region: WORLD.region, accountId: WORLD.accountId }));
    const principal = `${WORLD.athenzDomain}.${WORLD.athenzService}`;
    const taskRole = aws.addRole({
      name: `${principal}-service`,
      path: '/ecs/',
      tags: { 'consul.hashicorp.com.service-name': WORLD.consulService },
    });
    aws.addRole({ name: principal, path: '/ecs/', trust: [taskRole.arn] });

    // allSettled, not all: on a failure, wait for the others to finish starting so close() stops them too.
    const [agentR, consulR, ztsR] = await Promise.allSettled([
      track(
        startEcsAgent({
          launchType: 'FARGATE',
          region: WORLD.region,
          accountId: WORLD.accountId,
          clusterName: WORLD.clusterName,
          taskRoleArn: taskRole.arn,
          // The agent hands out credentials the fake AWS issued, so every signature is checked for real.
          credentials: async (roleArn) => aws.issueRoleCredentials(roleArn),
        }),
      ),
      track(
        startConsul({
          aws,
          authMethods: [
            {
              name: WORLD.consulAuthMethod,
              config: {
                BoundIAMPrincipalARNs: [`arn:aws:iam::${WORLD.accountId}:role/ecs/*`],
                EnableIAMEntityDetails: true,
                IAMEntityTags: ['consul.hashicorp.com.service-name'],
                ServerIDHeaderValue: WORLD.consulServerId,
              },
            },
          ],
          bindingRules: [
            {
              authMethod: WORLD.consulAuthMethod,
              bindType: 'service',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: Consul's own interpolation syntax, not a JS template
              bindName: '${entity_tags.consul.hashicorp.com.service-name}',
            },
          ],
          replicationLagMs: options.consulReplicationLagMs ?? 250,
        }),
      ),
      track(
        startZts({
          aws: { url: aws.url, region: aws.region },
          providers: [`athenz.aws-ecs.${WORLD.region}`],
          dnsSuffix: WORLD.dnsSuffix,
          domains: [
            {
              name: WORLD.athenzDomain,
              awsAccount: WORLD.accountId,
              services: [WORLD.athenzService],
              roles: { [WORLD.athenzRole]: [principal] },
              // A ZMS policy granting the service `delete` on its own instance records, so shutdown can clean up.
              instanceDeleters: [principal],
            },
          ],
        }),
      ),
    ]);
    for (const r of [agentR, consulR, ztsR]) if (r.status === 'rejected') throw r.reason;
    const agent = (agentR as PromiseFulfilledResult<EcsAgent>).value;
    const consul = (consulR as PromiseFulfilledResult<ConsulEmulator>).value;
    const zts = (ztsR as PromiseFulfilledResult<ZtsEmulator>).value;
    return {
      aws,
      agent,
      consul,
      zts,
      env: Object.freeze({ ...agent.env, CONSUL_HTTP_ADDR: consul.url }),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
