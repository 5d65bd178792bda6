/**
 * Node-only file writing: atomic single files, and a key + certificate pair as plain files that a crash never
 * leaves mixed for the next load.
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
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type CoreErrorCode, errorClass, IdentityError } from '../errors.js';

const CoreError = errorClass<CoreErrorCode>();

/** @public */
export interface WriteFileOptions {
  /** File mode, default 0o600. Applied with chmod after creation, so the umask does not narrow it. */
  mode?: number | undefined;
  /** Owner to chown the file to (we must be allowed to: usually root). */
  uid?: number | undefined;
  /** Group to chown the file to. */
  gid?: number | undefined;
  /** Create missing parent directories (mode `dirMode`, default 0o755, subject to the umask). Default true. */
  mkdir?: boolean | undefined;
  dirMode?: number | undefined;
}

const errnoCode = (e: unknown): string | undefined =>
  e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

/** Paths only, never file contents: the data may be a private key. */
function fileError(path: string, operation: string, cause: unknown): IdentityError {
  const code = errnoCode(cause);
  return new CoreError('FILE_IO', `${path}: ${operation} failed${code === undefined ? '' : ` (${code})`}`, {
    cause,
  });
}

function invalid(message: string): IdentityError {
  return new CoreError('INVALID_ARGUMENT', message);
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
  await (await prepareFile(path, data, { mode, uid: options.uid, gid: options.gid })).commit();
  await syncDir(dir, path);
}

/** A complete, fsynced temp file beside its target; `commit()` renames it over the target (the directory unsynced). */
interface PreparedFile {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

async function prepareFile(path: string, data: string | Uint8Array, own: Ownership): Promise<PreparedFile> {
  const temp = tempPathFor(path);
  await writeNewFile(temp, data, own, path);
  const discard = () => unlink(temp).catch(() => undefined);
  return {
    async commit() {
      try {
        await rename(temp, path);
      } catch (e) {
        await discard();
        throw fileError(path, 'rename over the target', e);
      }
    },
    discard,
  };
}

/** @public */
export interface KeyCertPair {
  keyPath: string;
  certPath: string;
  keyPem: string;
  certPem: string;
  /** Default 0o400 (siad's; 0o440 when a group shares the key). */
  keyMode?: number | undefined;
  /** Default 0o444 (siad's). */
  certMode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  /**
   * The private working directory where a new pair is staged (complete and fsynced) before the files change, so the
   * next load can finish a switch a crash interrupted. Default `<dir of keyPath>/.<key file name>.pair` (mode 0700).
   * It must be on the same file system as `keyPath`; readers of the files never look there.
   */
  pairDir?: string | undefined;
  /** Mode of created parent directories. Default 0o755 (`certPath`'s must stay readable by its readers). */
  dirMode?: number | undefined;
  /** Refuse a key that does not belong to the certificate (checked with node:crypto). Default true. */
  verifyMatch?: boolean | undefined;
}

/*
 * Why this layout. keyPath and certPath are read by other tools at fixed paths in different directories (siad:
 * /var/lib/sia/keys/<name>.key.pem and /var/lib/sia/certs/<name>.cert.pem), often from another container that mounts
 * only certs/, or copies it; so both are plain regular files with siad's modes. Two renames in two directories are
 * never atomic together, so:
 *
 * - The same key with a new certificate (the common refresh): one atomic rename of the cert. Old and new cert both
 *   belong to the key, so a reader sees a matching pair at every instant.
 * - A new key: first the new pair is staged in <pairDir>/pending (written in a temp directory, fsynced, then renamed
 *   into place: the commit point). Then the key file is replaced, then the cert file (each an atomic rename, in that
 *   order, as siad does), then the staging directory goes. A reader outside the SDK that reads both files between the
 *   two renames sees the new key beside the old certificate; the new certificate is never visible before its key is.
 *   If the process dies in that window, the files stay mixed until the next load (readKeyCertPair, which is what a
 *   restart does first) finds the staged pair and finishes the switch; a crash before the commit point leaves the
 *   old pair untouched, and the half-staged directory is dropped.
 *
 * Migration: the symlinked layout of earlier versions (keyPath/certPath -> <pairDir>/current/{key,cert}.pem) is turned
 * into plain files with the same bytes, key first (each path shows the same content before and after), then the
 * generations are removed. siad's plain files need nothing.
 *
 * Writers (and repairing readers) are serialized within the process; two processes writing one pair at once are not
 * supported.
 */

interface Layout {
  keyPath: string;
  certPath: string;
  pairDir: string;
  pending: string;
}

const PENDING = 'pending';
const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';
/** What the symlinked layout of earlier versions left in pairDir. */
const OLD_LAYOUT = /^(?:current|g-[0-9a-f]{12}-[0-9a-f]{8}|\.current\.[0-9a-f]{12}\.tmp)$/;
const STAGING = /^\.pending\.[0-9a-f]{12}\.tmp$/;

function layoutOf(paths: { keyPath: string; certPath: string; pairDir?: string | undefined }): Layout {
  const keyPath = resolve(checkPath('keyPath', paths.keyPath));
  const certPath = resolve(checkPath('certPath', paths.certPath));
  if (keyPath === certPath) throw invalid(`keyPath and certPath must differ (both are ${keyPath})`);
  const pairDir = resolve(
    paths.pairDir === undefined
      ? join(dirname(keyPath), `.${basename(keyPath)}.pair`)
      : checkPath('pairDir', paths.pairDir),
  );
  return { keyPath, certPath, pairDir, pending: join(pairDir, PENDING) };
}

/** Whether `path` is a symlink of the earlier layout: one that leads into `pairDir`. Other links are the user's. */
async function isOurSymlink(path: string, pairDir: string): Promise<boolean> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return false;
    const target = resolve(dirname(path), await readlink(path));
    return target.startsWith(`${pairDir}/`);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw fileError(path, 'lstat', e);
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

/** How a file is written: its mode and owner (undefined fields: as the process makes them). */
type Own = { mode: number; uid?: number | undefined; gid?: number | undefined };

/** The mode and owner of an existing file (following links), to keep them when it is rewritten by a repair. */
async function ownOf(path: string): Promise<Own> {
  try {
    const st = await stat(path);
    const uid = process.getuid?.();
    const gid = process.getgid?.();
    return {
      mode: st.mode & 0o7777,
      ...(uid === undefined || st.uid === uid ? {} : { uid: st.uid }),
      ...(gid === undefined || st.gid === gid ? {} : { gid: st.gid }),
    };
  } catch (e) {
    throw fileError(path, 'stat', e);
  }
}

/** Replaces `path` (a file, or a symlink of the old layout) with a plain file, atomically. */
function putFile(path: string, data: string, own: Own): Promise<void> {
  return writeFileAtomic(path, data, { ...own, mkdir: false });
}

/** Stages the new pair: complete and fsynced under a temp name, then renamed to `pending` (the commit point). */
async function stagePair(layout: Layout, pem: { keyPem: string; certPem: string }, key: Own, cert: Own): Promise<void> {
  const staging = join(layout.pairDir, `.${PENDING}.${randomSuffix()}.tmp`);
  try {
    await mkdir(staging, { mode: 0o700 });
  } catch (e) {
    throw fileError(layout.keyPath, `creating staging directory ${staging}`, e);
  }
  try {
    await writeNewFile(join(staging, KEY_FILE), pem.keyPem, key, layout.keyPath);
    await writeNewFile(join(staging, CERT_FILE), pem.certPem, cert, layout.certPath);
    await syncDir(staging, layout.keyPath);
    await rename(staging, layout.pending);
  } catch (e) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw IdentityError.is(e) ? e : fileError(layout.keyPath, `rename of ${staging} to ${layout.pending}`, e);
  }
  await syncDir(layout.pairDir, layout.keyPath);
}

/**
 * Finishes a committed switch: both new files are written and fsynced beside their targets first, so the window
 * between the key's rename and the cert's is as short as two renames; then the staging goes.
 */
async function finishSwitch(layout: Layout, key: Own | undefined, cert: Own | undefined): Promise<void> {
  const keyPem = await readOrUndefined(join(layout.pending, KEY_FILE));
  const certPem = await readOrUndefined(join(layout.pending, CERT_FILE));
  if (keyPem !== undefined && certPem !== undefined) {
    const newKey = await prepareFile(layout.keyPath, keyPem, key ?? (await ownOf(join(layout.pending, KEY_FILE))));
    let newCert: PreparedFile;
    try {
      newCert = await prepareFile(layout.certPath, certPem, cert ?? (await ownOf(join(layout.pending, CERT_FILE))));
    } catch (e) {
      await newKey.discard();
      throw e;
    }
    try {
      await newKey.commit();
    } catch (e) {
      await newCert.discard();
      throw e;
    }
    await newCert.commit();
    await syncDir(dirname(layout.keyPath), layout.keyPath);
    await syncDir(dirname(layout.certPath), layout.certPath);
  }
  // Without both files it was never committed (rename makes the directory appear complete): nothing to finish.
  try {
    await rm(layout.pending, { recursive: true, force: true });
  } catch (e) {
    throw fileError(layout.keyPath, `removing ${layout.pending}`, e);
  }
  await syncDir(layout.pairDir, layout.keyPath);
}

/** The earlier symlinked layout becomes plain files with the same bytes (key first), then its generations go. */
async function migrateSymlinks(layout: Layout, key: Own | undefined, cert: Own | undefined): Promise<void> {
  for (const [path, own] of [
    [layout.keyPath, key],
    [layout.certPath, cert],
  ] as const) {
    if (!(await isOurSymlink(path, layout.pairDir))) continue;
    const content = await readOrUndefined(path);
    if (content === undefined) {
      // A dangling link shows nothing to readers; removing it changes nothing they see.
      await unlink(path).catch(() => undefined);
      continue;
    }
    await putFile(path, content, own ?? (await ownOf(path)));
  }
  let names: string[];
  try {
    names = await readdir(layout.pairDir);
  } catch {
    return;
  }
  await Promise.all(
    names.filter((n) => OLD_LAYOUT.test(n)).map((n) => rm(join(layout.pairDir, n), { recursive: true, force: true })),
  );
}

/**
 * Brings the files to a consistent state before anything reads or changes them: migrates the old symlinked layout,
 * drops a staging directory that never committed, finishes a committed switch. `key` / `cert` say how files are
 * written; undefined keeps the mode and owner of the file the content comes from (a repair on load).
 */
async function repair(layout: Layout, key: Own | undefined, cert: Own | undefined): Promise<void> {
  await removeTemps(dirname(layout.keyPath), basename(layout.keyPath));
  await removeTemps(dirname(layout.certPath), basename(layout.certPath));
  await migrateSymlinks(layout, key, cert);
  let names: string[] = [];
  try {
    names = await readdir(layout.pairDir);
  } catch {
    // no working directory: nothing staged
  }
  await Promise.all(
    names.filter((n) => STAGING.test(n)).map((n) => rm(join(layout.pairDir, n), { recursive: true, force: true })),
  );
  if (names.includes(PENDING)) await finishSwitch(layout, key, cert);
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
    throw new CoreError('INVALID_ARGUMENT', 'certPem could not be parsed as an X.509 certificate', { cause: e });
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
 * Writes a private key and its certificate as plain files at `keyPath` / `certPath` (siad's layout and modes), so
 * that a crash at any instant leaves a pair that matches as the next {@link readKeyCertPair} obtains it. The common
 * refresh (same key, new certificate) is one atomic rename and every reader sees a matching pair at every instant. A
 * new key is staged in `pairDir` first, then the key file and the cert file are replaced in that order: between those
 * two renames a reader outside the SDK can see the new key beside the old certificate (see the layout note in the
 * source); a crash there is repaired by the next load. The symlinked layout of earlier versions is migrated.
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
  checkId('uid', pair.uid);
  checkId('gid', pair.gid);
  const key: Own = { mode: checkMode('keyMode', pair.keyMode, 0o400), uid: pair.uid, gid: pair.gid };
  const cert: Own = { mode: checkMode('certMode', pair.certMode, 0o444), uid: pair.uid, gid: pair.gid };
  const dirMode = checkMode('dirMode', pair.dirMode, 0o755);
  if (pair.verifyMatch !== false) checkMatch(keyPem, certPem);

  await serialized(layout.keyPath, async () => {
    await makeDir(dirname(layout.keyPath), dirMode, layout.keyPath);
    await makeDir(dirname(layout.certPath), dirMode, layout.certPath);
    await makeDir(layout.pairDir, 0o700, layout.keyPath);
    await repair(layout, key, cert);
    if ((await readOrUndefined(layout.keyPath)) === keyPem) {
      // Same key: one atomic rename of the cert is enough; both certs match the key.
      await applyOwnership(layout.keyPath, key, layout.keyPath);
      await putFile(layout.certPath, certPem, cert);
      return;
    }
    await stagePair(layout, { keyPem, certPem }, key, cert);
    await finishSwitch(layout, key, cert);
  });
}

/**
 * Reads a pair written by {@link writeKeyCertPair} (or siad's plain files), as the next start obtains it: a switch a
 * crash interrupted is finished first (the files are rewritten from the staged pair), and the symlinked layout of
 * earlier versions is migrated. When that repair cannot write (a reader without write access), the staged pair is
 * returned as is. Returns undefined when either file is missing.
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
  pairDir?: string | undefined;
}): Promise<{ keyPem: string; certPem: string } | undefined> {
  const layout = layoutOf(paths);
  return serialized(layout.keyPath, async () => {
    try {
      await repair(layout, undefined, undefined);
    } catch (e) {
      if (!IdentityError.is(e, 'FILE_IO')) throw e;
      const staged = {
        keyPem: await readOrUndefined(join(layout.pending, KEY_FILE)).catch(() => undefined),
        certPem: await readOrUndefined(join(layout.pending, CERT_FILE)).catch(() => undefined),
      };
      if (staged.keyPem !== undefined && staged.certPem !== undefined) {
        return { keyPem: staged.keyPem, certPem: staged.certPem };
      }
    }
    const keyPem = await readOrUndefined(layout.keyPath);
    const certPem = await readOrUndefined(layout.certPath);
    return keyPem === undefined || certPem === undefined ? undefined : { keyPem, certPem };
  });
}
