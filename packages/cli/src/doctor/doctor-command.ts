/**
 * `ecs-identity doctor`: a preflight of what ECS identity setups get wrong, one table row per check with a hint.
 * The flags are the athenz and consul commands' own, so a command line that works for them can be checked as is.
 * Kept apart from the checks so that help and usage errors load no client.
 * @packageDocumentation
 */
import { ATHENZ_COMMON_FLAGS } from '../athenz-flags.js';
import type { Command } from '../command.js';
import { consulLoginCommand } from '../consul-commands.js';
import type { FlagSpecs } from '../flags.js';
import { ECS_AGENT_FLAG } from '../shared-flags.js';

function pick(from: FlagSpecs, names: readonly string[]): FlagSpecs {
  return Object.fromEntries(
    names.map((n) => {
      const spec = from[n];
      if (spec === undefined) throw new Error(`doctor: no flag -${n} to share`);
      return [n, spec];
    }),
  );
}

/** @public */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the task, Athenz and Consul setup and print a table with a hint for each problem',
  description: `A preflight, run inside the task with the flags you give the other commands. It checks the ECS
variables, the task metadata, the host clock (ClockDrift), the task role's credentials; with -zts, the Athenz service
the task role names (<domain>.<service>-service), sts:AssumeRole into the attestation role <domain>.<service> (at the
role path), the partition, and ZTS's reachability and TLS; with -http-addr or CONSUL_HTTP_ADDR, Consul's reachability,
TLS and ACLs, the STS / IAM hosts the bearer token carries (aws-cn needs the auth method's STSEndpoint), the task
role's iam:GetRole on itself and its tags (what entity details need, through the very request the token embeds), and
with -consul-login a real login, logged out at once.

Each row has a status: OK (as it should be), WARN (works, or could not be checked: worth a look), FAIL (will not
work as configured), SKIP (not asked for, or what it needs failed). Exit status 0 when no check failed (warnings
allowed), 1 when one did, 2 for a usage error. Every network check has its own deadline (-timeout-ms). No secret is
printed: AWS credentials, the attestation's assumed-role credentials and the login's SecretID never leave memory.`,
  flags: {
    ...pick(ATHENZ_COMMON_FLAGS, [
      'zts',
      'ztsport',
      'ztscacert',
      'domain',
      'service',
      'iam-role-arn',
      'role-path',
      'omit-domain',
      'regionalsts',
      'sts-endpoint',
    ]),
    ...pick(consulLoginCommand.flags, [
      'http-addr',
      'ca-file',
      'client-cert',
      'client-key',
      'method',
      'partition',
      'namespace',
      'datacenter',
      'aws-include-entity',
      'aws-server-id-header-value',
      'aws-region',
      'aws-sts-endpoint',
      'aws-iam-endpoint',
    ]),
    'consul-login': {
      type: 'bool',
      help: 'also log in with -method and log out again (creates a token for a moment)',
      default: false,
    },
    'consul-tags': {
      type: 'string',
      placeholder: 'LIST',
      help: "comma-separated tags the auth method's binding rules read from the task role (empty: none)",
      default: 'consul.hashicorp.com.service-name',
    },
    'max-clock-error-ms': {
      type: 'int',
      help: "warn when the host's ClockErrorBound is above this",
      default: 1000,
    },
    'timeout-ms': { type: 'int', min: 1, help: 'deadline of each network check in milliseconds', default: 5000 },
    json: { type: 'bool', help: 'print the report as one JSON document instead of a table', default: false },
    'ecs-agent-url': ECS_AGENT_FLAG,
  },
  run: async (ctx) => (await import('./run-doctor.js')).runDoctor(ctx),
};
