// Node's process warnings reach the binary's stderr, every one of them, each folded onto one line: the AWS SDK's
// NodeVersionSupportWarning (which the SDK emits on Node < 22 when a client is created) is the one signal a Node 20
// user gets before the SDK stops supporting their Node, so the CLI must not drop it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenzWorld, startAthenzWorld } from './emulators.js';
import { run } from './helpers.js';

let world: AthenzWorld;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-warnings-'));
  world = await startAthenzWorld(dir);
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// The SDK's own rule (@aws-sdk/core emitWarningIfUnsupportedVersion): it warns when the major version is below 22.
const sdkWarns = Number(process.versions.node.split('.')[0]) < 22;
// `helpers.run` switches the notice off for the other tests; an empty value is the SDK's default (on).
const sdkNoticeOn = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' };

/** NODE_OPTIONS that preload a module emitting `warning` as the process is about to exit (the guard kept). */
async function emitAtExit(file: string, warning: string): Promise<Record<string, string>> {
  const path = join(dir, file);
  await writeFile(path, `process.once('beforeExit', () => process.emitWarning(${warning}));\n`);
  const preload = `--import=${pathToFileURL(path).href}`;
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim() };
}

describe('process warnings (child process)', () => {
  it(`athenz post ${sdkWarns ? 'prints' : 'does not print'} the AWS SDK's NodeVersionSupportWarning on Node ${process.versions.node}`, async () => {
    const r = await run(['athenz', 'post', ...world.args(join(dir, 'sia-notice'))], { ...world.env, ...sdkNoticeOn });
    expect(r.code).toBe(0);
    if (sdkWarns) {
      expect(r.stderr).toMatch(
        /^ecs-identity: warning: Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript \(v3\) [^\n]*node >=22\.[^\n]*\n$/,
      );
    } else {
      expect(r.stderr).toBe('');
    }
  });

  it('a multi-line warning is printed as one line naming its type', async () => {
    // Emitted once the command is done, so the binary's own warning handling is in place.
    const r = await run(['--help'], await emitAtExit('emit.mjs', "'first line\\n  second line', 'TestWarning'"));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('ecs-identity: warning: TestWarning: first line second line\n');
  });

  it('prints no warning when Node has warnings switched off (NODE_NO_WARNINGS=1)', async () => {
    const env = await emitAtExit('emit-off.mjs', "'unseen', 'TestWarning'");
    const r = await run(['--help'], { ...env, NODE_NO_WARNINGS: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
