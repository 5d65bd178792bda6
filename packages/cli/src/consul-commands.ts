/**
 * `ecs-identity consul login | logout | wait`: `consul login -type aws-iam -aws-auto-bearer-token` with the ECS
 * task's role, the token's logout, and the replication wait consul-ecs does after a login.
 * @packageDocumentation
 */
import type { Command, CommandGroup } from './command.js';
import type { FlagSpec, FlagSpecs } from './flags.js';
import { withStopListener } from './long-running.js';
import { ECS_AGENT_FLAG, RUN_LOG_LEVEL_FLAG } from './shared-flags.js';

const actions = () => import('./consul-actions.js');

/** Where the Consul HTTP API is and how to trust it: the Consul CLI's flags and variables. */
const CONNECTION_FLAGS: FlagSpecs = {
  'http-addr': {
    type: 'string',
    placeholder: 'ADDR',
    help: 'Consul HTTP API address, http(s)://host:port or host:port (https when CONSUL_HTTP_SSL=true)',
    env: ['CONSUL_HTTP_ADDR'],
    default: '127.0.0.1:8500',
  },
  'ca-file': { type: 'string', placeholder: 'FILE', help: 'CA bundle for an https address', env: ['CONSUL_CACERT'] },
  'client-cert': {
    type: 'string',
    placeholder: 'FILE',
    help: 'client certificate for servers that verify clients',
    env: ['CONSUL_CLIENT_CERT'],
  },
  'client-key': { type: 'string', placeholder: 'FILE', help: 'key of -client-cert', env: ['CONSUL_CLIENT_KEY'] },
  'timeout-ms': {
    type: 'int',
    min: 1,
    help: 'per-request timeout in milliseconds (a login that answers later is logged out when it does)',
    default: 10_000,
  },
};

const TOKEN_FILE_FLAG: FlagSpecs = {
  'token-file': {
    type: 'string',
    placeholder: 'FILE',
    aliases: ['token-sink-file'],
    help: 'file holding the token SecretID (what login wrote); else CONSUL_HTTP_TOKEN, else CONSUL_HTTP_TOKEN_FILE',
  },
};

/** What a login needs: the auth method, the token's meta and sink, the AWS side, the replication wait. */
const LOGIN_FLAGS: FlagSpecs = {
  method: {
    type: 'string',
    placeholder: 'NAME',
    help: 'the aws-iam auth method',
    default: 'iam-ecs-service-token',
  },
  'token-sink-file': { type: 'string', placeholder: 'FILE', help: 'where to write the SecretID (required)' },
  meta: { type: 'list', placeholder: 'KEY=VALUE', help: 'token meta' },
  ...CONNECTION_FLAGS,
  partition: { type: 'string', help: 'admin partition (Enterprise)', env: ['CONSUL_PARTITION'] },
  namespace: { type: 'string', help: 'namespace (Enterprise)', env: ['CONSUL_NAMESPACE'] },
  datacenter: { type: 'string', placeholder: 'DC', help: 'datacenter of the auth method' },
  'aws-include-entity': {
    type: 'bool',
    help: 'embed the signed iam:GetRole request (needed for entity_tags / path bindings)',
    default: true,
  },
  'aws-server-id-header-value': {
    type: 'string',
    help: "the auth method's ServerIDHeaderValue (signed X-Consul-IAM-ServerID header)",
  },
  'aws-region': { type: 'string', placeholder: 'REGION', help: "STS signing region (default: the task's region)" },
  'aws-sts-endpoint': { type: 'string', placeholder: 'URL', help: 'STS URL put in the token' },
  'aws-iam-endpoint': { type: 'string', placeholder: 'URL', help: 'IAM URL put in the token' },
  type: { type: 'string', help: 'auth method type (only aws-iam)', default: 'aws-iam' },
  'aws-auto-bearer-token': {
    type: 'bool',
    help: 'build the bearer token from the task role (always on; accepted for consul login compatibility)',
    default: true,
  },
  'replication-attempts': {
    type: 'int',
    help: 'stale self-reads (100 ms apart) to wait for replication; 0 skips the wait',
    default: 20,
  },
  'ecs-agent-url': ECS_AGENT_FLAG,
};

const SINK_MODE_FLAG: FlagSpecs = {
  'token-sink-mode': {
    type: 'string',
    placeholder: 'MODE',
    help: 'mode of the sink file, octal like chmod (0644 lets another container read it)',
    default: '0600',
  },
};

/** @public */
export const consulLoginCommand: Command = {
  name: 'login',
  summary: 'log in with the task role (aws-iam auth method) and write the token to a sink file',
  description: `Does what "consul login -type aws-iam -aws-auto-bearer-token -aws-include-entity" does in
consul-ecs: reads the task metadata and the task-role credentials, builds a signed bearer token, logs in with the
token meta consul.hashicorp.com/task-id and consul.hashicorp.com/cluster (merged with -meta, yours win), waits until
the token can be read back with ?stale (replication), and writes the SecretID alone to -token-sink-file (atomic,
mode -token-sink-mode, 0600 by default). On stdout: one JSON line with the AccessorID (never the SecretID). If
anything after the login fails, the token is logged out again; a login whose answer comes after -timeout-ms is
logged out when it comes (the process waits for it, at most 30 s).`,
  flags: { ...LOGIN_FLAGS, ...SINK_MODE_FLAG },
  run: async (ctx) => (await actions()).login(ctx),
};

/** @public */
export const consulLogoutCommand: Command = {
  name: 'logout',
  summary: 'log out (delete) the tokens that logins wrote',
  description: `Destroys tokens made by an auth method login (POST /v1/acl/logout), like "consul logout", one per
-token-file (repeatable: health-sync logs out the service token and the client token); without one, the token in
CONSUL_HTTP_TOKEN, else in the file named by CONSUL_HTTP_TOKEN_FILE. The files are left in place. A token that is
already gone (ACL not found) counts as logged out. On stdout: one JSON line per token logged out; on stderr: one
line per failure, and the status is 1 if any failed.`,
  flags: {
    'token-file': {
      ...(TOKEN_FILE_FLAG['token-file'] as FlagSpec),
      type: 'list',
      help: 'file holding a token SecretID',
    },
    ...CONNECTION_FLAGS,
  },
  run: async (ctx) => (await actions()).logout(ctx),
};

/** @public */
export const consulRunCommand: Command = {
  name: 'run',
  summary: 'log in, keep the token file current, log out every token at SIGTERM (consul-client startup + health-sync)',
  description: `The consul-client container's startup script and health-sync's shutdown part in one process: logs in
like "consul login" (any aws-iam auth method: -method iam-ecs-client-token for the client agent's token), waits for
replication, writes the SecretID to -token-sink-file (atomically, mode -token-sink-mode, e.g. 0644 for a token
another container reads), logs in again before a token with an expiry lapses (the file switched atomically, the old
token logged out -old-token-grace-ms later), and on SIGTERM / SIGINT logs out every token it made, then the tokens in
the -token-file files (as health-sync logs out the service and client tokens). A token already gone counts as
logged out. A login whose answer comes after -timeout-ms is logged out when it comes. Prints one JSON line per
event: token, rotated, refresh-failed, logged-out, logout-failed, stopped.`,
  exitStatus: `Exit status (each failure also names its cause on one stderr line):
  0  stopped by SIGTERM / SIGINT, and every logout succeeded (a token already gone counts as logged out)
  1  stopped, but a logout failed; or the first login failed; or the token expired and no new login succeeded
  2  usage error`,
  flags: {
    ...LOGIN_FLAGS,
    ...SINK_MODE_FLAG,
    'old-token-grace-ms': {
      type: 'int',
      help: 'after a new token is written, the old one stays valid this long, then it is logged out',
      default: 30_000,
    },
    'token-file': {
      type: 'list',
      placeholder: 'FILE',
      help: 'also log out the token in this file at SIGTERM (e.g. the service token)',
    },
    ...RUN_LOG_LEVEL_FLAG,
  },
  // Listens for the stop signal before loading the actions, so a SIGTERM at any moment of start-up ends it cleanly.
  run: (ctx) => withStopListener(ctx.io, async (stop) => (await actions()).runConsul(ctx, stop)),
};

/** @public */
export const consulWaitCommand: Command = {
  name: 'wait',
  summary: 'wait until the token has replicated (stale self-read answers)',
  description: `Reads the token back with GET /v1/acl/token/self?stale until a server answers, as consul-ecs does
after a login: a token is created on the leader and a follower may not know it yet. ACL not found and transient
errors are waited out, at most -attempts times and -max-wait-ms in all; anything else fails at once. The token comes
from -token-file, else CONSUL_HTTP_TOKEN, else CONSUL_HTTP_TOKEN_FILE. On stdout: one JSON line with the AccessorID.
Exit status 1 with CONSUL_NOT_REPLICATED when the tries or the time run out.`,
  flags: {
    ...TOKEN_FILE_FLAG,
    ...CONNECTION_FLAGS,
    attempts: { type: 'int', min: 1, help: 'self-reads in all', default: 20 },
    'interval-ms': { type: 'int', help: 'pause between self-reads in milliseconds', default: 100 },
    'max-wait-ms': {
      type: 'int',
      min: 1,
      help: 'the bound on the whole wait in milliseconds, every self-read and pause included',
      default: 10_000,
    },
  },
  run: async (ctx) => (await actions()).wait(ctx),
};

/** @public */
export const consulGroup: CommandGroup = {
  name: 'consul',
  summary: 'Consul ACL login with the task role (consul login -type aws-iam), logout, replication wait, run',
  description: `Consul ACL tokens for an ECS task, from its IAM task role through an aws-iam auth method.
The address and TLS come from -http-addr / CONSUL_HTTP_ADDR, CONSUL_HTTP_SSL, -ca-file / CONSUL_CACERT.`,
  commands: [consulLoginCommand, consulLogoutCommand, consulWaitCommand, consulRunCommand],
};
