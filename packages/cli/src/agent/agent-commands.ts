/**
 * `ecs-identity agent [run] | health | schema`: the flags and help text. The work is loaded only when a command runs
 * (templates, schema validation and the SDK's providers take a while to load).
 * @packageDocumentation
 */
import type { Command, CommandGroup } from '../command.js';
import { withStopListener } from '../long-running.js';
import { ECS_AGENT_FLAG } from '../shared-flags.js';

const run = () => import('./agent.js');

/** Where the configuration file is (both run and health read it). */
const CONFIG_FLAG = { type: 'string', placeholder: 'FILE', env: ['ECS_IDENTITY_AGENT_CONFIG'] } as const;
const health = () => import('./health-command.js');
const schema = () => import('./config-schema.js');

/** @public */
export const agentRunCommand: Command = {
  name: 'run',
  summary: 'obtain, write and keep fresh every credential and template of -config (the default agent command)',
  description: `One process for a task's identity, from one JSON configuration file (its schema: "ecs-identity agent schema", also
agent.schema.json in the package): Consul tokens from aws-iam auth methods, the Athenz service identity with role
certificates and access tokens (siad's files), each written to its files with mode and owner, and Handlebars
templates rendered from the credentials, the task metadata and the environment, rewritten atomically when a
credential they use changes, then a command run or a process signalled. "ecs-identity agent -config F" is this
command.
With -exit-after-render (an init container for ECS dependsOn condition SUCCESS): everything once, then exit 0, or 1
with the failing step named (tokens logged in by a failed run are logged out; a stop before the end is a failure
too). Without it, runs until SIGTERM or SIGINT, then logs every Consul token out (reverse configuration order) and
deletes the Athenz instance record when athenz.deleteOnExit is set; a replaced token is logged out after its
supersededGraceMs. SIGHUP obtains every credential anew (a rotation now). Each credential takes the SDK's refresh and
retry options. stdout: one JSON line per event (credential, refreshed, refresh-failed, expiring, rendered,
template-failed, ready, logged-out, logout-failed, deleted, stopped), never a secret.
Exit status: 0 init mode done, or stopped by SIGTERM / SIGINT with every logout done; 1 a failed step (an invalid
configuration file included), a credential that would expire (or expired) without renewal, or a failed logout /
delete at exit; 2 usage error.`,
  flags: {
    config: { ...CONFIG_FLAG, help: 'the agent configuration file (JSON, required)' },
    'exit-after-render': {
      type: 'bool',
      help: 'init mode: obtain and render everything once, then exit (no logout)',
      default: false,
    },
    'ecs-agent-url': ECS_AGENT_FLAG,
  },
  // Listening for SIGTERM / SIGINT from the first moment, module loading included.
  run: (ctx) => withStopListener(ctx.io, async (stop) => (await run()).runAgentCommand(ctx, stop)),
};

/** @public */
export const agentHealthCommand: Command = {
  name: 'health',
  summary: "check the agent's health (an ECS container health-check command)",
  description: `Asks the running agent whether it is ready: through its health endpoint (health.port, on 127.0.0.1)
or its status file (health.statusFile), found from -config, or given with -url / -status-file. Ready means every
credential is valid (not expired) and every template rendered; -live asks only whether the agent is running (a
status file counts as alive while it is younger than three heartbeats). Prints one JSON line, {"ready": true} or
{"ready": false, "reasons": [...]}, and exits 0 or 1. In a task definition:
  "healthCheck": {"command": ["CMD", "ecs-identity", "agent", "health", "-config", "/etc/ecs-identity/agent.json"]}`,
  flags: {
    config: { ...CONFIG_FLAG, help: 'the agent configuration file: its health.port, else its health.statusFile' },
    url: { type: 'string', placeholder: 'URL', help: "the agent's health endpoint, e.g. http://127.0.0.1:8500" },
    'status-file': { type: 'string', placeholder: 'FILE', help: "the agent's status file" },
    live: { type: 'bool', help: 'check liveness only (the agent runs), not readiness', default: false },
    'timeout-ms': {
      type: 'int',
      min: 1,
      help: 'timeout of the request to the endpoint, in milliseconds',
      default: 2000,
    },
  },
  run: async (ctx) => (await health()).healthCommand(ctx),
};

/** @public */
export const agentSchemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of the agent configuration file',
  description: `Prints the JSON Schema (draft 2020-12) the agent checks its configuration file against; the same
document ships in the package as agent.schema.json, for editors and CI checks.`,
  flags: {},
  async run({ io }) {
    io.stdout((await schema()).schemaDocument());
    return 0;
  },
};

/** @public */
export const agentGroup: CommandGroup = {
  name: 'agent',
  summary: 'one process for the whole task: Consul tokens, Athenz certificates, files, templates, health',
  description: `The agent: Consul tokens and the Athenz identity from one configuration file, written to files and
templates, kept fresh, logged out at SIGTERM (what siad, the consul-client startup script and health-sync do, in one
process). "ecs-identity agent -config FILE" runs it; "agent health" is its health check.`,
  commands: [agentRunCommand, agentHealthCommand, agentSchemaCommand],
  defaultCommand: 'run',
};
