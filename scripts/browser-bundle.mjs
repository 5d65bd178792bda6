// One way to list a package's entries and bundle them for a browser, shared by the consumer test
// (scripts/consumer-test.mjs) and the size budgets (bench/size.bench.ts): the bench measures the bundles the consumer
// test checks and runs in Chromium.
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Bundles `contents` (TypeScript or JavaScript, its imports resolved from `resolveDir`) with esbuild for the
 * browser: `platform: 'browser'` (so export conditions `browser` / `import` / `default` apply, never `node`),
 * ES2022, minified. A Node built-in anywhere in the graph fails the build (esbuild cannot resolve it for a browser).
 * Returns the code, its size minified and gzipped (zlib's default level), and the bundled input files.
 * With `splitting` (ESM only), esbuild splits at each dynamic `import()` as an application bundler would; `code`,
 * `bytes` and `gzipBytes` are then what a page loads up front (the entry and the chunks it imports statically, each
 * gzipped on its own), and `totalBytes` / `totalGzipBytes` / `chunks` count every output.
 */
export async function bundleForBrowser({
  contents,
  resolveDir,
  format = 'esm',
  globalName,
  minify = true,
  splitting = false,
}) {
  const result = await build({
    stdin: { contents, resolveDir, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format,
    ...(globalName === undefined ? {} : { globalName }),
    target: 'es2022',
    // Packages resolve through node_modules and their `exports`, never through a tsconfig's `paths` to sources.
    tsconfigRaw: {},
    minify,
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // Nothing is written: the outputs are named under a directory only so that chunks can be told apart.
    ...(splitting ? { splitting: true, outdir: join(resolveDir, '.split-bundle') } : {}),
  });
  if (splitting) return splitResult(result);
  const code = result.outputFiles[0].contents;
  return {
    code: Buffer.from(code).toString('utf8'),
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    inputs: Object.keys(result.metafile.inputs),
  };
}

/** The up-front part of a split build: the entry output and, transitively, the chunks it imports statically. */
function splitResult(result) {
  const cwd = process.cwd();
  const files = new Map(result.outputFiles.map((f) => [relative(cwd, f.path), f.contents]));
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find(
    (name) => outputs[name].entryPoint !== undefined && name.endsWith('stdin.js'),
  );
  const initial = new Set();
  const visit = (name) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const i of outputs[name].imports) if (i.kind === 'import-statement' && outputs[i.path]) visit(i.path);
  };
  visit(entry);
  const contentsOf = (name) => files.get(relative(cwd, resolve(cwd, name)));
  const sum = (names, f) => names.reduce((n, name) => n + f(contentsOf(name)), 0);
  const all = Object.keys(outputs).filter((name) => name.endsWith('.js'));
  return {
    code: Buffer.from(contentsOf(entry)).toString('utf8'),
    bytes: sum([...initial], (c) => c.byteLength),
    gzipBytes: sum([...initial], (c) => gzipSync(c).byteLength),
    totalBytes: sum(all, (c) => c.byteLength),
    totalGzipBytes: sum(all, (c) => gzipSync(c).byteLength),
    chunks: all.length,
    inputs: Object.keys(result.metafile.inputs),
  };
}

/**
 * Packages whose every entry is Node-only (DESIGN.md: testkit starts servers; the CLI runs commands). In the others,
 * every entry but `./node` is browser-safe: a browser bundler resolves it through its `browser` / `default`
 * condition, never `node`.
 */
export const NODE_ONLY_PACKAGES = new Set(['@ecs-identity/testkit', '@ecs-identity/cli']);

/**
 * The entries of a package, from its `package.json` `exports` (JSON subpaths left out): the specifier a user imports
 * and whether it is browser-safe (see {@link NODE_ONLY_PACKAGES}).
 */
export function entriesOf(manifest) {
  return Object.keys(manifest.exports ?? {})
    .filter((subpath) => !subpath.endsWith('.json'))
    .map((subpath) => ({
      specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      browserSafe: !NODE_ONLY_PACKAGES.has(manifest.name) && subpath !== './node',
    }));
}

/** The npm package a bundled input file belongs to (`@scope/name` or `name`), or undefined outside node_modules. */
export function packageOf(input) {
  const parts = input.split('node_modules/');
  if (parts.length < 2) return undefined;
  const [first, second] = parts.at(-1).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}
