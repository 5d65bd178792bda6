/**
 * Crash safety of the key + certificate pair, step by step: a child process runs one write (or one repairing load)
 * and kills itself right after its N-th file-system change, for N = 1, 2, ... until the operation completes. After
 * every one of those crashes the pair the next start obtains (readKeyCertPair) must be the old pair or the new one,
 * complete and matching, and the plain files must then hold exactly that pair. Complements pair-crash.test.ts (kills
 * at random moments, many of them): this one reaches every step, the short window of a key switch included.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyCertPair } from '../src/node/files.js';
import { transpileFilesModule } from './files-module.js';
import { makeCert, type TestPair } from './openssl.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'pair-crash-point-child.mjs');
const MAX_STEPS = 200;

let root: string;
let filesJs: string;
let a: TestPair; // key A
let a2: TestPair; // key A, another certificate
let b: TestPair; // key B

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'core-pair-points-'));
  filesJs = transpileFilesModule(join(root, 'lib'));
  const certs = join(root, 'certs');
  mkdirSync(certs);
  a = makeCert(certs, 'a');
  a2 = makeCert(certs, 'a2', { reuseKeyOf: 'a' });
  b = makeCert(certs, 'b');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Files {
  dir: string;
  keyPath: string;
  certPath: string;
}

function plain(f: Files, p: TestPair): void {
  mkdirSync(dirname(f.keyPath), { recursive: true });
  mkdirSync(dirname(f.certPath), { recursive: true });
  writeFileSync(f.keyPath, p.keyPem, { mode: 0o400 });
  writeFileSync(f.certPath, p.certPem, { mode: 0o444 });
}

/** The symlinked layout of earlier versions, holding `p`. */
function symlinked(f: Files, p: TestPair): void {
  const generation = join(dirname(f.keyPath), '.svc.key.pem.pair', 'g-000000000001-0a0b0c0d');
  mkdirSync(generation, { recursive: true });
  mkdirSync(dirname(f.certPath), { recursive: true });
  writeFileSync(join(generation, 'key.pem'), p.keyPem, { mode: 0o400 });
  writeFileSync(join(generation, 'cert.pem'), p.certPem, { mode: 0o444 });
  symlinkSync('g-000000000001-0a0b0c0d', join(dirname(generation), 'current'));
  symlinkSync('.svc.key.pem.pair/current/key.pem', f.keyPath);
  symlinkSync('../keys/.svc.key.pem.pair/current/cert.pem', f.certPath);
}

/** What a crash inside a key switch leaves: `next` staged, the key file already replaced, the cert not yet. */
function interrupted(f: Files, old: TestPair, next: TestPair): void {
  plain(f, old);
  const pending = join(dirname(f.keyPath), '.svc.key.pem.pair', 'pending');
  mkdirSync(pending, { recursive: true, mode: 0o700 });
  writeFileSync(join(pending, 'key.pem'), next.keyPem, { mode: 0o400 });
  writeFileSync(join(pending, 'cert.pem'), next.certPem, { mode: 0o444 });
  writeFileSync(f.keyPath, next.keyPem);
}

const name = (p: { keyPem: string; certPem: string } | undefined) =>
  p === undefined
    ? 'nothing'
    : ([a, a2, b].find((t) => t.keyPem === p.keyPem && t.certPem === p.certPem)?.name ?? 'a mix');

interface Scenario {
  what: string;
  setup: (f: Files) => void;
  op: 'write' | 'read';
  /** The pair written (write). */
  pair?: () => TestPair;
  /** The pairs a crash may leave for the next start (made in beforeAll, hence functions), and their names. */
  allowed: () => TestPair[];
  names: string;
}

/** Crashes the operation after each of its steps in turn; returns what the next start got after each crash. */
async function sweep(s: Scenario): Promise<{ steps: number; outcomes: string[]; problems: string[] }> {
  const outcomes: string[] = [];
  const problems: string[] = [];
  for (let n = 1; n <= MAX_STEPS; n++) {
    const dir = join(root, `${s.what.replace(/\W+/g, '-')}-${n}`);
    const f = { dir, keyPath: join(dir, 'keys', 'svc.key.pem'), certPath: join(dir, 'certs', 'svc.cert.pem') };
    s.setup(f);
    const request = join(root, 'request.json');
    writeFileSync(
      request,
      JSON.stringify({
        op: s.op,
        keyPath: f.keyPath,
        certPath: f.certPath,
        keyPem: s.pair?.().keyPem,
        certPem: s.pair?.().certPem,
      }),
    );
    const child = spawnSync(process.execPath, [CHILD, filesJs, request, String(n)], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    const loaded = await readKeyCertPair(f);
    const files = { keyPem: readFileSync(f.keyPath, 'utf8'), certPem: readFileSync(f.certPath, 'utf8') };
    const ok =
      loaded !== undefined &&
      s.allowed().some((p) => p.keyPem === loaded.keyPem && p.certPem === loaded.certPem) &&
      new X509Certificate(loaded.certPem).checkPrivateKey(createPrivateKey(loaded.keyPem)) &&
      files.keyPem === loaded.keyPem &&
      files.certPem === loaded.certPem;
    if (child.signal !== 'SIGKILL') {
      if (!child.stdout.startsWith('done ')) problems.push(`step ${n}: the child failed: ${child.stderr}`);
      if (!ok) problems.push(`completed: the next start got ${name(loaded)}`);
      return { steps: n - 1, outcomes, problems };
    }
    outcomes.push(name(loaded));
    if (!ok) problems.push(`crash after step ${n}: the next start got ${name(loaded)}, the files hold ${name(files)}`);
  }
  problems.push(`did not complete within ${MAX_STEPS} steps`);
  return { steps: MAX_STEPS, outcomes, problems };
}

describe('the key + certificate pair, crashed after every step', () => {
  const scenarios: Scenario[] = [
    {
      what: 'a new key over plain files',
      setup: (f) => plain(f, a),
      op: 'write',
      pair: () => b,
      allowed: () => [a, b],
      names: 'a or b',
    },
    {
      what: 'the same key, a new certificate',
      setup: (f) => plain(f, a),
      op: 'write',
      pair: () => a2,
      allowed: () => [a, a2],
      names: 'a or a2',
    },
    {
      what: 'a new key over the symlinked layout of earlier versions',
      setup: (f) => symlinked(f, a),
      op: 'write',
      pair: () => b,
      allowed: () => [a, b],
      names: 'a or b',
    },
    {
      what: 'the load that finishes an interrupted switch',
      setup: (f) => interrupted(f, a, b),
      op: 'read',
      allowed: () => [b],
      names: 'b',
    },
  ];
  for (const s of scenarios) {
    it(`${s.what}: the next start gets ${s.names}, and the files hold it`, async () => {
      const { steps, outcomes, problems } = await sweep(s);
      console.log(`[pair-crash-points] ${s.what}: ${steps} steps, after each crash: ${outcomes.join(' ')}`);
      expect(problems).toEqual([]);
      expect(steps).toBeGreaterThan(2);
      if (s.pair) {
        // crashes early leave the old pair, crashes late the new one
        expect(outcomes[0]).toBe(s.allowed()[0]?.name);
        expect(outcomes.at(-1)).toBe(s.pair().name);
      }
    }, 60_000);
  }
});
