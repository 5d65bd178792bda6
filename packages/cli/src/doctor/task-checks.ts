/**
 * The task's own checks: the variables ECS sets, the task metadata, the host clock (`ClockDrift`) and the task
 * role's credentials. Everything else builds on what these find.
 * @packageDocumentation
 */
import type { CredentialProvider } from '@ecs-identity/core';
import {
  type AwsCredentials,
  getTaskMetadata,
  type TaskIdentity,
  type TaskMetadata,
  taskIdentity,
} from '@ecs-identity/ecs-metadata';
import { type CheckResult, failedWith, result } from './report.js';

type Env = Readonly<Record<string, string | undefined>>;

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';

/** SigV4 refuses a request signed more than 15 minutes away from AWS's clock. */
const SIGV4_SKEW_MS = 15 * 60_000;

/** The variables ECS gives every container: the metadata endpoints and the task role's credentials endpoint. */
export function envCheck(env: Env, agentUrl: string): CheckResult {
  const name = 'ecs env';
  const found = [
    'ECS_CONTAINER_METADATA_URI_V4',
    'ECS_CONTAINER_METADATA_URI',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  ].filter((v) => set(env, v));
  // Names only: AWS_CONTAINER_AUTHORIZATION_TOKEN's value is a secret.
  const seen = found.length > 0 ? `set: ${found.join(', ')}` : 'none of the ECS variables is set';
  if (!set(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') && !set(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')) {
    return result(
      name,
      'fail',
      `${seen}; no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI: the task has no task role`,
      'give the task definition a taskRoleArn (ECS then sets AWS_CONTAINER_CREDENTIALS_RELATIVE_URI in every container); a container started outside ECS has none of these variables',
    );
  }
  if (
    set(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') &&
    !set(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') &&
    !set(env, 'AWS_CONTAINER_AUTHORIZATION_TOKEN') &&
    !set(env, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE')
  ) {
    return result(
      name,
      'warn',
      `${seen}; AWS_CONTAINER_CREDENTIALS_FULL_URI without AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`,
      'an endpoint that requires an Authorization token answers 401 without one: set AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    );
  }
  if (!set(env, 'ECS_CONTAINER_METADATA_URI_V4')) {
    return result(
      name,
      'warn',
      set(env, 'ECS_CONTAINER_METADATA_URI')
        ? `${seen}; no ECS_CONTAINER_METADATA_URI_V4: only the v3 metadata endpoint (no ClockDrift, no launch type)`
        : `${seen}; no ECS_CONTAINER_METADATA_URI_V4 or ECS_CONTAINER_METADATA_URI: only the v2 endpoint at ${agentUrl}/v2/metadata is left`,
      'Fargate platform 1.4.0 and later, and ECS agent 1.39.0 and later on EC2, set ECS_CONTAINER_METADATA_URI_V4: update the platform version or the agent',
    );
  }
  return result(name, 'ok', seen);
}

/** Reads the task metadata (v4, then v3, then v2) within the deadline. */
export async function readMetadata(
  env: Env,
  agentUrl: string,
  timeoutMs: number,
): Promise<{ check: CheckResult; metadata?: TaskMetadata; task?: TaskIdentity }> {
  const name = 'task metadata';
  try {
    const metadata = await getTaskMetadata({
      env,
      agentUrl,
      timeoutMs: Math.min(timeoutMs, 2000),
      retry: { maxAttempts: 2, deadlineMs: timeoutMs },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const task = taskIdentity(metadata);
    const where = [
      `task ${task.taskId} in ${task.region} (partition ${task.partition})`,
      `account ${task.accountId}`,
      `cluster ${task.clusterName}`,
      ...(task.launchType ? [task.launchType] : []),
    ];
    return { check: result(name, 'ok', where.join(', ')), metadata, task };
  } catch (e) {
    return failedWith(
      name,
      e,
      'the ECS agent serves the metadata to the containers of a task: run this inside the task (not on the host), with the variables ECS sets; for the v2 endpoint, -ecs-agent-url',
    );
  }
}

/** The host clock, as the ECS agent reports it in the v4 metadata (`ClockDrift`). */
export function clockCheck(metadata: TaskMetadata | undefined, maxErrorMs: number): CheckResult {
  const name = 'clock';
  if (metadata === undefined) return result(name, 'skip', 'needs the task metadata');
  const drift = metadata.ClockDrift;
  if (drift === undefined || drift === null) {
    return result(
      name,
      'skip',
      'the task metadata has no ClockDrift (only the v4 endpoint of recent Fargate platforms and ECS agents reports it)',
    );
  }
  const bound = typeof drift.ClockErrorBound === 'number' ? drift.ClockErrorBound : undefined;
  const status = drift.ClockSynchronizationStatus ?? 'unknown';
  const seen = `ClockSynchronizationStatus ${status}${bound === undefined ? '' : `, ClockErrorBound ${bound} ms`}${
    drift.ReferenceTimestamp ? ` at ${drift.ReferenceTimestamp}` : ''
  }`;
  const timeSync =
    'the host must synchronise its clock (Fargate does; on EC2 run chrony with the Amazon Time Sync Service, 169.254.169.123)';
  if (bound !== undefined && bound >= SIGV4_SKEW_MS) {
    return result(
      name,
      'fail',
      seen,
      `AWS refuses requests signed more than 15 minutes off (the Consul login's STS request, attestation), and certificates look not yet valid or expired: ${timeSync}`,
    );
  }
  if (status !== 'SYNCHRONIZED') {
    return result(name, 'warn', seen, `the clock error is not known to be small: ${timeSync}`);
  }
  if (bound !== undefined && bound > maxErrorMs) {
    return result(
      name,
      'warn',
      seen,
      `the error bound is above -max-clock-error-ms (${maxErrorMs} ms); certificates issued just now may look not yet valid to peers: ${timeSync}`,
    );
  }
  return result(name, 'ok', seen);
}

/** The task role's credentials, from the container credentials endpoint (what every SDK call signs with). */
export async function taskRoleCheck(
  credentials: () => CredentialProvider<AwsCredentials>,
  timeoutMs: number,
): Promise<{ check: CheckResult; roleArn?: string }> {
  const name = 'task role';
  try {
    // Making the provider throws already when no credentials endpoint is configured.
    const creds = await credentials().get({ signal: AbortSignal.timeout(timeoutMs) });
    const until = creds.expiresAt ? `, credentials valid until ${creds.expiresAt.toISOString()}` : '';
    if (creds.roleArn === undefined) {
      return {
        check: result(
          name,
          'warn',
          `credentials received, but without a RoleArn${until}`,
          'the names that come from the task role (Athenz) cannot be checked: pass -domain and -service',
        ),
      };
    }
    return { check: result(name, 'ok', `${creds.roleArn}${until}`), roleArn: creds.roleArn };
  } catch (e) {
    return failedWith(
      name,
      e,
      'the task role credentials come from the ECS agent (169.254.170.2 on a task): check taskRoleArn in the task definition and that the container may reach the agent',
    );
  }
}
