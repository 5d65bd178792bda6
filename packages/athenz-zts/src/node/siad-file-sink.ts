/**
 * A file sink in siad's layout and modes, so tools that read siad's files keep working:
 * `<root>/keys/<domain>.<service>.key.pem` (0400), `<root>/certs/<domain>.<service>.cert.pem` (0444),
 * `<root>/certs/ca.cert.pem` (0444), role certs `<root>/certs/<domain>:role.<role>.cert.pem` (0444), tokens
 * `<root>/tokens/<domain>/<name>` (0400), all plain files. Key and certificate are written as one crash-safe pair
 * (core's `writeKeyCertPair`); `loadIdentity` finishes a key switch a crash interrupted, as a restart needs.
 * @packageDocumentation
 */
import { join } from 'node:path';
import { readKeyCertPair, writeFileAtomic, writeKeyCertPair } from '@ecs-identity/core/node';
import { AthenzError } from '../errors.js';
import type { IdentitySink, StoredPair } from '../identity-sink.js';

/** @public */
export interface SiadFileSinkOptions {
  /** Default `/var/lib/sia`. */
  root?: string | undefined;
  /** Default `<root>/keys`. */
  keyDir?: string | undefined;
  /** Default `<root>/certs`. */
  certDir?: string | undefined;
  /** Default `<root>/tokens`. */
  tokenDir?: string | undefined;
  /** Where the CA chain ZTS returns is written. Default `<certDir>/ca.cert.pem`; `false` to skip. */
  caCertPath?: string | false | undefined;
  /** Default 0o400 (siad's; 0o440 with a group). */
  keyMode?: number | undefined;
  /** Default 0o444. */
  certMode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
}

const SAFE_FILE = /^[a-zA-Z0-9._:-]+$/;

function fileName(name: string, what: string): string {
  if (!SAFE_FILE.test(name) || name.startsWith('.')) {
    throw new AthenzError('INVALID_ARGUMENT', `${what} ${JSON.stringify(name)} cannot be a file name`);
  }
  return name;
}

/** Where the siad layout keeps the files of `<domain>.<service>`. @public */
export interface SiadPaths {
  keyPath: string;
  certPath: string;
  /** The CA chain ZTS returns; undefined when `caCertPath` is `false`. */
  caCertPath: string | undefined;
}

/** The file sink in siad's layout: an {@link IdentitySink} that also says where each file goes. @public */
export interface SiadFileSink extends Required<IdentitySink> {
  /** The key, certificate and CA chain paths of `<domain>.<service>`. */
  paths(domain: string, service: string): SiadPaths;
  /** `<certDir>/<domain>:role.<role>.cert.pem`. */
  roleCertificatePath(roleName: string): string;
  /** `<tokenDir>/<domain>/<name>`. */
  accessTokenPath(domain: string, name: string): string;
}

/** The paths the sink uses for `<domain>.<service>`. @internal */
export function siadPaths(domain: string, service: string, options: SiadFileSinkOptions = {}): SiadPaths {
  const root = options.root ?? '/var/lib/sia';
  const certDir = options.certDir ?? join(root, 'certs');
  const base = fileName(`${domain}.${service}`, 'principal');
  return {
    keyPath: join(options.keyDir ?? join(root, 'keys'), `${base}.key.pem`),
    certPath: join(certDir, `${base}.cert.pem`),
    caCertPath: options.caCertPath === false ? undefined : (options.caCertPath ?? join(certDir, 'ca.cert.pem')),
  };
}

/**
 * Creates the siad-layout file sink.
 * @example
 * ```ts
 * const identity = athenzIdentityProvider({ ..., sink: siadFileSink({ root: '/var/lib/sia' }) });
 * ```
 * @public
 */
export function siadFileSink(options: SiadFileSinkOptions = {}): SiadFileSink {
  const root = options.root ?? '/var/lib/sia';
  const certDir = options.certDir ?? join(root, 'certs');
  const tokenDir = options.tokenDir ?? join(root, 'tokens');
  const owner = { uid: options.uid, gid: options.gid };
  const certMode = options.certMode ?? 0o444;
  const roleCertificatePath = (roleName: string) => join(certDir, `${fileName(roleName, 'role')}.cert.pem`);
  const accessTokenPath = (domain: string, name: string) =>
    join(tokenDir, fileName(domain, 'domain'), fileName(name, 'token name'));
  return {
    paths: (domain, service) => siadPaths(domain, service, options),
    roleCertificatePath,
    accessTokenPath,
    async loadIdentity(domain, service): Promise<StoredPair | undefined> {
      const { keyPath, certPath } = siadPaths(domain, service, options);
      return readKeyCertPair({ keyPath, certPath });
    },
    async saveIdentity(domain, service, pair, chainPem) {
      const { keyPath, certPath, caCertPath } = siadPaths(domain, service, options);
      await writeKeyCertPair({
        keyPath,
        certPath,
        keyPem: pair.keyPem,
        certPem: pair.certPem,
        keyMode: options.keyMode ?? 0o400,
        certMode,
        ...owner,
      });
      if (chainPem && caCertPath) await writeFileAtomic(caCertPath, chainPem, { mode: certMode, ...owner });
    },
    async saveRoleCertificate(roleName, certPem) {
      await writeFileAtomic(roleCertificatePath(roleName), certPem, { mode: certMode, ...owner });
    },
    async saveAccessToken(domain, name, token) {
      await writeFileAtomic(accessTokenPath(domain, name), token, { mode: options.keyMode ?? 0o400, ...owner });
    },
  };
}
