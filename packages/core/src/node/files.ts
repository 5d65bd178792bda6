/**
 * Node-only file writing: atomic single files, and a key + certificate pair that a crash can never leave mixed.
 *
 * This module imports nothing but `node:*` and `../errors.js`, so the crash test can run it in a bare child process.
 * @packageDocumentation
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { IdentityError } from '../errors.js';

/** @public */
export interface WriteFileOptions {
  /** File mode, default 0o600. Applied with chmod after creation, so the umask does not narrow it. */
  mode?: number;
  /** Owner to chown the file to (we must be allowed to: usually root). */
  uid?: number;
  /** Group to chown the file to. */
  gid?: number;
  /** Create missing parent directories (mode `dirMode`, default 0o755, subject to the umask). Default true. */
  mkdir?: boolean;
  dirMode?: number;
}

const errnoCode = (e: unknown): string | undefined =>
  e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

/** Paths only, never file contents: the data may be a private key. */
function fileError(path: string, operation: string, cause: unknown): IdentityError {
  const code = errnoCode(cause);
  return new IdentityError('FILE_IO', `${path}: ${operation} failed${code === undefined ? '' : ` (${code})`}`, {
    cause,
  });
}

function invalid(message: string): IdentityError {
  return new IdentityError('INVALID_ARGUMENT', message);
}

function checkPath(field: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw invalid(`${field} must be a non-empty path`);
  if (path.includes('\0')) throw invalid(`${field} must not contain a NUL byte`);
  if (path.endsWith('/')) throw invalid(`${field} must name a file, not a directory: ${path}`);
  return path;
}

function checkMode(field: string, mode: number | undefined, fallback: number): number {
  if (mode === undefined) return fallback;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalid(`${field} must be a file mode between 0 and 0o7777, got ${String(mode)}`);
  }
  return mode;
}

function checkId(field: string, id: number | undefined): void {
  if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0xfffffffe)) {
    throw invalid(`${field} must be a non-negative integer id, got ${String(id)}`);
  }
}

const randomSuffix = (): string => randomBytes(6).toString('hex');

/** The temp name sits in the target's directory so the final rename never crosses file systems. */
const tempPathFor = (path: string): string => join(dirname(path), `.${basename(path)}.${randomSuffix()}.tmp`);

/** fsync a directory so a rename or a new entry in it survives power loss, not only a process crash. */
async function syncDir(dir: string, forPath: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    throw fileError(forPath, `fsync of directory ${dir}`, e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

interface Ownership {
  mode: number;
  uid?: number | undefined;
  gid?: number | undefined;
}

/**
 * Creates `path` (which must not exist), writes, sets owner and mode, fsyncs. Removes the file on failure.
 * chown comes before chmod because chown may clear set-id bits; fsync comes last so the metadata is durable too.
 */
async function writeNewFile(path: string, data: string | Uint8Array, own: Ownership, target = path): Promise<void> {
  let fh: FileHandle | undefined;
  let operation = 'creating temp file ' + path;
  try {
    fh = await open(path, 'wx', own.mode);
    operation = 'write';
    await fh.writeFile(data);
    if (own.uid !== undefined || own.gid !== undefined) {
      operation = 'chown';
      await fh.chown(own.uid ?? -1, own.gid ?? -1);
    }
    operation = 'chmod';
    await fh.chmod(own.mode);
    operation = 'fsync';
    await fh.sync();
    operation = 'close';
    const closing = fh;
    fh = undefined;
    await closing.close();
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw fileError(target, operation, e);
  }
}

/** Brings an existing file to the requested owner and mode (each call is atomic on its own). */
async function applyOwnership(path: string, own: Ownership, target: string): Promise<void> {
  try {
    if (own.uid !== undefined || own.gid !== undefined) await chown(path, own.uid ?? -1, own.gid ?? -1);
    await chmod(path, own.mode);
  } catch (e) {
    throw fileError(target, 'chmod/chown', e);
  }
}

/**
 * Replaces `path` atomically: a reader (or a crash) sees the complete old content or the complete new content, never a
 * mix. Writes a temp file (`.<name>.<random>.tmp`) in the same directory, sets owner and mode, fsyncs it, renames it
 * over `path` and fsyncs the directory. On failure the temp file is removed and the target is untouched.
 *
 * @throws IdentityError `FILE_IO` naming the path and the step that failed; `INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * import { writeFileAtomic } from '@ecs-identity/core/node';
 * await writeFileAtomic('/run/consul/token', token.secretId, { mode: 0o400 });
 * ```
 * @public
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileOptions = {},
): Promise<void> {
  checkPath('path', path);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw invalid('data must be a string or a Uint8Array');
  const mode = checkMode('mode', options.mode, 0o600);
  const dirMode = checkMode('dirMode', options.dirMode, 0o755);
  checkId('uid', options.uid);
  checkId('gid', options.gid);
  const dir = dirname(path);
  if (options.mkdir !== false) {
    try {
      await mkdir(dir, { recursive: true, mode: dirMode });
    } catch (e) {
      throw fileError(path, `creating directory ${dir}`, e);
    }
  }
  const temp = tempPathFor(path);
  await writeNewFile(temp, data, { mode, uid: options.uid, gid: options.gid }, path);
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw fileError(path, 'rename over the target', e);
  }
  await syncDir(dir, path);
}

/** @public */
export interface KeyCertPair {
  keyPath: string;
  certPath: string;
  keyPem: string;
  certPem: string;
  /** Default 0o400 (siad's). */
  keyMode?: number;
  /** Default 0o444 (siad's). */
  certMode?: number;
  uid?: number;
  gid?: number;
  /**
   * Where the generations live. Default `<dir of keyPath>/.<key file name>.pair`. Readers of `certPath` must be able
   * to traverse it (it holds the real cert file), so pick another place if the key directory is closed to them.
   */
  pairDir?: string;
  /** Mode of created directories (pairDir, generations, missing parents). Default 0o755. */
  dirMode?: number;
  /** Generations kept on disk, the current one included (older ones let a slow reader finish). Default 2, minimum 1. */
  keepGenerations?: number;
  /** Refuse a key that does not belong to the certificate (checked with node:crypto). Default true. */
  verifyMatch?: boolean;
}

/*
 * Why this layout. keyPath and certPath are read by other tools at fixed paths in different directories (siad:
 * /var/lib/sia/keys/<name>.key.pem and /var/lib/sia/certs/<name>.cert.pem), and two renames are never atomic together.
 * So both paths become symlinks through ONE symlink that is swapped atomically:
 *
 *   keyPath  -> <pairDir>/current/key.pem          (relative links, so a bind-mounted tree keeps working)
 *   certPath -> <pairDir>/current/cert.pem
 *   <pairDir>/current -> g-<time>-<random>        (a complete, fsynced generation directory)
 *
 * A new key: write a new generation, then rename a new `current` link over the old one: one atomic step.
 * The same key with a new cert (the common refresh): rename the new cert over cert.pem inside the current
 * generation: also one atomic step, and the old and new cert both match the key.
 * Any reader that follows the links (fs.readFile, openssl, nginx) therefore sees a complete pair at every instant
 * and no recovery step is needed after a crash. The alternative (a journal plus recovery) would leave the plain
 * paths mixed until our code runs again, which other tools reading the files would not wait for.
 *
 * Migration (plain files from siad or an older run): the existing pair is first copied into a generation and the
 * plain files are replaced by links to it one at a time; each link shows the same bytes as the file it replaced, so
 * readers still see the old pair. Only then does the new pair go in as above. With no complete old pair there is
 * nothing to keep; a crash then can leave only one of the two paths present (the new one), which readers treat as "no
 * pair yet", but never a new key beside an old cert.
 *
 * Writers are serialized within the process; two processes writing the same pair at once are not supported.
 */

interface Layout {
  keyPath: string;
  certPath: string;
  pairDir: string;
  current: string;
  keyLink: string;
  certLink: string;
}

const CURRENT = 'current';
const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';
const GENERATION = /^g-[0-9a-f]{12}-[0-9a-f]{8}$/;

function layoutOf(paths: { keyPath: string; certPath: string; pairDir?: string | undefined }): Layout {
  const keyPath = resolve(checkPath('keyPath', paths.keyPath));
  const certPath = resolve(checkPath('certPath', paths.certPath));
  if (keyPath === certPath) throw invalid(`keyPath and certPath must differ (both are ${keyPath})`);
  const pairDir = resolve(
    paths.pairDir === undefined
      ? join(dirname(keyPath), `.${basename(keyPath)}.pair`)
      : checkPath('pairDir', paths.pairDir),
  );
  const current = join(pairDir, CURRENT);
  return {
    keyPath,
    certPath,
    pairDir,
    current,
    keyLink: relative(dirname(keyPath), join(current, KEY_FILE)),
    certLink: relative(dirname(certPath), join(current, CERT_FILE)),
  };
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOTDIR') return undefined; // EINVAL: not a symlink
    throw fileError(path, 'readlink', e);
  }
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fileError(path, 'read', e);
  }
}

/** The generation `current` points at, when keyPath is one of our links and the generation is there. */
async function managedGeneration(layout: Layout): Promise<string | undefined> {
  if ((await readlinkOrUndefined(layout.keyPath)) !== layout.keyLink) return undefined;
  const generation = await readlinkOrUndefined(layout.current);
  if (generation === undefined || !GENERATION.test(generation)) return undefined;
  try {
    await lstat(join(layout.pairDir, generation, KEY_FILE));
    return generation;
  } catch {
    return undefined;
  }
}

/** A fresh, complete, fsynced generation directory holding the pair; not yet visible to readers. */
async function writeGeneration(
  layout: Layout,
  pem: { keyPem: string; certPem: string },
  own: { keyMode: number; certMode: number; dirMode: number; uid?: number | undefined; gid?: number | undefined },
): Promise<string> {
  const stamp = Date.now().toString(16).padStart(12, '0');
  const name = `g-${stamp}-${randomBytes(4).toString('hex')}`;
  const dir = join(layout.pairDir, name);
  try {
    await mkdir(dir, { mode: own.dirMode });
    await chmod(dir, own.dirMode); // mkdir's mode went through the umask
  } catch (e) {
    throw fileError(layout.keyPath, `creating generation directory ${dir}`, e);
  }
  try {
    await writeNewFile(
      join(dir, KEY_FILE),
      pem.keyPem,
      { mode: own.keyMode, uid: own.uid, gid: own.gid },
      layout.keyPath,
    );
    await writeNewFile(
      join(dir, CERT_FILE),
      pem.certPem,
      { mode: own.certMode, uid: own.uid, gid: own.gid },
      layout.certPath,
    );
    await syncDir(dir, layout.keyPath);
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return name;
}

/** Points `linkPath` at `target` with one rename, so readers see the old entry or the new link, never nothing. */
async function replaceWithSymlink(linkPath: string, target: string): Promise<void> {
  const temp = tempPathFor(linkPath);
  try {
    await symlink(target, temp);
  } catch (e) {
    throw fileError(linkPath, 'creating a temp symlink', e);
  }
  try {
    await rename(temp, linkPath);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw fileError(linkPath, 'rename of the symlink over the target', e);
  }
  await syncDir(dirname(linkPath), linkPath);
}

/** Removes our leftovers of a crash (`.<prefix>.<hex>.tmp`) in `dir`. */
async function removeTemps(dir: string, prefix: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const pattern = new RegExp(`^\\.${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{12}\\.tmp$`);
  await Promise.all(names.filter((n) => pattern.test(n)).map((n) => rm(join(dir, n), { force: true })));
}

/** Keeps `current` and the newest older generations, `keep` in all; drops orphans of a crashed write. */
async function pruneGenerations(layout: Layout, currentName: string, keep: number): Promise<void> {
  const names = (await readdir(layout.pairDir)).filter((n) => GENERATION.test(n)).sort();
  const older = names.filter((n) => n < currentName).reverse();
  const kept = new Set([currentName, ...older.slice(0, keep - 1)]);
  await Promise.all(
    names.filter((n) => !kept.has(n)).map((n) => rm(join(layout.pairDir, n), { recursive: true, force: true })),
  );
  await removeTemps(layout.pairDir, CURRENT);
  await removeTemps(join(layout.pairDir, currentName), CERT_FILE);
}

function checkPem(field: string, pem: unknown, marker: RegExp): string {
  if (typeof pem !== 'string' || pem.trim().length === 0) throw invalid(`${field} is empty`);
  if (!marker.test(pem)) throw invalid(`${field} is not PEM (no matching -----BEGIN ...----- line)`);
  return pem;
}

/** The key must belong to the certificate; node:crypto does the parsing. Messages never include the key. */
function checkMatch(keyPem: string, certPem: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new IdentityError('INVALID_ARGUMENT', 'certPem could not be parsed as an X.509 certificate', { cause: e });
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    // the parser's error could quote key material: do not keep it as the cause
    throw invalid('keyPem could not be parsed as a private key');
  }
  if (!cert.checkPrivateKey(key)) throw invalid('keyPem does not belong to certPem (public keys differ)');
}

const locks = new Map<string, Promise<unknown>>();

/** One writer at a time per pair in this process: the steps below are each atomic, but not two interleaved runs. */
async function serialized<T>(key: string, run: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve();
  const mine = before.then(run, run);
  const tail = mine.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await mine;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

async function makeDir(dir: string, mode: number, forPath: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
  } catch (e) {
    throw fileError(forPath, `creating directory ${dir}`, e);
  }
}

/**
 * Writes a private key and its certificate so that a crash at any instant leaves the complete old pair or the
 * complete new pair at `keyPath` / `certPath`, as any reader following symlinks sees them. `keyPath` and `certPath`
 * become relative symlinks into `pairDir` (see the layout note in the source); plain files there from siad or an
 * older run are migrated without a moment of mismatch.
 *
 * @throws IdentityError `INVALID_ARGUMENT` (empty or non-PEM input, key not matching the cert, bad modes),
 * `FILE_IO` (naming the path and the step).
 * @example
 * ```ts
 * import { writeKeyCertPair } from '@ecs-identity/core/node';
 * await writeKeyCertPair({
 *   keyPath: '/var/lib/sia/keys/sports.api.key.pem',
 *   certPath: '/var/lib/sia/certs/sports.api.cert.pem',
 *   keyPem: identity.privateKeyPem,
 *   certPem: identity.certificatePem,
 * });
 * ```
 * @public
 */
export async function writeKeyCertPair(pair: KeyCertPair): Promise<void> {
  const layout = layoutOf(pair);
  const keyPem = checkPem('keyPem', pair.keyPem, /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/);
  const certPem = checkPem('certPem', pair.certPem, /-----BEGIN CERTIFICATE-----/);
  const own = {
    keyMode: checkMode('keyMode', pair.keyMode, 0o400),
    certMode: checkMode('certMode', pair.certMode, 0o444),
    dirMode: checkMode('dirMode', pair.dirMode, 0o755),
    uid: pair.uid,
    gid: pair.gid,
  };
  checkId('uid', pair.uid);
  checkId('gid', pair.gid);
  const keep = pair.keepGenerations ?? 2;
  if (!Number.isInteger(keep) || keep < 1) throw invalid(`keepGenerations must be an integer >= 1, got ${keep}`);
  if (pair.verifyMatch !== false) checkMatch(keyPem, certPem);

  await serialized(layout.keyPath, async () => {
    await makeDir(dirname(layout.keyPath), own.dirMode, layout.keyPath);
    await makeDir(dirname(layout.certPath), own.dirMode, layout.certPath);
    await makeDir(layout.pairDir, own.dirMode, layout.keyPath);
    await removeTemps(dirname(layout.keyPath), basename(layout.keyPath));
    await removeTemps(dirname(layout.certPath), basename(layout.certPath));

    let generation = await managedGeneration(layout);
    if (generation === undefined) {
      // Plain files (or nothing): keep showing what readers see now while the paths become links.
      const oldKey = await readOrUndefined(layout.keyPath);
      const oldCert = await readOrUndefined(layout.certPath);
      const start = oldKey !== undefined && oldCert !== undefined ? { keyPem: oldKey, certPem: oldCert } : undefined;
      generation = await writeGeneration(layout, start ?? { keyPem, certPem }, own);
      await replaceWithSymlink(layout.current, generation);
      // With only one old file present, link that one first: a crash in between then leaves one new file and one
      // missing, never the new key beside an old cert (or the reverse).
      const certFirst = oldKey === undefined && oldCert !== undefined;
      const links: [string, string][] = [
        [layout.keyPath, layout.keyLink],
        [layout.certPath, layout.certLink],
      ];
      for (const [path, target] of certFirst ? links.reverse() : links) await replaceWithSymlink(path, target);
      if (start === undefined) {
        await pruneGenerations(layout, generation, keep);
        return;
      }
    } else if ((await readlinkOrUndefined(layout.certPath)) !== layout.certLink) {
      // A crash between the two links of a migration: certPath may still be a plain file. Link it before any swap,
      // or the swap would change the key under a stale plain cert.
      await replaceWithSymlink(layout.certPath, layout.certLink);
    }

    const generationDir = join(layout.pairDir, generation);
    const currentKey = await readOrUndefined(join(generationDir, KEY_FILE));
    if (currentKey === keyPem) {
      // Same key: one atomic rename of the cert is enough; both certs match the key.
      await applyOwnership(
        join(generationDir, KEY_FILE),
        { mode: own.keyMode, uid: own.uid, gid: own.gid },
        layout.keyPath,
      );
      await writeFileAtomic(join(generationDir, CERT_FILE), certPem, {
        mode: own.certMode,
        uid: own.uid,
        gid: own.gid,
        mkdir: false,
      });
    } else {
      generation = await writeGeneration(layout, { keyPem, certPem }, own);
      await replaceWithSymlink(layout.current, generation);
    }
    await pruneGenerations(layout, generation, keep);
  });
}

/**
 * Reads a pair written by {@link writeKeyCertPair} (or plain files). For our layout both files come from the one
 * generation `current` names, so a concurrent rotation cannot hand back a mixed pair. No recovery step is needed.
 * Returns undefined when either file is missing.
 *
 * @example
 * ```ts
 * const pair = await readKeyCertPair({ keyPath, certPath });
 * if (pair) reuse(pair.keyPem, pair.certPem);
 * ```
 * @public
 */
export async function readKeyCertPair(paths: {
  keyPath: string;
  certPath: string;
  pairDir?: string;
}): Promise<{ keyPem: string; certPem: string } | undefined> {
  const layout = layoutOf(paths);
  // A rotation plus pruning can remove the generation between readlink and read: try again, a bounded few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const generation = await managedGeneration(layout);
    if (generation === undefined || (await readlinkOrUndefined(layout.certPath)) !== layout.certLink) break;
    const dir = join(layout.pairDir, generation);
    const keyPem = await readOrUndefined(join(dir, KEY_FILE));
    const certPem = await readOrUndefined(join(dir, CERT_FILE));
    if (keyPem !== undefined && certPem !== undefined) return { keyPem, certPem };
  }
  const keyPem = await readOrUndefined(layout.keyPath);
  const certPem = await readOrUndefined(layout.certPath);
  return keyPem === undefined || certPem === undefined ? undefined : { keyPem, certPem };
}
