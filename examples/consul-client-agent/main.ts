/**
 * A second demo: the seed's consul-client startup script replaced by one agent configuration. Starts the emulated
 * task (ECS agent, AWS, Consul with consul-ecs's client auth method), runs `ecs-identity agent -config agent.json
 * -exit-after-render` as the consul-client init container would, and shows what it wrote (secrets masked).
 *
 * `pnpm exec tsx examples/consul-client-agent/main.ts` (exit 0 when the agent did its job, 1 otherwise)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_METHOD, configIn, GOSSIP_KEY, startDeployment, taskEnv } from './deployment.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const say = (line = '') => process.stdout.write(`${line}\n`);

const world = await startDeployment();
const dir = await mkdtemp(join(tmpdir(), 'consul-client-agent-demo-'));
let status = 1;
try {
  const config = await configIn(dir);
  const lines = async (file: string) => (await readFile(join(here, file), 'utf8')).trimEnd().split('\n').length;
  say("The seed's consul-client container runs a shell script: curl + jq for the task metadata, the CA files echoed");
  say(
    'from CONSUL_CACERT_PEM / CONSUL_HTTPS_CACERT_PEM, a `consul login` retry loop, a stale-read wait, chmod 0644 of',
  );
  say(
    'the token, and a heredoc with the gossip key, auto_encrypt with the task IP, TLS defaults and the ACL agent token.',
  );
  say(
    `With ecs-identity it is one configuration (agent.json, ${await lines('agent.json')} lines) and one template (agent-defaults.hcl.hbs, ${await lines('agent-defaults.hcl.hbs')} lines):`,
  );
  say();
  say('$ ecs-identity agent -config agent.json -exit-after-render');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/cli/src/bin.ts', 'agent', '-config', config, '-exit-after-render'],
    {
      cwd: root,
      env: { ...process.env, ...taskEnv(world), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  say(`(exit status ${code})`);
  if (code === 0) {
    const token = world.consul.tokens().find((t) => t.authMethod === CLIENT_METHOD);
    const mask = (text: string) =>
      text.replaceAll(token?.secretId ?? '\0', '<the client token>').replaceAll(GOSSIP_KEY, '<the gossip key>');
    const mode = async (f: string) => ((await stat(join(dir, 'consul', f))).mode & 0o777).toString(8).padStart(4, '0');
    say();
    say(`/consul/client-token (${await mode('client-token')}): the client token's SecretID, for health-sync's logout`);
    say(`/consul/consul-ca-cert.pem (${await mode('consul-ca-cert.pem')}) and consul-https-ca-cert.pem: the CA files`);
    say(`/consul/agent-defaults.hcl (${await mode('agent-defaults.hcl')}), secrets masked here:`);
    say(
      mask(await readFile(join(dir, 'consul', 'agent-defaults.hcl'), 'utf8'))
        .replace(/^/gm, '  ')
        .trimEnd(),
    );
    say();
    say(`Consul holds the client token (auth method ${CLIENT_METHOD}): ${token ? 'yes' : 'no'}`);
    status = token ? 0 : 1;
  }
} finally {
  await world.close();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = status;
