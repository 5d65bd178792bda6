// The modules a fresh Node process loads when it imports one file (see module-graph-probe.mjs): ESM URLs and
// CommonJS paths, from sources through tsx.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
const probe = fileURLToPath(new URL('./module-graph-probe.mjs', import.meta.url));

/** Every module loaded by importing `entry` (a path from the repository root). */
export async function moduleGraph(entry: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe, entry], {
    cwd: root,
    timeout: 60_000,
  });
  const { esm, cjs } = JSON.parse(stdout) as { esm: string[]; cjs: string[] };
  return [...esm, ...cjs];
}
