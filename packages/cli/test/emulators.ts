// The testkit worlds the CLI tests run against: the testkit's emulated task deployment (a fake ECS agent whose
// task-role credentials are issued by the strict fake AWS), with only Consul or only ZTS beside it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTaskEmulators, TASK_EMULATOR_DEFAULTS, type TaskEmulators, type ZtsOptions } from '@ecs-identity/testkit';

export const CONSUL_METHOD = TASK_EMULATOR_DEFAULTS.consulAuthMethod;
export const ZTS_PROVIDER = `athenz.aws-ecs.${TASK_EMULATOR_DEFAULTS.region}`;

export interface ConsulWorld extends TaskEmulators<{ zts: false }> {
  /** Every AWS secret the agent handed out (to check that none leaks). */
  issuedSecrets: string[];
}

/** A second auth method whose tokens live Consul's shortest MaxTokenTTL, one minute. */
export const SHORT_TTL_METHOD = 'short-ttl';

/**
 * Task role `role/ecs/web-task` tagged with the service `web`; the auth method's server ID is `consul.dc1`. Besides
 * the default method there is {@link SHORT_TTL_METHOD}; with `consulBehindMs`, Consul's clock runs that far behind,
 * so its one-minute tokens have only `60 s - consulBehindMs` left when they arrive.
 */
export async function startConsulWorld(options: { consulBehindMs?: number } = {}): Promise<ConsulWorld> {
  const issuedSecrets: string[] = [];
  const behind = options.consulBehindMs;
  const world = await startTaskEmulators({
    zts: false,
    taskRoleName: 'web-task',
    consulService: 'web',
    consulServerId: 'consul.dc1',
    consulReplicationLagMs: 200,
    ...(behind === undefined ? {} : { consul: { clock: { now: () => Date.now() - behind } } }),
    onAgentCredentials: (c) => issuedSecrets.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])),
  });
  const tag = 'consul.hashicorp.com.service-name';
  world.consul.addAuthMethod({
    name: SHORT_TTL_METHOD,
    maxTokenTtlMs: 60_000,
    config: {
      BoundIAMPrincipalARNs: [`arn:aws:iam::${world.names.accountId}:role${world.names.rolePath}*`],
      EnableIAMEntityDetails: true,
      IAMEntityTags: [tag],
      ServerIDHeaderValue: world.names.consulServerId,
    },
  });
  world.consul.addBindingRule({
    authMethod: SHORT_TTL_METHOD,
    bindType: 'service',
    bindName: `\${entity_tags.${tag}}`,
  });
  return { ...world, issuedSecrets };
}

export interface AthenzWorld extends TaskEmulators<{ consul: false }> {
  /** The task's environment, with AWS_ENDPOINT_URL_STS pointing attestation at the fake AWS. */
  env: Readonly<Record<string, string>>;
  /** `-zts 127.0.0.1 -ztsport <port> -ztscacert <file> -dnsdomains athenz.cloud -sia-dir <siaDir>`. */
  args: (siaDir: string) => string[];
}

/**
 * The service `sports.api`, member of `sports:role.readers` and `sports:role.writers`. `dir` receives the ZTS CA
 * file; `ztsOptions` override the fake ZTS's (e.g. a short certificate lifetime).
 */
export async function startAthenzWorld(dir: string, ztsOptions: Partial<ZtsOptions> = {}): Promise<AthenzWorld> {
  const world = await startTaskEmulators({ consul: false, athenzRoles: ['readers', 'writers'], zts: ztsOptions });
  const port = new URL(world.zts.url).port;
  const caFile = join(dir, `zts-ca-${port}.pem`);
  try {
    await writeFile(caFile, world.zts.caPem);
  } catch (e) {
    await world.close();
    throw e;
  }
  return {
    ...world,
    env: { ...world.env, AWS_ENDPOINT_URL_STS: world.aws.url },
    args: (siaDir) => [
      '-zts',
      '127.0.0.1',
      '-ztsport',
      port,
      '-ztscacert',
      caFile,
      '-dnsdomains',
      world.names.dnsSuffix,
      '-sia-dir',
      siaDir,
    ],
  };
}
