// The package's promises that are not behaviour: the README documents every flag, the binary keeps its shebang,
// the version matches package.json, and the framework (parser, help, dispatcher) stays pure (no node:* module). Its
// export list is checked against the README by test/api-surface.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMON_FLAGS } from '../src/cli.js';
import { isGroup } from '../src/command.js';
import { program } from '../src/program.js';
import { VERSION } from '../src/version.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('@ecs-identity/cli package', () => {
  it('documents every command, flag and environment variable in the README', () => {
    const readme = read('README.md');
    for (const c of program.commands) {
      const leaves = isGroup(c)
        ? c.commands.map((s) => ({ path: `${c.name} ${s.name}`, cmd: s }))
        : [{ path: c.name, cmd: c }];
      for (const { path, cmd } of leaves) {
        expect(readme, path).toContain(path);
        for (const [name, spec] of Object.entries({ ...cmd.flags, ...COMMON_FLAGS })) {
          expect(readme, `${path} -${name}`).toContain(`\`-${name}`);
          for (const variable of spec.env ?? []) expect(readme, `${path} ${variable}`).toContain(`\`${variable}\``);
        }
      }
    }
  });

  it('keeps the #!/usr/bin/env node line on the binary', () => {
    expect(read('src/bin.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(JSON.parse(read('package.json')).bin).toEqual({ 'ecs-identity': './dist/bin.js' });
  });

  it('has the version of package.json', () => {
    expect(VERSION).toBe(JSON.parse(read('package.json')).version);
  });

  it('imports no node:* module from the framework (dispatcher, parser, help), directly or through its relative imports', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)) {
        const spec = m[1] as string;
        expect(spec.startsWith('node:') || spec.endsWith('/node'), `${file} imports ${spec}`).toBe(false);
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(root, 'src/cli.ts'));
    expect(seen.size).toBeGreaterThan(5);
  });
});
