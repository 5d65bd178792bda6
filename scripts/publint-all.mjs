#!/usr/bin/env node
// Runs publint (strict) and Are The Types Wrong (ESM-only profile) over every package under packages/; fails on any
// publint error or warning, or any attw problem.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
let failed = 0;
for (const name of readdirSync(root)) {
  const dir = join(root, name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const { messages } = await publint({ pkgDir: dir, strict: true, level: 'suggestion' });
  const bad = messages.filter((m) => m.type !== 'suggestion');
  for (const m of messages) console.log(`${pkg.name}: [${m.type}] ${formatMessage(m, pkg)}`);
  // attw packs the package (npm pack) and resolves every entry the way Node (ESM) and bundlers would.
  const attw = spawnSync(
    join(dir, '..', '..', 'node_modules', '.bin', 'attw'),
    ['--pack', dir, '--profile', 'esm-only', '--format', 'table-flipped'],
    { encoding: 'utf8' },
  );
  if (attw.status !== 0) console.log(`${pkg.name}: attw found problems\n${attw.stdout}${attw.stderr}`);
  if (bad.length || attw.status !== 0) failed++;
  else console.log(`${pkg.name}: ok (publint, attw)`);
}
process.exit(failed ? 1 : 0);
