/**
 * The emulated deployment this example runs on (for `main.ts` and the test): the testkit's task emulators with
 * consul-ecs's client auth method, the environment the seed's task definition gives the consul-client container, and
 * this folder's `agent.json` with its `/consul/` files moved under a directory of the caller's.
 * @packageDocumentation
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartConsulOptions, startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';

const here = fileURLToPath(new URL('.', import.meta.url));

/** consul-ecs's auth method for client agents. */
export const CLIENT_METHOD = 'iam-ecs-client-token';
/** A stand-in gossip key (base64 text: the template only copies it). */
export const GOSSIP_KEY = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';

// The client auth method: client agents' tokens bind to an ACL role (services' to their service identity).
const CONSUL: Partial<StartConsulOptions> = {
  authMethods: [
    {
      name: CLIENT_METHOD,
      config: { BoundIAMPrincipalARNs: ['arn:aws:iam::123456789012:role/ecs/*'], EnableIAMEntityDetails: true },
    },
  ],
  roles: ['consul-ecs-client-role'],
  bindingRules: [{ authMethod: CLIENT_METHOD, bindType: 'role', bindName: 'consul-ecs-client-role' }],
};

/**
 * Starts the emulators (`onAgentCredentials` sees every AWS secret the agent hands out; `consul` adds options, e.g.
 * `enterprise: true` for admin partitions).
 */
export function startDeployment(
  onAgentCredentials?: (c: { secretAccessKey: string; sessionToken?: string }) => void,
  consul: Partial<StartConsulOptions> = {},
) {
  return startTaskEmulators({
    consulReplicationLagMs: 100,
    consul: { ...CONSUL, ...consul },
    ...(onAgentCredentials ? { onAgentCredentials } : {}),
  });
}

/** What the consul-client container's environment holds in the seed's task definition (secrets from SSM / Secrets Manager). */
export function taskEnv(world: TaskEmulators): Record<string, string> {
  return {
    ...world.env,
    CONSUL_CACERT_PEM: world.zts.caPem,
    CONSUL_HTTPS_CACERT_PEM: world.zts.caPem,
    CONSUL_GOSSIP_ENCRYPTION_KEY: GOSSIP_KEY,
    CONSUL_DATACENTER: 'dc1',
    CONSUL_RETRY_JOIN: 'provider=aws tag_key=consul-server',
  };
}

/** The parts of agent.json that callers change. */
export interface ExampleConfig {
  $schema?: string;
  consul: { logins: Record<string, Record<string, unknown>> };
  templates: { source?: string; signal?: { pidFile: string; signal: string } }[];
}

/** Writes this folder's agent.json with its `/consul/` files under `root`; returns the file's path. */
export async function configIn(root: string, edit: (config: ExampleConfig) => void = () => {}): Promise<string> {
  const text = (await readFile(join(here, 'agent.json'), 'utf8')).replaceAll('"/consul/', `"${root}/consul/`);
  const config = JSON.parse(text) as ExampleConfig;
  delete config.$schema;
  for (const t of config.templates) if (t.source) t.source = join(here, t.source);
  edit(config);
  await mkdir(join(root, 'consul'), { recursive: true });
  const file = join(root, 'agent.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}
