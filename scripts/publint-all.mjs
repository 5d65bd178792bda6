#!/usr/bin/env node
// Runs publint (strict) over every package under packages/; fails on any error or warning.
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
  if (bad.length) failed++;
  else console.log(`${pkg.name}: ok`);
}
process.exit(failed ? 1 : 0);
