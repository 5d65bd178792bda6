// The built binary the child-process tests run: packages/cli/dist/bin.js, exactly what `npm i -g` installs, over the
// built SDK packages it imports through their package exports (built when missing or stale: test-support).
import { join } from 'node:path';
import { ensureBuilt, REPO_ROOT } from '../../../test-support/built-packages.js';

export { REPO_ROOT };
export const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

/** Builds what is stale of the CLI and the packages it imports; resolves when dist/bin.js is current. */
export async function ensureBinary(): Promise<string> {
  await ensureBuilt(['core', 'ecs-metadata', 'consul-login', 'athenz-zts', 'cli']);
  return BIN;
}
