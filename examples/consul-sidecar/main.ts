/**
 * The consul-client startup script as a tiny program: log in to Consul with the task's IAM role (`aws-iam` auth
 * method, entity details, server ID header), wait for the token to replicate, write its SecretID to a sink file, and
 * on SIGTERM (or Ctrl-C) log it out and exit 0 (1 if the logout failed).
 *
 * `pnpm exec tsx examples/consul-sidecar/main.ts [--sink <file>] [--method <name>] [--server-id <value>]
 *   [--meta key=value]... [--emulators]`
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { consulTokenProvider } from '@ecs-identity/consul-login';
import { logoutOnSigterm, tokenFileSink } from '@ecs-identity/consul-login/node';
import { IdentityError } from '@ecs-identity/core';
import { taskEnvironment } from '../shared/environment.js';
import { lineLogger } from '../shared/line-logger.js';

const usage =
  'usage: tsx examples/consul-sidecar/main.ts [--sink <file>] [--method <name>] [--server-id <value>] [--meta key=value]... [--emulators]';
let values: { sink?: string; method?: string; 'server-id'?: string; meta?: string[]; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      sink: { type: 'string' },
      method: { type: 'string' },
      'server-id': { type: 'string' },
      meta: { type: 'string', multiple: true },
      emulators: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`${(e as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const meta: Record<string, string> = {};
for (const kv of values.meta ?? []) {
  const at = kv.indexOf('=');
  if (at <= 0) {
    console.error(`--meta takes key=value, got ${JSON.stringify(kv)}\n${usage}`);
    process.exit(2);
  }
  meta[kv.slice(0, at)] = kv.slice(at + 1);
}

const task = await taskEnvironment(process.argv.slice(2));
const { env, world } = task;
const sink = values.sink ?? join(tmpdir(), 'consul-service-token');
// On the emulators, the auth method's names are known; in a task, pass what your Consul servers are configured with.
const serverId = values['server-id'] ?? world?.names.consulServerId;

const logger = lineLogger((line) => console.log(line));
const tokens = consulTokenProvider({
  logger,
  env, // CONSUL_HTTP_ADDR, CONSUL_CACERT, and the ECS agent's variables
  sink: tokenFileSink(sink), // the SecretID alone, written atomically, mode 0600
  authMethod: values.method,
  aws: { serverIdHeaderValue: serverId },
  meta,
});

// Nothing else holds the event loop open in a real task (the provider's timers are unref'd): this does, until exit.
const keepAlive = setInterval(() => {}, 1 << 30);

logoutOnSigterm([{ name: 'service token', provider: tokens }], {
  signals: ['SIGTERM', 'SIGINT'],
  logger,
  exit: (code) => {
    clearInterval(keepAlive);
    console.log(code === 0 ? 'logged out of Consul; exiting' : 'logout failed; exiting with status 1');
    void task.close().finally(() => process.exit(code));
  },
});

try {
  const token = await tokens.get();
  const service = token.serviceIdentities.map((s) => s.serviceName).join(', ') || '(no service identity)';
  console.log(`logged in to Consul at ${tokens.acl.address}: accessor ${token.accessorId}, service ${service}`);
  console.log(`SecretID written to ${sink}`);
  console.log(`ready (pid ${process.pid}): send SIGTERM or press Ctrl-C to log out`);
} catch (e) {
  console.error(
    `login failed: ${IdentityError.is(e) ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`,
  );
  clearInterval(keepAlive);
  await task.close();
  process.exit(1);
}
