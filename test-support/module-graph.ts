// The modules a fresh Node process loads when it imports one file (see module-graph-probe.mjs): ESM URLs and
// CommonJS paths, from sources through tsx. `condition: 'default'` resolves the packages' own imports of each other
// to their browser-safe (default condition) builds, as a browser bundler would; `node` (the default) to what Node
// resolves.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sourceEntries } from './entries.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const probe = fileURLToPath(new URL('./module-graph-probe.mjs', import.meta.url));

/** A tsconfig whose paths send every `@ecs-identity/*` import to the build of `condition`, for tsx. */
function tsconfigFor(condition: 'node' | 'default'): string {
  const dir = `${root}node_modules/.cache`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/tsconfig.module-graph.${condition}.json`;
  const paths = Object.fromEntries(sourceEntries(condition).map((e) => [e.specifier, [e.source]]));
  writeFileSync(file, JSON.stringify({ extends: `${root}tsconfig.json`, compilerOptions: { baseUrl: root, paths } }));
  return file;
}

/** Every module loaded by importing `entry` (a path from the repository root). */
export async function moduleGraph(entry: string, options: { condition?: 'node' | 'default' } = {}): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe, entry], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfigFor(options.condition ?? 'node') },
  });
  const { esm, cjs } = JSON.parse(stdout) as { esm: string[]; cjs: string[] };
  return [...esm, ...cjs];
}
