// Every entry of every package lists its exports explicitly (no `export *`), and the package's README lists the same
// names in its "Public API" section: adding or removing an export without saying so in the README fails here. An
// entry with a `node` condition has a Node build of the same export list as its `default` (browser-safe) build.
// Read from the sources with the TypeScript parser alone (no type checking, no build), so it stays cheap.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PACKAGES } from '../test-support/entries.js';

const root = new URL('../packages/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

type Target = string | Record<string, string>;

/** The names a source entry exports, and whether it re-exports a whole module (`export *`). */
function exportsOf(path: string): { names: string[]; star: string[] } {
  const source = ts.createSourceFile(path, read(path), ts.ScriptTarget.Latest, false);
  const names: string[] = [];
  const star: string[] = [];
  const exported = (node: ts.Node) =>
    ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (clause === undefined) star.push((statement.moduleSpecifier as ts.StringLiteral).text);
      else if (ts.isNamedExports(clause)) names.push(...clause.elements.map((e) => e.name.text));
      else names.push(clause.name.text);
    } else if (exported(statement)) {
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) names.push((d.name as ts.Identifier).text);
      } else {
        const name = (statement as ts.DeclarationStatement).name;
        if (name !== undefined && ts.isIdentifier(name)) names.push(name.text);
      }
    }
  }
  return { names: [...new Set(names)].sort(), star };
}

/** The names the README's "Public API" section lists under the heading that names `specifier`. */
function readmeList(readme: string, specifier: string): string[] | undefined {
  const section = readme.split(/^## Public API\s*$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) return undefined;
  const block = section.split(/^### /m).find((b) => (b.split('\n')[0] ?? '').includes(`\`${specifier}\``));
  if (block === undefined) return undefined;
  // List items, with their indented continuation lines.
  const items: string[] = [];
  for (const line of block.split('\n').slice(1)) {
    const start = line.match(/^- (.*)$/)?.[1];
    if (start !== undefined) items.push(start);
    else if (/^\s+\S/.test(line) && items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
  }
  const names: string[] = [];
  for (const item of items) {
    // `- types: `A`, `B`` lists names; `- `a`, `b` — what they do` names the items before the dash.
    const listed = item.startsWith('types:') ? item : item.split(' — ')[0];
    for (const m of (listed ?? '').matchAll(/`([A-Za-z_$][\w$]*)`/g)) names.push(m[1] as string);
  }
  return [...new Set(names)].sort();
}

describe('public API', () => {
  for (const pkg of PACKAGES) {
    const manifest = JSON.parse(read(`${pkg}/package.json`)) as { name: string; exports: Record<string, Target> };
    const readme = read(`${pkg}/README.md`);
    for (const [entry, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === 'string' ? { default: target } : target;
      const js = Object.entries(targets).filter(([c, file]) => c !== 'types' && file.startsWith('./dist/'));
      if (js.length === 0) continue;
      const specifier = `${manifest.name}${entry === '.' ? '' : entry.slice(1)}`;
      const sourceOf = (file: string) => `${pkg}/src/${file.slice('./dist/'.length).replace(/\.js$/, '.ts')}`;

      it(`${specifier}: an explicit export list, the one its README lists`, () => {
        const main = exportsOf(sourceOf(targets.default as string));
        expect(main.star, `${specifier} re-exports whole modules`).toEqual([]);
        expect(main.names.length).toBeGreaterThan(0);
        expect(readmeList(readme, specifier), `the README's Public API list for ${specifier}`).toEqual(main.names);
        // Every build of the entry (the `node` condition's too) exports the same names.
        for (const [condition, file] of js) {
          expect(exportsOf(sourceOf(file)).names, `${specifier} (${condition})`).toEqual(main.names);
        }
      });
    }
  }
});
