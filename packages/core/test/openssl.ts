/**
 * Test certificates made with the openssl CLI (EC P-256: fast), in a caller-owned temp directory.
 * Test support only; not part of the package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPair {
  name: string;
  keyPem: string;
  certPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * A certificate for `name`: self-signed, or signed by `issuer` (a CA made by this helper in the same `dir`).
 * `reuseKeyOf` signs a new certificate for an existing key (the key-reuse refresh).
 */
export function makeCert(
  dir: string,
  name: string,
  options: { issuer?: string; reuseKeyOf?: string; ca?: boolean; san?: string } = {},
): TestPair {
  const keyFile = join(dir, `${options.reuseKeyOf ?? name}.key`);
  const certFile = join(dir, `${name}.pem`);
  const args = ['req', '-x509', '-days', '2', '-subj', `/CN=${name}`, '-out', certFile];
  args.push(...(options.reuseKeyOf === undefined ? [...EC, '-keyout', keyFile] : ['-key', keyFile]));
  if (options.issuer !== undefined) {
    args.push('-CA', join(dir, `${options.issuer}.pem`), '-CAkey', join(dir, `${options.issuer}.key`));
  }
  if (!options.ca) args.push('-addext', 'basicConstraints=critical,CA:FALSE');
  if (options.san !== undefined) args.push('-addext', `subjectAltName=${options.san}`);
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return { name, keyPem: readFileSync(keyFile, 'utf8'), certPem: readFileSync(certFile, 'utf8') };
}
