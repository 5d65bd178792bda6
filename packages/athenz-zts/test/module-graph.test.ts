/**
 * The browser-safe build (the default export condition) loads no Node built-in and no AWS SDK module (the attestation
 * imports `@aws-sdk/client-sts` on first use only); neither build loads the `@peculiar` stack until a certificate, a
 * CSR or a key format needs it (x509-load.ts); the Node build loads node:https and node:tls only when it makes a TLS
 * agent (core's node/tls.ts); the Node build exports the same names, with the same types.
 * Checked from the real module graph of a fresh Node process (see test-support/module-graph-probe.mjs).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { moduleGraph as graph } from '../../../test-support/module-graph.js';

describe('module graph', () => {
  it('the browser-safe build loads no node: built-in and no @aws-sdk/* module', async () => {
    const loaded = await graph('packages/athenz-zts/src/index.ts', { condition: 'default' });
    expect(loaded.some((u) => u.endsWith('packages/athenz-zts/src/index.ts'))).toBe(true);
    expect(loaded.filter((u) => u.startsWith('node:'))).toEqual([]);
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
  });

  it('importing either build loads none of the @peculiar stack (nor reflect-metadata, tsyringe, asn1js)', async () => {
    const heavy = /\/(@peculiar\/|reflect-metadata\/|tsyringe\/|asn1js\/)|\/x509-codec\.ts$/;
    for (const [entry, condition] of [
      ['packages/athenz-zts/src/index.ts', 'default'],
      ['packages/athenz-zts/src/index.node.ts', 'node'],
      ['packages/athenz-zts/src/node.ts', 'node'],
    ] as const) {
      const loaded = await graph(entry, { condition });
      expect(loaded.some((u) => u.endsWith(entry))).toBe(true);
      expect(loaded.filter((u) => heavy.test(u))).toEqual([]);
    }
  });

  it('the first use that needs it (reading a CSR) loads it, reflect-metadata first', async () => {
    const loaded = await graph('packages/athenz-zts/test/module-graph/describe-csr.ts', { condition: 'default' });
    const at = (part: string) => loaded.findIndex((u) => u.includes(part));
    expect(at('/@peculiar/x509/')).toBeGreaterThan(-1);
    expect(at('/x509-codec.ts')).toBeGreaterThan(-1);
    expect(at('/reflect-metadata/')).toBeGreaterThan(-1);
    expect(at('/reflect-metadata/')).toBeLessThan(at('/x509-codec.ts'));
  });

  it('the Node build imports node: built-ins (the probe sees them), but not node:https or node:tls (first use)', async () => {
    const loaded = await graph('packages/athenz-zts/src/index.node.ts');
    expect(loaded).toContain('node:crypto');
    expect(loaded.filter((u) => u === 'node:https' || u === 'node:tls')).toEqual([]);
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
  });

  it("the Node build exports the browser-safe build's names, with the same types", async () => {
    const browser = await import('../src/index.js');
    const node = await import('../src/index.node.js');
    expectTypeOf(node).toExtend<typeof browser>();
    expectTypeOf(browser).toExtend<typeof node>();
    expect(Object.keys(node).sort()).toEqual(Object.keys(browser).sort());
  });
});
