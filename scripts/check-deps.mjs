#!/usr/bin/env node
// Each package under packages/ declares exactly what its code imports:
// - every package its runtime sources (src/, tests excluded) import, statically, lazily (`import()`) or for types
//   only, is in `dependencies` (or `peerDependencies` / `optionalDependencies`): a consumer's install brings it;
// - every entry of `dependencies` is imported by those sources: nothing installed for nothing;
// - what the tests (`*.test.ts`, `test/`) import is declared in the package or at the workspace root, and every
//   `devDependencies` entry is imported by some file of the package;
// - `sideEffects` is honest: a file that changes global state when loaded is listed (as its built `./dist/*.js`)
//   unless the field is `true`: a file with a side-effect import (`import 'x'`), or a value import of a package that
//   installs globals when Node loads it (GLOBAL_SETTERS; the consumer test sees the globals of each entry for real).
// Imports are read with TypeScript's own pre-processor (ts.preProcessFile), which sees every form of import.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { root } from './commands.mjs';

const ts = createRequire(import.meta.url)('typescript');
const builtins = new Set(builtinModules);
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rootDev = new Set(Object.keys(rootManifest.devDependencies ?? {}));
// Tests reach the workspace's packages through vitest's aliases (testkit's tests use the protocol packages and
// theirs use testkit, which a devDependency would make a cycle).
const workspacePackages = new Set(
  readdirSync(join(root, 'packages')).map(
    (dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).name,
  ),
);

/** The package a bare specifier names (`@scope/name` or `name`), or undefined for relative and built-in ones. */
function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return builtins.has(name) ? undefined : name;
}

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.(m|c)?tsx?$/.test(d.name) && !/\/(node_modules|dist)(\/|$)/.test(d.parentPath))
    .map((d) => join(d.parentPath, d.name));
}

/**
 * Packages that change globals when Node loads them (measured: import each in a fresh process, diff globalThis and
 * Reflect). tslib's CommonJS build, which Node loads behind its ESM wrapper, assigns its helpers (`__extends`,
 * `__awaiter`, ...) to globalThis; reflect-metadata installs `Reflect.getMetadata` and friends.
 */
const GLOBAL_SETTERS = [/^reflect-metadata$/, /^@aws-crypto\/sha256-js$/, /^@peculiar\//];

/** A top-level `require('<GLOBAL_SETTER>')` (a global installed without an import in the declarations). */
function requiresGlobalSetter(s) {
  if (!ts.isExpressionStatement(s) || !ts.isCallExpression(s.expression)) return false;
  const [arg] = s.expression.arguments;
  return (
    ts.isIdentifier(s.expression.expression) &&
    s.expression.expression.text === 'require' &&
    arg !== undefined &&
    ts.isStringLiteral(arg) &&
    GLOBAL_SETTERS.some((re) => re.test(arg.text))
  );
}

/**
 * True when `text` (TypeScript) has a top-level side-effect import, a value import of a GLOBAL_SETTERS package, or a
 * top-level `require()` of one (through `createRequire`).
 */
function changesGlobals(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  return source.statements.some((s) => {
    if (requiresGlobalSetter(s)) return true;
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) return false;
    const clause = s.importClause;
    if (clause === undefined) return true; // import 'x'
    if (clause.isTypeOnly) return false;
    const bindings = clause.namedBindings;
    const valueImport =
      clause.name !== undefined ||
      (bindings !== undefined && (ts.isNamespaceImport(bindings) || bindings.elements.some((e) => !e.isTypeOnly)));
    return valueImport && GLOBAL_SETTERS.some((re) => re.test(s.moduleSpecifier.text));
  });
}

const isTest = (file) => /\.test\.tsx?$/.test(file) || file.includes('/test/') || file.includes('/fixtures/');

let problems = 0;
const problem = (pkg, text) => {
  problems++;
  console.log(`${pkg}: ${text}`);
};

for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const name = manifest.name;
  const runtimeDeclared = new Set(
    ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((f) => Object.keys(manifest[f] ?? {})),
  );
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
  const runtimeImports = new Map(); // package -> first file importing it
  const testImports = new Map();
  const sideEffectFiles = [];

  for (const file of tsFiles(pkgDir)) {
    const text = readFileSync(file, 'utf8');
    const test = isTest(file);
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      const dep = packageName(fileName);
      if (dep === undefined || dep === name) continue;
      const map = test ? testImports : runtimeImports;
      if (!map.has(dep)) map.set(dep, relative(pkgDir, file));
    }
    if (!test && changesGlobals(file, text)) sideEffectFiles.push(relative(pkgDir, file));
  }

  for (const [dep, file] of runtimeImports) {
    if (!runtimeDeclared.has(dep)) {
      problem(
        name,
        `${file} imports ${dep}, which is not in dependencies${dev.has(dep) ? ' (only devDependencies)' : ''}`,
      );
    }
  }
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (!runtimeImports.has(dep)) {
      const tests = testImports.has(dep) ? ' (only tests import it: devDependencies)' : '';
      problem(name, `dependency ${dep} is imported by no runtime source${tests}`);
    }
  }
  for (const [dep, file] of testImports) {
    if (!runtimeDeclared.has(dep) && !dev.has(dep) && !rootDev.has(dep) && !workspacePackages.has(dep)) {
      problem(name, `${file} imports ${dep}, declared neither here nor at the workspace root`);
    }
  }
  for (const dep of dev) {
    if (!testImports.has(dep) && !runtimeImports.has(dep)) problem(name, `devDependency ${dep} is imported nowhere`);
  }

  const listed = manifest.sideEffects;
  for (const file of sideEffectFiles) {
    const built = `./${file.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')}`;
    if (listed !== true && !(Array.isArray(listed) && listed.includes(built))) {
      problem(
        name,
        `${file} changes globals when loaded (a side-effect import, or a value import of a package in GLOBAL_SETTERS): list ${built} in "sideEffects" (or set it true)`,
      );
    }
  }
  if (Array.isArray(listed)) {
    for (const entry of listed) {
      const source = entry.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
      if (!sideEffectFiles.includes(`src/${source}`)) problem(name, `"sideEffects" lists ${entry}, which has none`);
    }
  }
}

console.log(problems === 0 ? 'dependencies: every package declares what it imports, and only that' : '');
process.exitCode = problems === 0 ? 0 : 1;
