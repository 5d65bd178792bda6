/**
 * Reading a file the user named on the command line, with an error that says which flag's file failed and why.
 * @internal
 */
import { readFile } from 'node:fs/promises';
import { IdentityError } from '@ecs-identity/core';

/** The file's text; FILE_IO naming `what`, the path and the errno code when it cannot be read. @internal */
export async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new IdentityError(
      'FILE_IO',
      `cannot read the ${what} ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
      {
        cause: e,
      },
    );
  }
}
