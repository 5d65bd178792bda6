/**
 * For the crash tests' child processes: core's `errors.ts` and `node/files.ts` transpiled to plain JS in `dir`. The
 * package is not built during tests and tsx costs ~250 ms per spawn (plain node: ~80 ms), so the real sources are
 * transpiled once and the children stay plain JS. Returns the path of `files.js`.
 * Test support only; not part of the package.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

export function transpileFilesModule(dir: string): string {
  mkdirSync(join(dir, 'node'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const file of ['errors.ts', 'node/files.ts']) {
    const out = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), out.outputText);
  }
  return join(dir, 'node', 'files.js');
}
