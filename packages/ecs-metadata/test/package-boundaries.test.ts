// The runtime must not load the AWS SDK, and the browser-safe build must load no node:* module.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleGraph as graph } from '../../../test-support/module-graph.js';

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

  it('only the Node build (index.node.ts) imports node:* modules, and index.ts never reaches it', () => {
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
    expect(seen.has('index.node.ts')).toBe(false);
    expect(seen.size).toBe(sources.length - 1);
  });
});

describe('module graph', () => {
  it('the browser-safe build (default condition) loads no node: built-in and no @aws-sdk/* module', async () => {
    const loaded = await graph('packages/ecs-metadata/src/index.ts', { condition: 'default' });
    expect(loaded.some((u) => u.endsWith('packages/ecs-metadata/src/index.ts'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('packages/core/src/index.ts'))).toBe(true);
    expect(loaded.filter((u) => u.startsWith('node:'))).toEqual([]);
    expect(loaded.filter((u) => u.includes('/@aws-sdk/'))).toEqual([]);
  });

  it('the probe does record built-ins: the Node build loads node:fs', async () => {
    const loaded = await graph('packages/ecs-metadata/src/index.node.ts');
    expect(loaded.some((u) => u === 'node:fs/promises' || u === 'node:fs')).toBe(true);
  });
});
