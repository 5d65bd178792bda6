#!/usr/bin/env node
// Keeps a package's `src/version.ts` equal to its package.json: run by the package's build (from the package
// directory), so the version the code sends (User-Agent) and prints (--version) is the one published.
// test/versions.test.ts fails when a version.ts and its package.json disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.cwd();
const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const file = join(dir, 'src', 'version.ts');
const text = readFileSync(file, 'utf8');
const line = /^export const VERSION = '[^']*';$/m;
if (!line.test(text)) throw new Error(`${file} has no "export const VERSION = '...';" line`);
const next = text.replace(line, `export const VERSION = '${version}';`);
if (next !== text) writeFileSync(file, next);
