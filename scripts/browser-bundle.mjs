// One way to list a package's entries and bundle them for a browser, shared by the consumer test
// (scripts/consumer-test.mjs) and the size budgets (bench/size.bench.ts): the bench measures the bundles the consumer
// test checks and runs in Chromium.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Bundles `contents` (TypeScript or JavaScript, its imports resolved from `resolveDir`) with esbuild for the
 * browser: `platform: 'browser'` (so export conditions `browser` / `import` / `default` apply, never `node`),
 * ES2022, minified. A Node built-in anywhere in the graph fails the build (esbuild cannot resolve it for a browser).
 * Returns the code, its size minified and gzipped (zlib's default level), and the bundled input files.
 */
export async function bundleForBrowser({ contents, resolveDir, format = 'esm', globalName, minify = true }) {
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
  });
  const code = result.outputFiles[0].contents;
  return {
    code: Buffer.from(code).toString('utf8'),
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
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
