// The source file behind each entry of each package, read from the packages' `exports` (`./dist/x.js` is built from
// `src/x.ts`): what the tests import instead of a build. `node` picks an entry's Node build where it has one (what
// Node resolves), `default` the browser-safe build.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PACKAGES = ['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'testkit', 'cli'] as const;

type Target = string | { node?: string; default?: string };

/** `@ecs-identity/<pkg>[/<entry>]` → the absolute path of its source, for the given export condition. */
export function sourceEntries(condition: 'node' | 'default'): { specifier: string; source: string }[] {
  return PACKAGES.flatMap((name) => {
    const dir = fileURLToPath(new URL(`../packages/${name}/`, import.meta.url));
    const manifest = JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as { exports: Record<string, Target> };
    return Object.entries(manifest.exports).flatMap(([entry, target]) => {
      const file = typeof target === 'string' ? target : (target[condition] ?? target.default);
      if (file === undefined || !file.startsWith('./dist/')) return [];
      return [
        {
          specifier: `@ecs-identity/${name}${entry === '.' ? '' : entry.slice(1)}`,
          source: `${dir}src/${file.slice('./dist/'.length).replace(/\.js$/, '.ts')}`,
        },
      ];
    });
  });
}
