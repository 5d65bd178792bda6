// Imports the module given as argv[2] and prints every module it loaded, as JSON {esm: [...urls], cjs: [...paths]}.
// Run as `node --import tsx module-graph-probe.mjs <file>` from the repo root (tsx maps @ecs-identity/* to sources).
// ESM resolutions are recorded by a module.register hook (it runs in a loader thread, so it appends to a file);
// CommonJS modules (loaded by ESM imports of CJS packages) are read from require.cache.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'module-graph-'));
const log = join(dir, 'resolved.txt');
const hooks = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url, { data: { log } });

await import(pathToFileURL(resolve(process.argv[2])).href);
const esm = readFileSync(log, 'utf8').split('\n').filter(Boolean);
const cjs = Object.keys(createRequire(import.meta.url).cache);
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ esm, cjs }));
