/**
 * Size and import budgets of the built packages, as a user gets them (each package's `exports`, resolved the way a
 * bundler or Node resolves them, from `dist`: the packages are built first when `dist` is older than `src`).
 *
 * - Bundle size: each browser-safe entry (every entry but `./node`, outside the Node-only testkit and CLI), and the
 *   minimal "bearer token" and "keygen + CSR" programs, bundled by esbuild for the browser and minified, in bytes and
 *   gzipped; baselines `jose` and `@aws-sdk/client-sts`, bundled the same way (`export *`). Whether the athenz-zts
 *   browser entry holds AWS SDK code. Target: athenz-zts main entry <= 2 x jose (gzip). athenz-zts loads its X.509
 *   code (the @peculiar stack) on first use, through `import()`: one bundle inlines it, so the athenz-zts bundles are
 *   also measured split at their dynamic imports (esbuild `splitting`, as an application bundler builds a page), where
 *   the figure is what the page loads up front.
 * - Import cost: a fresh Node process importing one entry (Node's conditions), wall time from spawn to exit, the
 *   fastest of rounds that alternate the order (a busy neighbour only ever adds time, so the minimum is the stable
 *   figure on a shared machine; the median is printed beside it); the cost of an import is that minus a bare Node
 *   start (`node -e ''`),
 *   measured in the same rounds; `@aws-sdk/client-sts` is the baseline. The modules each import loads (ESM and
 *   CommonJS files) are counted in a separate process. Target: each entry's import <= 0.5 x the STS client's.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, entriesOf, packageOf } from '../scripts/browser-bundle.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const STS = '@aws-sdk/client-sts';

interface Entry {
  specifier: string;
  /** Where a bare import of it resolves: the package's own folder (Node's self-reference) or bench/. */
  cwd: string;
  browserSafe: boolean;
}

function newestMtime(dir: string, keep: (file: string) => boolean): number {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(d.parentPath, d.name);
    if (d.isFile() && keep(path)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const packages = readdirSync(join(root, 'packages')).map((dir) => {
  const path = join(root, 'packages', dir);
  return { path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) };
});

// Build when a package's dist is missing or older than its sources.
const stale = packages.filter((p) => {
  const src = newestMtime(join(p.path, 'src'), (f) => f.endsWith('.ts') && !f.includes('.test.'));
  try {
    return newestMtime(join(p.path, 'dist'), (f) => f.endsWith('.js')) < src;
  } catch {
    return true;
  }
});
if (stale.length > 0) {
  console.log(`building (dist older than src: ${stale.map((p) => p.manifest.name).join(', ')})`);
  const r = spawnSync(process.execPath, [join(root, 'scripts/run.mjs'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

const entries: Entry[] = packages.flatMap((p) => entriesOf(p.manifest).map((e) => ({ ...e, cwd: p.path })));

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`.padStart(9);

// ---- bundle sizes ----
async function bundle(contents: string, splitting = false) {
  return bundleForBrowser({ contents, resolveDir: benchDir, splitting });
}
console.log('size: esbuild, platform browser, ES2022, minified; gzip at zlib default level');
console.log(`  ${'bundle'.padEnd(44)} ${'min'.padStart(9)} ${'gzip'.padStart(9)}`);
const show = async (name: string, contents: string) => {
  const b = await bundle(contents);
  console.log(`  ${name.padEnd(44)} ${kb(b.bytes)} ${kb(b.gzipBytes)}`);
  return b;
};
/** The same program split at its dynamic imports: what loads up front, and every chunk together. */
const showSplit = async (name: string, contents: string) => {
  const b = await bundle(contents, true);
  console.log(
    `  ${`${name}, split: up front`.padEnd(44)} ${kb(b.bytes)} ${kb(b.gzipBytes)}   (all ${b.chunks} files: ${kb(b.totalBytes ?? 0).trim()} / ${kb(b.totalGzipBytes ?? 0).trim()})`,
  );
  return b;
};
const jose = await show('jose (baseline, export *)', "export * from 'jose';");
await show(`${STS} (baseline, export *)`, `export * from '${STS}';`);
let athenzMain: Awaited<ReturnType<typeof bundle>> | undefined;
let athenzSplit: Awaited<ReturnType<typeof bundle>> | undefined;
for (const e of entries.filter((x) => x.browserSafe)) {
  const b = await show(`${e.specifier} (export *)`, `export * from '${e.specifier}';`);
  if (e.specifier === '@ecs-identity/athenz-zts') {
    athenzMain = b;
    athenzSplit = await showSplit(`${e.specifier} (export *)`, `export * from '${e.specifier}';`);
  }
}
await show('bearer token: buildBearerToken', "export { buildBearerToken } from '@ecs-identity/consul-login';");
const csrProgram = "export { buildServiceCsr, generateKeyPair } from '@ecs-identity/athenz-zts';";
await show('keygen + CSR: generateKeyPair, buildServiceCsr', csrProgram);
await showSplit('keygen + CSR', csrProgram);
if (athenzMain !== undefined) {
  const aws = athenzMain.inputs.filter((i) => packageOf(i)?.startsWith('@aws-sdk/'));
  console.log(
    `  athenz-zts browser entry holds AWS SDK code: ${aws.length > 0 ? `yes (${aws.length} files)` : 'no'}  target: no`,
  );
  console.log(
    `  ratio (athenz-zts gzip / jose gzip) = ${(athenzMain.gzipBytes / jose.gzipBytes).toFixed(2)}  target <= 2.0`,
  );
}
if (athenzSplit !== undefined) {
  console.log(
    `  ratio (athenz-zts split, up front gzip / jose gzip) = ${(athenzSplit.gzipBytes / jose.gzipBytes).toFixed(2)}  target <= 2.0`,
  );
}

// ---- import cost ----
interface Target {
  name: string;
  cwd: string;
  code: string;
}
const importOf = (specifier: string) => `await import(${JSON.stringify(specifier)});`;
const bare: Target = { name: 'bare node', cwd: benchDir, code: '' };
const sts: Target = { name: STS, cwd: benchDir, code: importOf(STS) };
const targets: Target[] = [
  bare,
  sts,
  ...entries.map((e) => ({ name: e.specifier, cwd: e.cwd, code: importOf(e.specifier) })),
];

function wallMs(t: Target): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', t.code], { cwd: t.cwd, stdio: 'inherit' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${t.name}: exit ${r.status}`);
  return ms;
}

// Counts the files an import loads: ESM through a loader hook, CommonJS through require.cache.
const counter = `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
const { port1, port2 } = new MessageChannel();
const files = new Set();
port1.on('message', (url) => files.add(fileURLToPath(url)));
register('data:text/javascript,' + encodeURIComponent(
  'let port; export function initialize(d) { port = d.port; }' +
  'export async function load(url, context, next) { if (url.startsWith("file:")) port.postMessage(url); return next(url, context); }'),
  { data: { port: port2 }, transferList: [port2] });
await import(process.env.BENCH_SPECIFIER);
await new Promise((resolve) => setTimeout(resolve, 200));
for (const f of Object.keys(createRequire(import.meta.url).cache)) files.add(f);
port1.close();
console.log(files.size);
`;
function moduleCount(t: Target, specifier: string | undefined): number {
  if (specifier === undefined) return 0;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', counter], {
    cwd: t.cwd,
    encoding: 'utf8',
    env: { ...process.env, BENCH_SPECIFIER: specifier },
  });
  if (r.status !== 0) throw new Error(`${t.name}: module count failed\n${r.stderr}`);
  return Number(r.stdout.trim());
}

for (const t of targets) wallMs(t); // warm the file cache
const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? targets : [...targets].reverse();
  for (const t of order) samples.get(t.name)!.push(wallMs(t));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fastest = (name: string) => Math.min(...samples.get(name)!);
const bareMs = fastest(bare.name);
const stsCost = fastest(sts.name) - bareMs;
console.log(
  `\nimport: fresh Node ${process.version} process per import, fastest of ${ROUNDS} rounds (alternating order)`,
);
console.log(
  `  ${'entry'.padEnd(34)} ${'process'.padStart(9)} ${'(median)'.padStart(9)} ${'import'.padStart(9)} ${'modules'.padStart(8)}  ratio import/STS (target <= 0.5)`,
);
for (const t of targets) {
  const wall = fastest(t.name);
  const mid = median(samples.get(t.name)!);
  const cost = wall - bareMs;
  const specifier = t === bare ? undefined : t === sts ? STS : t.name;
  const modules = moduleCount(t, specifier);
  const ratio = t === bare || t === sts ? '' : `ratio (${t.name} import / STS import) = ${(cost / stsCost).toFixed(2)}`;
  console.log(
    `  ${t.name.padEnd(34)} ${`${wall.toFixed(0)} ms`.padStart(9)} ${`${mid.toFixed(0)} ms`.padStart(9)} ${`${Math.max(0, cost).toFixed(0)} ms`.padStart(9)} ${String(modules).padStart(8)}  ${ratio}`,
  );
}
console.log(`  (bare node: ${bareMs.toFixed(0)} ms; ${STS} import: ${stsCost.toFixed(0)} ms)`);
