// The package's two builds of one entry: the Node build has the browser-safe build's exports, with the same types
// (checked by tsc over this file), and differs only where Node has a default the browser has none of.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEcsAgent } from '@ecs-identity/testkit';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as browser from '../src/index.js';
import * as node from '../src/index.node.js';

describe('the Node build of @ecs-identity/ecs-metadata', () => {
  it('exports the same names as the browser-safe build, with the same types', () => {
    expectTypeOf<typeof node>().toEqualTypeOf<typeof browser>();
    expect(Object.keys(node).sort()).toEqual(Object.keys(browser).sort());
  });

  it('containerCredentials reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; the browser-safe one asks for readFile', async () => {
    const agent = await startEcsAgent();
    const dir = mkdtempSync(join(tmpdir(), 'token-file-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, `${agent.authToken}\n`);
      const { AWS_CONTAINER_AUTHORIZATION_TOKEN: _, ...env } = agent.env;
      const withFile = { ...env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file };
      const fromNode = node.containerCredentials({ env: withFile });
      expect((await fromNode.get()).accessKeyId).toMatch(/^ASIA/);
      await fromNode.close();
      const fromBrowser = browser.containerCredentials({ env: withFile });
      await expect(fromBrowser.get()).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/pass readFile/),
      });
      await fromBrowser.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await agent.close();
    }
  });
});
