import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type TestPair } from '../../test/openssl.js';
import { IdentityError } from '../errors.js';
import { readKeyCertPair, writeFileAtomic, writeKeyCertPair } from './files.js';

let root: string;
let n = 0;
const fresh = (): string => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return dir;
};
let a: TestPair; // key A
let a2: TestPair; // key A again, another certificate
let b: TestPair; // key B
let c: TestPair; // key C

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'core-files-'));
  const certs = join(root, 'certs');
  mkdirSync(certs);
  a = makeCert(certs, 'a');
  a2 = makeCert(certs, 'a2', { reuseKeyOf: 'a' });
  b = makeCert(certs, 'b');
  c = makeCert(certs, 'c');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o7777;

async function expectError(promise: Promise<unknown>, code: string, text: RegExp): Promise<IdentityError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IdentityError);
  const err = e as IdentityError;
  expect(err.code).toBe(code);
  expect(err.message).toMatch(text);
  return err;
}

describe('writeFileAtomic', () => {
  it('creates missing directories and writes with mode 0600 by default', async () => {
    const dir = fresh();
    const target = join(dir, 'x', 'y', 'token');
    await writeFileAtomic(target, 'secret-value');
    expect(await readFile(target, 'utf8')).toBe('secret-value');
    expect(await mode(target)).toBe(0o600);
    expect((await stat(join(dir, 'x', 'y'))).isDirectory()).toBe(true);
  });

  it('applies the mode with chmod, so the umask cannot narrow it', async () => {
    const target = join(fresh(), 'f');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]), { mode: 0o666 });
    expect(await mode(target)).toBe(0o666);
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
  });

  it('replaces an existing file and leaves no temp file behind', async () => {
    const dir = fresh();
    const target = join(dir, 'f');
    await writeFile(target, 'old');
    await writeFileAtomic(target, 'new', { mode: 0o444 });
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await mode(target)).toBe(0o444);
    expect(await readdir(dir)).toEqual(['f']);
  });

  it('never lets a concurrent reader see a half-written file', async () => {
    const target = join(fresh(), 'big');
    const one = 'A'.repeat(512 * 1024);
    const two = 'B'.repeat(512 * 1024);
    await writeFileAtomic(target, one);
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const seen = await readFile(target, 'utf8');
        reads++;
        if (seen !== one && seen !== two) throw new Error(`torn read of ${seen.length} chars`);
      }
    })();
    for (let i = 0; i < 30; i++) await writeFileAtomic(target, i % 2 === 0 ? two : one);
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
  });

  it('chowns to the given uid and gid', async () => {
    const target = join(fresh(), 'owned');
    // as root any id works, which proves the chown happened; otherwise only our own ids are allowed
    const uid = process.getuid?.() === 0 ? 4321 : (process.getuid?.() ?? 0);
    const gid = process.getuid?.() === 0 ? 4322 : (process.getgid?.() ?? 0);
    await writeFileAtomic(target, 'x', { uid, gid, mode: 0o640 });
    const s = await stat(target);
    expect([s.uid, s.gid]).toEqual([uid, gid]);
    expect(s.mode & 0o7777).toBe(0o640);
  });

  it('fails with FILE_IO naming the path when the target is a directory, removing its temp file', async () => {
    const dir = fresh();
    const target = join(dir, 'taken');
    await mkdir(join(target, 'inner'), { recursive: true });
    const e = await expectError(writeFileAtomic(target, 'x'), 'FILE_IO', /rename over the target failed \(EISDIR\)/);
    expect(e.message).toContain(target);
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('fails with FILE_IO when a parent is a file, or missing with mkdir: false', async () => {
    const dir = fresh();
    await writeFile(join(dir, 'file'), 'x');
    await expectError(writeFileAtomic(join(dir, 'file', 'sub', 'f'), 'x'), 'FILE_IO', /creating directory/);
    await expectError(writeFileAtomic(join(dir, 'nope', 'f'), 'x', { mkdir: false }), 'FILE_IO', /ENOENT/);
    expect(await readdir(dir)).toEqual(['file']);
  });

  it('rejects bad arguments with INVALID_ARGUMENT naming the field', async () => {
    const f = join(fresh(), 'f');
    await expectError(writeFileAtomic('', 'x'), 'INVALID_ARGUMENT', /path/);
    await expectError(writeFileAtomic(`${f}/`, 'x'), 'INVALID_ARGUMENT', /path must name a file/);
    await expectError(writeFileAtomic(f, 'x', { mode: 0o10000 }), 'INVALID_ARGUMENT', /mode/);
    await expectError(writeFileAtomic(f, 'x', { uid: -5 }), 'INVALID_ARGUMENT', /uid/);
    await expectError(writeFileAtomic(f, 42 as unknown as string), 'INVALID_ARGUMENT', /data/);
  });
});

describe('writeKeyCertPair', () => {
  const paths = (dir: string) => ({
    keyPath: join(dir, 'keys', 'svc.key.pem'),
    certPath: join(dir, 'certs', 'svc.cert.pem'),
  });
  const pairDir = (dir: string) => join(dir, 'keys', '.svc.key.pem.pair');
  /** What any independent reader (openssl, nginx) sees. */
  const asReader = async (dir: string) => ({
    keyPem: await readFile(paths(dir).keyPath, 'utf8'),
    certPem: await readFile(paths(dir).certPath, 'utf8'),
  });
  const isRegularFile = async (path: string) => (await lstat(path)).isFile();
  const matches = (p: { keyPem: string; certPem: string }) =>
    new X509Certificate(p.certPem).checkPrivateKey(createPrivateKey(p.keyPem));
  /** A pair as plain files, as siad writes them. */
  async function plain(dir: string, p: TestPair): Promise<void> {
    await mkdir(join(dir, 'keys'), { recursive: true });
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(paths(dir).keyPath, p.keyPem, { mode: 0o400 });
    await writeFile(paths(dir).certPath, p.certPem, { mode: 0o444 });
  }
  /** The state a crash leaves after the commit point of a key switch: `next` staged, the files (partly) old. */
  async function staged(dir: string, next: TestPair): Promise<void> {
    await mkdir(join(pairDir(dir), 'pending'), { recursive: true, mode: 0o700 });
    await writeFile(join(pairDir(dir), 'pending', 'key.pem'), next.keyPem, { mode: 0o400 });
    await writeFile(join(pairDir(dir), 'pending', 'cert.pem'), next.certPem, { mode: 0o444 });
  }

  it("writes a fresh pair as plain files with siad's modes: key 0400, cert 0444", async () => {
    const dir = fresh();
    await writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem });
    expect(await asReader(dir)).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect(await isRegularFile(paths(dir).keyPath)).toBe(true);
    expect(await isRegularFile(paths(dir).certPath)).toBe(true);
    expect(await mode(paths(dir).keyPath)).toBe(0o400);
    expect(await mode(paths(dir).certPath)).toBe(0o444);
    expect(await readdir(pairDir(dir))).toEqual([]); // nothing staged once done
    expect(await mode(pairDir(dir))).toBe(0o700);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
  });

  it('replaces only the cert when the key is reused (the key file stays), both files when the key changes', async () => {
    const dir = fresh();
    await writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem });
    const keyInode = (await stat(paths(dir).keyPath)).ino;
    await writeKeyCertPair({ ...paths(dir), keyPem: a2.keyPem, certPem: a2.certPem, keyMode: 0o440 });
    expect((await stat(paths(dir).keyPath)).ino).toBe(keyInode);
    expect(await asReader(dir)).toEqual({ keyPem: a.keyPem, certPem: a2.certPem });
    expect(await mode(paths(dir).keyPath)).toBe(0o440); // a changed keyMode applies to the reused key too

    await writeKeyCertPair({ ...paths(dir), keyPem: b.keyPem, certPem: b.certPem });
    expect((await stat(paths(dir).keyPath)).ino).not.toBe(keyInode);
    expect(await asReader(dir)).toEqual({ keyPem: b.keyPem, certPem: b.certPem });
    expect(await readdir(pairDir(dir))).toEqual([]);
  });

  it('keys/ closed (0700) and only certs/ copied elsewhere: the copy holds the complete certificate', async () => {
    const dir = fresh();
    await writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem });
    await chmod(join(dir, 'keys'), 0o700);
    const copy = join(dir, 'elsewhere');
    await cp(join(dir, 'certs'), copy, { recursive: true }); // links stay links, as `cp -r` and image builds do
    await rm(join(dir, 'keys'), { recursive: true, force: true });
    expect(await isRegularFile(join(copy, 'svc.cert.pem'))).toBe(true);
    expect(await readFile(join(copy, 'svc.cert.pem'), 'utf8')).toBe(a.certPem);
  });

  it("keeps siad's plain files as they are and changes them in place", async () => {
    const dir = fresh();
    await plain(dir, a);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    await writeKeyCertPair({ ...paths(dir), keyPem: b.keyPem, certPem: b.certPem });
    expect(await asReader(dir)).toEqual({ keyPem: b.keyPem, certPem: b.certPem });
    expect(await isRegularFile(paths(dir).certPath)).toBe(true);
  });

  it('migrates the symlinked layout of earlier versions on load: plain files, same pair, generations gone', async () => {
    const dir = fresh();
    const generation = join(pairDir(dir), 'g-000000000001-0a0b0c0d');
    await mkdir(generation, { recursive: true });
    await mkdir(join(dir, 'certs'));
    await writeFile(join(generation, 'key.pem'), a.keyPem, { mode: 0o400 });
    await writeFile(join(generation, 'cert.pem'), a.certPem, { mode: 0o444 });
    await symlink('g-000000000001-0a0b0c0d', join(pairDir(dir), 'current'));
    await symlink('.svc.key.pem.pair/current/key.pem', paths(dir).keyPath);
    await symlink('../keys/.svc.key.pem.pair/current/cert.pem', paths(dir).certPath);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect(await isRegularFile(paths(dir).keyPath)).toBe(true);
    expect(await isRegularFile(paths(dir).certPath)).toBe(true);
    expect(await asReader(dir)).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect(await mode(paths(dir).keyPath)).toBe(0o400);
    expect(await mode(paths(dir).certPath)).toBe(0o444);
    expect(await readdir(pairDir(dir))).toEqual([]);
  });

  it('leaves a symlink that is not ours alone on load', async () => {
    const dir = fresh();
    await plain(dir, a);
    const elsewhere = join(dir, 'mounted-cert.pem');
    await writeFile(elsewhere, a.certPem);
    rmSync(paths(dir).certPath);
    await symlink(elsewhere, paths(dir).certPath);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect((await lstat(paths(dir).certPath)).isSymbolicLink()).toBe(true);
  });

  it('finishes on the next load a key switch a crash interrupted between the two renames', async () => {
    const dir = fresh();
    await plain(dir, a);
    await staged(dir, b);
    await writeFile(paths(dir).keyPath, b.keyPem); // the key was replaced, the cert not yet
    expect(matches(await asReader(dir))).toBe(false); // what an outside reader sees in that window
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: b.keyPem, certPem: b.certPem });
    expect(await asReader(dir)).toEqual({ keyPem: b.keyPem, certPem: b.certPem });
    expect(await mode(paths(dir).keyPath)).toBe(0o400);
    expect(await mode(paths(dir).certPath)).toBe(0o444);
    expect(await readdir(pairDir(dir))).toEqual([]);
  });

  it('finishes a committed switch before the files changed, and before the next write', async () => {
    const dir = fresh();
    await plain(dir, a);
    await staged(dir, b);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: b.keyPem, certPem: b.certPem });

    const again = fresh();
    await plain(again, a);
    await staged(again, b);
    // A refresh for the staged key: the switch is finished first, then only the cert changes.
    await writeKeyCertPair({ ...paths(again), keyPem: c.keyPem, certPem: c.certPem });
    expect(await asReader(again)).toEqual({ keyPem: c.keyPem, certPem: c.certPem });
  });

  it('drops a staging that never committed: the old pair stays', async () => {
    const dir = fresh();
    await plain(dir, a);
    const half = join(pairDir(dir), '.pending.0123456789ab.tmp');
    await mkdir(half, { recursive: true });
    await writeFile(join(half, 'key.pem'), b.keyPem);
    expect(await readKeyCertPair(paths(dir))).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect(await readdir(pairDir(dir))).toEqual([]);
  });

  it('removes the temp files of a crashed write', async () => {
    const dir = fresh();
    await writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem });
    await writeFile(join(dir, 'certs', '.svc.cert.pem.0123456789ab.tmp'), 'half');
    await writeFile(join(dir, 'keys', '.svc.key.pem.0123456789ab.tmp'), 'half');
    await writeKeyCertPair({ ...paths(dir), keyPem: a2.keyPem, certPem: a2.certPem });
    expect(await readdir(join(dir, 'certs'))).toEqual(['svc.cert.pem']);
    expect((await readdir(join(dir, 'keys'))).sort()).toEqual(['.svc.key.pem.pair', 'svc.key.pem']);
  });

  it('applies custom modes, owner and a custom pairDir', async () => {
    const dir = fresh();
    const uid = process.getuid?.() === 0 ? 4321 : (process.getuid?.() ?? 0);
    const gid = process.getgid?.() ?? 0;
    const custom = join(dir, 'state', 'pair');
    for (const p of [a, b]) {
      await writeKeyCertPair({
        ...paths(dir),
        keyPem: p.keyPem,
        certPem: p.certPem,
        keyMode: 0o440,
        certMode: 0o644,
        uid,
        gid,
        pairDir: custom,
      });
    }
    const key = await stat(paths(dir).keyPath);
    expect([key.mode & 0o7777, key.uid, key.gid]).toEqual([0o440, uid, gid]);
    expect(await mode(paths(dir).certPath)).toBe(0o644);
    expect(await readdir(custom)).toEqual([]);
    await expect(stat(pairDir(dir))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readKeyCertPair({ ...paths(dir), pairDir: custom })).toEqual({ keyPem: b.keyPem, certPem: b.certPem });
  });

  it('serializes concurrent writes in one process: the last one wins, never a mix', async () => {
    const dir = fresh();
    const order = [a, b, a2, c, b, a, c];
    await Promise.all(order.map((p) => writeKeyCertPair({ ...paths(dir), keyPem: p.keyPem, certPem: p.certPem })));
    const last = order.at(-1)!;
    expect(await asReader(dir)).toEqual({ keyPem: last.keyPem, certPem: last.certPem });
  });

  it('rejects a key that does not belong to the cert, empty or non-PEM input, writing nothing', async () => {
    const dir = fresh();
    const e = await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: b.certPem }),
      'INVALID_ARGUMENT',
      /keyPem does not belong to certPem/,
    );
    expect(e.message).not.toContain('PRIVATE KEY');
    await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: '', certPem: a.certPem }),
      'INVALID_ARGUMENT',
      /keyPem is empty/,
    );
    await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: 'hello' }),
      'INVALID_ARGUMENT',
      /certPem is not PEM/,
    );
    const garbled = a.keyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    const bad = await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: garbled, certPem: a.certPem }),
      'INVALID_ARGUMENT',
      /keyPem could not be parsed/,
    );
    expect(bad.cause).toBeUndefined();
    await expectError(
      writeKeyCertPair({
        keyPath: join(dir, 'same'),
        certPath: join(dir, 'same'),
        keyPem: a.keyPem,
        certPem: a.certPem,
      }),
      'INVALID_ARGUMENT',
      /must differ/,
    );
    await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem, keyMode: 0o10000 }),
      'INVALID_ARGUMENT',
      /keyMode/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with FILE_IO naming the path when keyPath is a directory', async () => {
    const dir = fresh();
    await mkdir(join(paths(dir).keyPath, 'x'), { recursive: true });
    const e = await expectError(
      writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem }),
      'FILE_IO',
      /svc\.key\.pem/,
    );
    expect(e.message).not.toContain('BEGIN');
    expect(await readdir(join(dir, 'keys'))).toEqual(expect.arrayContaining(['svc.key.pem']));
    expect(await readKeyCertPair(paths(dir)).catch((err: unknown) => err)).toBeInstanceOf(IdentityError);
  });

  it('readKeyCertPair in the same process never sees a switch half done, while writes rotate keys', async () => {
    const dir = fresh();
    await writeKeyCertPair({ ...paths(dir), keyPem: a.keyPem, certPem: a.certPem });
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const p = await readKeyCertPair(paths(dir));
        reads++;
        if (p === undefined || !matches(p)) throw new Error('readKeyCertPair returned a mixed or missing pair');
      }
    })();
    const order = [b, c, a, a2, b, c, a2, b];
    for (let i = 0; i < 16; i++) {
      const p = order[i % order.length]!;
      await writeKeyCertPair({ ...paths(dir), keyPem: p.keyPem, certPem: p.certPem });
    }
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
  });

  it('accepts relative paths, resolved against the working directory', async () => {
    const dir = fresh();
    const relPaths = {
      keyPath: relative(process.cwd(), paths(dir).keyPath),
      certPath: relative(process.cwd(), paths(dir).certPath),
    };
    await writeKeyCertPair({ ...relPaths, keyPem: a.keyPem, certPem: a.certPem });
    expect(await readKeyCertPair(relPaths)).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
    expect(await asReader(dir)).toEqual({ keyPem: a.keyPem, certPem: a.certPem });
  });

  it('readKeyCertPair gives undefined when either file is missing', async () => {
    const dir = fresh();
    expect(await readKeyCertPair(paths(dir))).toBeUndefined();
    await mkdir(join(dir, 'keys'));
    await writeFile(paths(dir).keyPath, a.keyPem);
    expect(await readKeyCertPair(paths(dir))).toBeUndefined();
    await mkdir(join(dir, 'certs'));
    await symlink('/nonexistent/cert.pem', paths(dir).certPath);
    expect(await readKeyCertPair(paths(dir))).toBeUndefined();
  });
});
