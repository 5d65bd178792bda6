// The runtime must not load the AWS SDK, and the main entry's import graph must stay free of node:* modules.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const srcDir = new URL('../src/', import.meta.url);
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const text = (f: string) => readFileSync(new URL(f, srcDir), 'utf8');
const imports = (f: string) => [...text(f).matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);

describe('package boundaries', () => {
  it('no runtime source imports @aws-sdk (type-only @smithy/types is allowed)', () => {
    expect(sources.length).toBeGreaterThan(5);
    for (const f of sources) {
      expect(
        imports(f).filter((m) => m.startsWith('@aws-sdk/')),
        f,
      ).toEqual([]);
      for (const line of text(f)
        .split('\n')
        .filter((l) => l.includes("from '@smithy/"))) {
        expect(line, f).toMatch(/^import type /);
      }
    }
  });

  it('only node.ts imports node:* modules, and index.ts never reaches node.ts', () => {
    const seen = new Set<string>();
    const walk = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const m of imports(f)) {
        expect(m.startsWith('node:'), `${f} imports ${m}`).toBe(false);
        if (m.startsWith('./')) walk(m.slice(2).replace(/\.js$/, '.ts'));
      }
    };
    walk('index.ts');
    expect(seen.has('node.ts')).toBe(false);
    expect(seen.size).toBe(sources.length - 1);
  });
});
