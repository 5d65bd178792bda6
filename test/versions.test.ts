// Every package that sends or prints its version reads it from src/version.ts, which the build writes from
// package.json (scripts/write-version.mjs): the two must agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('versions', () => {
  for (const pkg of ['core', 'athenz-zts', 'cli']) {
    it(`${pkg}: src/version.ts says the version of package.json`, () => {
      const { version } = JSON.parse(read(`packages/${pkg}/package.json`)) as { version: string };
      expect(read(`packages/${pkg}/src/version.ts`)).toContain(`export const VERSION = '${version}';`);
    });
  }
});
