#!/usr/bin/env node
// Runs publint (strict) and Are The Types Wrong (ESM-only profile) over every package under packages/, as published:
// each package is packed once with pnpm (as a release would, so `workspace:^` ranges become versions) and both tools
// read that tarball. Fails on any publint error or warning, any attw problem, or a `workspace:` range left in a
// packed package.json. Needs the packages built (`node scripts/run.mjs publint` builds first).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { capture, packPackages, tool } from './commands.mjs';

const dest = mkdtempSync(join(tmpdir(), 'ecs-identity-pack-'));
try {
  process.exitCode = await check(dest);
} finally {
  rmSync(dest, { recursive: true, force: true });
}

async function check(dest) {
  let packed;
  try {
    packed = packPackages(dest);
  } catch (e) {
    console.log(e.message);
    return 1;
  }
  let failed = 0;
  for (const { name, filename } of packed) {
    const tarball = readFileSync(filename);
    const { messages, pkg } = await publint({ pack: { tarball: new Uint8Array(tarball).buffer }, strict: true });
    for (const m of messages) console.log(`${name}: [${m.type}] ${formatMessage(m, pkg)}`);
    const bad = messages.filter((m) => m.type !== 'suggestion');
    const deps = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    const unreplaced = Object.entries(deps).filter(([, range]) => String(range).startsWith('workspace:'));
    for (const [dep, range] of unreplaced) console.log(`${name}: packed with ${dep}@${range}`);
    // attw resolves every entry of the tarball the way Node (ESM) and bundlers would.
    const attw = capture(
      ...tool('@arethetypeswrong/cli', 'attw', [
        filename,
        '--profile',
        'esm-only',
        '--format',
        'table-flipped',
        '--no-color',
      ]),
    );
    if (attw.status !== 0) console.log(`${name}: attw found problems\n${attw.stdout}${attw.stderr}`);
    if (bad.length || unreplaced.length || attw.status !== 0) failed++;
    else console.log(`${name}: ok (publint, attw)`);
  }
  return failed ? 1 : 0;
}
