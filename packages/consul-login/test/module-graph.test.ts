/**
 * Importing the browser-safe entry must load no AWS SDK module (`@aws-sdk/*`) and no Node built-in. Checked from the
 * real module graph of a fresh Node process (see test-support/module-graph-probe.mjs).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { moduleGraph as graph } from '../../../test-support/module-graph.js';

describe('module graph', () => {
  it("the Node build exports the browser-safe build's names, with the same types", async () => {
    const browser = await import('../src/index.js');
    const node = await import('../src/index.node.js');
    // Each build's exports can stand for the other's: one .d.ts serves both.
    expectTypeOf(node).toExtend<typeof browser>();
    expectTypeOf(browser).toExtend<typeof node>();
    expect(Object.keys(node).sort()).toEqual(Object.keys(browser).sort());
  });

  it('@ecs-identity/consul-login (index) loads no @aws-sdk/* module and no node: built-in', async () => {
    const loaded = await graph('packages/consul-login/src/index.ts', { condition: 'default' });
    // The probe saw the real graph, from sources: our entry and core.
    expect(loaded.some((u) => u.endsWith('packages/consul-login/src/index.ts'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('packages/core/src/index.ts'))).toBe(true);
    // The signer is loaded by the first signing, not by the import.
    expect(loaded.filter((u) => u.includes('/@smithy/'))).toEqual([]);
    // SHA-256 is the runtime's Web Crypto: no JavaScript hash, and no tslib (whose CommonJS build sets globals).
    expect(loaded.filter((u) => /\/(@aws-crypto\/|tslib\/)/.test(u))).toEqual([]);
    // The XML parser is loaded on first use (AWS's XML answers), not by the import.
    expect(loaded.filter((u) => u.includes('/fast-xml-parser/'))).toEqual([]);
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
    expect(loaded.filter((u) => u.startsWith('node:'))).toEqual([]);
  });

  it('the probe does record built-ins: the Node build of the same entry loads node:fs (the Consul CA, token files)', async () => {
    const loaded = await graph('packages/consul-login/src/index.node.ts');
    expect(loaded).toContain('node:fs');
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
  });
});
