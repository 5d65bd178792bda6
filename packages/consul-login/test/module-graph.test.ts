/**
 * Importing the browser-safe entry must load no AWS SDK module (`@aws-sdk/*`) and no Node built-in. Checked from the
 * real module graph of a fresh Node process (see test-support/module-graph-probe.mjs).
 */
import { describe, expect, it } from 'vitest';
import { moduleGraph as graph } from '../../../test-support/module-graph.js';

describe('module graph', () => {
  it('@ecs-identity/consul-login (index) loads no @aws-sdk/* module and no node: built-in', async () => {
    const loaded = await graph('packages/consul-login/src/index.ts', { condition: 'default' });
    // The probe saw the real graph, from sources: our entry, core, and the signer.
    expect(loaded.some((u) => u.endsWith('packages/consul-login/src/index.ts'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('packages/core/src/index.ts'))).toBe(true);
    expect(loaded.some((u) => u.includes('/@smithy/signature-v4/'))).toBe(true);
    expect(loaded.some((u) => u.includes('/@aws-crypto/sha256-js/'))).toBe(true);
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
    expect(loaded.filter((u) => u.startsWith('node:'))).toEqual([]);
  });

  it('the probe does record built-ins: the ./node entry loads node:fs', async () => {
    const loaded = await graph('packages/consul-login/src/node.ts');
    expect(loaded).toContain('node:fs');
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
  });
});
