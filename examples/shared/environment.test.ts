import { getTaskIdentity } from '@ecs-identity/ecs-metadata';
import { TASK_EMULATOR_DEFAULTS as DEFAULTS } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { inEcsTask, taskEnvironment } from './environment.js';

describe('inEcsTask', () => {
  it('is true with any ECS agent variable and false without (empty values do not count)', () => {
    expect(inEcsTask({ ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' })).toBe(true);
    expect(inEcsTask({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x' })).toBe(true);
    expect(inEcsTask({ AWS_CONTAINER_CREDENTIALS_FULL_URI: '', HOME: '/root' })).toBe(false);
    expect(inEcsTask({})).toBe(false);
  });
});

describe('taskEnvironment', () => {
  it('uses the real environment as is when it has ECS variables', async () => {
    const said: string[] = [];
    const env = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' };
    const t = await taskEnvironment([], env, (l) => said.push(l));
    expect(t.world).toBeUndefined();
    expect(t.env).toBe(env);
    expect(said).toEqual(['running in an ECS task (ECS variables found)']);
    await t.close();
  });

  it('starts the emulators without ECS variables (or with --emulators) and gives their task environment', async () => {
    const said: string[] = [];
    const t = await taskEnvironment(['--emulators'], { HOME: '/home/x', ECS_CONTAINER_METADATA_URI_V4: 'real' }, (l) =>
      said.push(l),
    );
    try {
      expect(t.world).toBeDefined();
      expect(said[0]).toContain('--emulators');
      expect(t.env.HOME).toBe('/home/x'); // the process's own variables are kept...
      expect(t.env.ECS_CONTAINER_METADATA_URI_V4).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//); // ...the task's win
      expect(t.env.CONSUL_HTTP_ADDR).toBe(t.world?.consul.url);
      const id = await getTaskIdentity({ env: t.env });
      expect(id).toMatchObject({
        region: DEFAULTS.region,
        accountId: DEFAULTS.accountId,
        clusterName: DEFAULTS.clusterName,
      });
    } finally {
      await t.close();
      await t.close(); // idempotent
    }
  });
});
