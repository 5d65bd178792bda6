// The testkit worlds the CLI tests run against: a fake ECS agent whose task-role credentials are issued by the strict
// fake AWS, plus the fake Consul or the fake ZTS checking against that same AWS.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AwsEmulator,
  type ConsulEmulator,
  type EcsAgent,
  startAws,
  startConsul,
  startEcsAgent,
  startZts,
  type ZtsEmulator,
  type ZtsOptions,
} from '@ecs-identity/testkit';

export const CONSUL_METHOD = 'iam-ecs-service-token';
export const ZTS_PROVIDER = 'athenz.aws-ecs.us-west-2';

export interface ConsulWorld {
  aws: AwsEmulator;
  agent: EcsAgent;
  consul: ConsulEmulator;
  /** The environment a task would have, with CONSUL_HTTP_ADDR. */
  env: Record<string, string>;
  /** Every AWS secret the agent handed out (to check that none leaks). */
  issuedSecrets: string[];
  close(): Promise<void>;
}

export async function startConsulWorld(): Promise<ConsulWorld> {
  const aws = await startAws({ region: 'us-west-2' });
  const role = aws.addRole({ name: 'web-task', path: '/ecs/', tags: { 'consul.hashicorp.com.service-name': 'web' } });
  const issuedSecrets: string[] = [];
  const agent = await startEcsAgent({
    region: 'us-west-2',
    accountId: aws.accountId,
    taskRoleArn: role.arn,
    credentials: async (arn) => {
      const c = aws.issueRoleCredentials(arn);
      issuedSecrets.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : []));
      return c;
    },
  });
  const consul = await startConsul({
    aws,
    authMethods: [
      {
        name: CONSUL_METHOD,
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${aws.accountId}:role/ecs/*`],
          EnableIAMEntityDetails: true,
          IAMEntityTags: ['consul.hashicorp.com.service-name'],
          ServerIDHeaderValue: 'consul.dc1',
        },
      },
    ],
    bindingRules: [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Consul's own interpolation syntax
      { authMethod: CONSUL_METHOD, bindType: 'service', bindName: '${entity_tags.consul.hashicorp.com.service-name}' },
    ],
    replicationLagMs: 200,
  });
  return {
    aws,
    agent,
    consul,
    env: { ...agent.env, CONSUL_HTTP_ADDR: consul.url },
    issuedSecrets,
    async close() {
      await Promise.all([consul.close(), agent.close(), aws.close()]);
    },
  };
}

export interface AthenzWorld {
  aws: AwsEmulator;
  agent: EcsAgent;
  zts: ZtsEmulator;
  /** The task's environment, with AWS_ENDPOINT_URL_STS pointing attestation at the fake AWS. */
  env: Record<string, string>;
  /** `-zts 127.0.0.1 -ztsport <port> -ztscacert <file> -dnsdomains athenz.cloud -sia-dir <siaDir>`. */
  args: (siaDir: string) => string[];
  close(): Promise<void>;
}

/** `dir` receives the ZTS CA file; `ztsOptions` override the fake ZTS's (e.g. a short certificate lifetime). */
export async function startAthenzWorld(dir: string, ztsOptions: Partial<ZtsOptions> = {}): Promise<AthenzWorld> {
  const aws = await startAws({ region: 'us-west-2' });
  const taskRole = aws.addRole({ name: 'sports.api-service', path: '/ecs/' });
  aws.addRole({ name: 'sports.api', path: '/ecs/', trust: [taskRole.arn] });
  const [agent, zts] = await Promise.all([
    startEcsAgent({
      region: 'us-west-2',
      accountId: aws.accountId,
      taskRoleArn: taskRole.arn,
      credentials: async (arn) => aws.issueRoleCredentials(arn),
    }),
    startZts({
      aws,
      providers: [ZTS_PROVIDER],
      dnsSuffix: 'athenz.cloud',
      domains: [
        {
          name: 'sports',
          awsAccount: aws.accountId,
          services: ['api'],
          roles: { readers: ['sports.api'], writers: ['sports.api'] },
        },
      ],
      ...ztsOptions,
    }),
  ]);
  const caFile = join(dir, `zts-ca-${new URL(zts.url).port}.pem`);
  await writeFile(caFile, zts.caPem);
  return {
    aws,
    agent,
    zts,
    env: { ...agent.env, AWS_ENDPOINT_URL_STS: aws.url },
    args: (siaDir) => [
      '-zts',
      '127.0.0.1',
      '-ztsport',
      new URL(zts.url).port,
      '-ztscacert',
      caFile,
      '-dnsdomains',
      'athenz.cloud',
      '-sia-dir',
      siaDir,
    ],
    async close() {
      await Promise.all([zts.close(), agent.close(), aws.close()]);
    },
  };
}
