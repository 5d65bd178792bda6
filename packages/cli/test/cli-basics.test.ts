// The binary as a child process: help, usage errors, `metadata` against the testkit's ECS agent, and a failure.
import { type EcsAgent, startEcsAgent } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

let agent: EcsAgent;
beforeAll(async () => {
  agent = await startEcsAgent({ region: 'eu-west-1', clusterName: 'payments', family: 'web', revision: '12' });
});
afterAll(() => agent?.close());

describe('ecs-identity (child process)', () => {
  it('--help prints the commands on stdout and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: ecs-identity <command>/);
    expect(r.stdout).toContain('athenz post|rotate|rolecert|token|run');
    expect(r.stdout).toContain('consul login|logout|wait|run');
    expect(r.stderr).toBe('');
  });

  it('<command> -h prints its flags and exits 0', async () => {
    const r = await run(['athenz', 'post', '-h']);
    expect(r.code).toBe(0);
    for (const flag of [
      '-zts HOST',
      '-ztsport N',
      '-ztscacert FILE',
      '-dnsdomains LIST',
      '-providerprefix',
      '-regionalsts',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('ATHENZ_SIA_IAM_ROLE_ARN');
  });

  it('an unknown flag exits 2 with the error line and the usage on stderr', async () => {
    const r = await run(['consul', 'login', '-aws-bogus']);
    expect(r.code).toBe(2);
    const [first, blank, usage] = r.stderr.split('\n');
    expect(first).toBe('ecs-identity: consul login: INVALID_ARGUMENT: flag provided but not defined: -aws-bogus');
    expect(blank).toBe('');
    expect(usage).toBe('Usage: ecs-identity consul login [flags]');
    expect(r.stdout).toBe('');
  });

  it('metadata prints the task identity as JSON', async () => {
    const r = await run(['metadata'], agent.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: agent.accountId,
      taskId: agent.taskId,
      taskArn: agent.taskArn,
      clusterArn: agent.clusterArn,
      clusterName: 'payments',
      family: 'web',
      revision: '12',
      launchType: 'FARGATE',
      availabilityZone: 'eu-west-1a',
    });
  });

  it('metadata exits 1 with one line naming every endpoint when none answers', async () => {
    // No metadata variables, and the v2 endpoint pointed at a closed port.
    const r = await run(['metadata', '-ecs-agent-url', 'http://127.0.0.1:9', '-timeout-ms', '500']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^ecs-identity: metadata: METADATA_UNAVAILABLE: could not read the task metadata; tried: /,
    );
    expect(lines[0]).toContain('ECS_CONTAINER_METADATA_URI_V4: not set');
    expect(lines[0]).toContain('http://127.0.0.1:9/v2/metadata');
  });
});
