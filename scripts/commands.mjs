// How the repository's scripts start other programs. Only Node and npm are assumed on the machine:
// - pnpm 10 is the one on PATH when there is one, otherwise pnpm@10 fetched through npx (npm ships npx);
// - the repository's own tools (biome, tsc, vitest, tsx, attw) run on the Node that runs the script
//   (process.execPath), never on whichever `node` comes first on PATH, so a run under Node 22 is Node 22 throughout.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs `command args` in the repository root with the output on this terminal and returns its exit status.
 * A command that cannot start at all (ENOENT) throws, so a missing program is never mistaken for a failing one.
 */
export function run(command, args, options = {}) {
  return start(command, args, { stdio: 'inherit', ...options }).status ?? 1;
}

/** Like {@link run}, but collects the output: `{ status, stdout, stderr }`. */
export function capture(command, args, options = {}) {
  const r = start(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function start(command, args, options) {
  const r = spawnSync(command, args, { cwd: root, env: process.env, ...options });
  if (r.error) throw r.error;
  return r;
}

let pnpmPrefix;

/**
 * The command line that runs pnpm 10 with `args`, as `[command, argv]` for {@link run}: the pnpm on PATH when it is
 * a pnpm 10, otherwise `npx --yes pnpm@10` (decided once per process).
 */
export function pnpm(args) {
  if (pnpmPrefix === undefined) {
    const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
    pnpmPrefix = r.status === 0 && /^10\./.test(r.stdout.trim()) ? ['pnpm'] : ['npx', '--yes', 'pnpm@10'];
  }
  const [command, ...prefix] = pnpmPrefix;
  return [command, [...prefix, ...args]];
}

/**
 * The command line that runs the `bin` of a package installed at the root (`node_modules/<pkg>`) with `args` on this
 * same Node, as `[process.execPath, [<the bin's file>, ...args]]` for {@link run}.
 */
export function tool(pkg, bin, args) {
  const dir = join(root, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  if (file === undefined) throw new Error(`${pkg} has no "${bin}" bin`);
  return [process.execPath, [join(dir, file), ...args]];
}

/**
 * Packs every package under packages/ into `dest` as a release would (`pnpm pack`: `workspace:^` ranges become
 * versions) and returns `[{ name, filename }]`, one per package. Throws with pnpm's output when packing fails.
 */
export function packPackages(dest) {
  const r = capture(...pnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', dest, '--json']));
  if (r.status !== 0) throw new Error(`pnpm pack failed (exit ${r.status})\n${r.stdout}${r.stderr}`);
  return [JSON.parse(r.stdout)].flat().map(({ name, filename }) => ({ name, filename }));
}
