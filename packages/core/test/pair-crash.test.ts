/**
 * Crash safety of writeKeyCertPair: a child process writing pairs in a loop is SIGKILLed at random moments; after
 * each kill the pair is obtained as the next start obtains it (readKeyCertPair, which finishes a key switch the crash
 * interrupted) and must be complete and matching, and the plain files must then hold exactly that pair. Before that
 * load, an outside reader may find the files mixed only in the window of a key switch (new key, old cert): counted
 * and printed. A control run with a naive writer (two separate atomic renames, nothing staged) shows the check does
 * catch a mixed pair.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRounds, spawnWriter, type WriterChild } from '../../../test-support/kill-loop.js';
import { scaled } from '../../../test-support/scale.js';
import { readKeyCertPair } from '../src/node/files.js';
import { transpileFilesModule } from './files-module.js';
import { makeCert } from './openssl.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'pair-crash-child.mjs');
const KILLS = scaled(200, 40);
const CONTROL_KILLS = 25;
const PARTIAL_KILLS = scaled(30, 10);
const MAX_DELAY_MS = 40;

let root: string;
let libDir: string;
let pairsFile: string;
let variants: { key: number; keyPem: string; certPem: string }[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'core-pair-crash-'));
  libDir = join(root, 'lib');
  transpileFilesModule(libDir);
  // Three keys, two certificates each (so the child can reuse a key and change only the cert).
  const certs = join(root, 'certs');
  mkdirSync(certs);
  variants = [];
  for (let key = 0; key < 3; key++) {
    for (let variant = 0; variant < 2; variant++) {
      const p = makeCert(certs, `k${key}c${variant}`, variant === 0 ? {} : { reuseKeyOf: `k${key}c0` });
      variants.push({ key, keyPem: p.keyPem, certPem: p.certPem });
    }
  }
  pairsFile = join(root, 'pairs.json');
  writeFileSync(pairsFile, JSON.stringify(variants));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Child = WriterChild;

function spawnChild(keyPath: string, certPath: string, mode: 'pair' | 'naive'): Child {
  return spawnWriter([CHILD, libDir, pairsFile, keyPath, certPath, mode]);
}

type Verdict = 'match' | 'mismatch' | 'missing' | 'torn';

/** Judges a pair read from somewhere: complete bytes of known variants, and a key that belongs to the cert. */
function judge(keyPem: string | undefined, certPem: string | undefined): { verdict: Verdict; seen?: string } {
  if (keyPem === undefined || certPem === undefined) return { verdict: 'missing' };
  const key = variants.find((v) => v.keyPem === keyPem);
  const cert = variants.find((v) => v.certPem === certPem);
  if (key === undefined || cert === undefined) return { verdict: 'torn' }; // truncated or foreign bytes
  const ok = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  return { verdict: ok ? 'match' : 'mismatch', seen: `${key.key}/${variants.indexOf(cert)}` };
}

/** Exactly what openssl or nginx would do: read both paths, with nothing run first. */
function readAsIndependentReader(keyPath: string, certPath: string): { verdict: Verdict; seen?: string } {
  try {
    return judge(readFileSync(keyPath, 'utf8'), readFileSync(certPath, 'utf8'));
  } catch {
    return { verdict: 'missing' };
  }
}

/** What the next start obtains (the sink's load), then what the plain files hold after it. */
async function readAsNextStart(keyPath: string, certPath: string) {
  const loaded = await readKeyCertPair({ keyPath, certPath });
  const verdict = judge(loaded?.keyPem, loaded?.certPem);
  const files = readAsIndependentReader(keyPath, certPath);
  const sameAsFiles =
    loaded !== undefined &&
    files.verdict !== 'missing' &&
    readFileSync(keyPath, 'utf8') === loaded.keyPem &&
    readFileSync(certPath, 'utf8') === loaded.certPem;
  return { ...verdict, files: files.verdict, sameAsFiles };
}

/** The symlinked layout of earlier versions, holding one pair: the next write must migrate it. */
function resetToSymlinkedLayout(dir: string, keyPath: string, certPath: string, round: number): void {
  rmSync(join(dir, 'keys'), { recursive: true, force: true });
  rmSync(join(dir, 'certs'), { recursive: true, force: true });
  const generation = join(dir, 'keys', '.svc.key.pem.pair', 'g-000000000001-0a0b0c0d');
  mkdirSync(generation, { recursive: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const v = variants[round % variants.length]!;
  writeFileSync(join(generation, 'key.pem'), v.keyPem, { mode: 0o400 });
  writeFileSync(join(generation, 'cert.pem'), v.certPem, { mode: 0o444 });
  symlinkSync('g-000000000001-0a0b0c0d', join(dir, 'keys', '.svc.key.pem.pair', 'current'));
  symlinkSync('.svc.key.pem.pair/current/key.pem', keyPath);
  symlinkSync('../keys/.svc.key.pem.pair/current/cert.pem', certPath);
}

/** Plain files as siad leaves them (or only one of them): the next child's first write has to migrate them. */
function resetToPlainFiles(
  dir: string,
  keyPath: string,
  certPath: string,
  round: number,
  which: 'both' | 'key' | 'cert' = 'both',
): void {
  rmSync(join(dir, 'keys'), { recursive: true, force: true });
  rmSync(join(dir, 'certs'), { recursive: true, force: true });
  mkdirSync(join(dir, 'keys'), { recursive: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const v = variants[round % variants.length]!;
  if (which !== 'cert') writeFileSync(keyPath, v.keyPem, { mode: 0o400 });
  if (which !== 'key') writeFileSync(certPath, v.certPem, { mode: 0o444 });
}

interface Round {
  round: number;
  /** What the next start obtained, and the plain files after it. */
  next: Awaited<ReturnType<typeof readAsNextStart>>;
}

async function killLoop(
  name: string,
  mode: 'pair' | 'naive',
  kills: number,
  options: {
    /** Puts the files into a starting state before a round (the loop starts from a plain, complete pair). */
    reset?: (round: number, files: { dir: string; keyPath: string; certPath: string }) => void;
    onRound?: (r: Round) => Promise<void>;
  } = {},
) {
  const dir = join(root, name);
  const keyPath = join(dir, 'keys', 'svc.key.pem');
  const certPath = join(dir, 'certs', 'svc.cert.pem');
  resetToPlainFiles(dir, keyPath, certPath, 0);
  const raw: Record<Verdict, number> = { match: 0, mismatch: 0, missing: 0, torn: 0 };
  const verdicts: Record<Verdict, number> = { match: 0, mismatch: 0, missing: 0, torn: 0 };
  const seen = new Set<string>();
  const { writes } = await killRounds({
    spawn: () => spawnChild(keyPath, certPath, mode),
    kills,
    maxDelayMs: MAX_DELAY_MS,
    beforeRound: (round) => options.reset?.(round, { dir, keyPath, certPath }),
    onRound: async (round) => {
      raw[readAsIndependentReader(keyPath, certPath).verdict]++;
      const loaded = await readAsNextStart(keyPath, certPath);
      verdicts[loaded.verdict]++;
      if (loaded.seen !== undefined) seen.add(loaded.seen);
      await options.onRound?.({ round, next: loaded });
    },
  });
  return { verdicts, raw, seen, writes };
}

describe('writeKeyCertPair under SIGKILL', () => {
  it(`leaves a complete, matching pair for the next start after each of ${KILLS} kills at random moments`, async () => {
    const t0 = performance.now();
    const failures: string[] = [];
    const { verdicts, raw, seen, writes } = await killLoop('pair', 'pair', KILLS, {
      // every tenth round starts from the symlinked layout of earlier versions, so kills land inside the migration
      reset: (round, f) => {
        if (round % 10 === 9) resetToSymlinkedLayout(f.dir, f.keyPath, f.certPath, round);
      },
      onRound: async ({ round, next }) => {
        if (next.verdict !== 'match') failures.push(`round ${round}: the next start got ${next.verdict}`);
        // after that load the plain files hold exactly that pair, for every reader outside the SDK
        if (next.files !== 'match' || !next.sameAsFiles) {
          failures.push(`round ${round}: the files after the load are ${next.files}, not the loaded pair`);
        }
      },
    });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `[pair-crash] ${KILLS} kills, ${writes} completed writes, ${seen.size} distinct pairs seen, ${seconds} s; ` +
        `raw files right after a kill: ${JSON.stringify(raw)} (mismatch: killed inside a key switch's window)`,
    );
    expect(failures).toEqual([]);
    expect(verdicts).toEqual({ match: KILLS, mismatch: 0, missing: 0, torn: 0 });
    // never a torn file, never a missing one: each file is replaced by one atomic rename
    expect(raw.torn + raw.missing).toBe(0);
    // the writer really was busy: writes completed and many different pairs were on disk at kill time
    // (most kills land inside a write: one takes ~8 ms, a cold child's first one longer)
    expect(writes).toBeGreaterThan(KILLS / 10);
    expect(seen.size).toBeGreaterThanOrEqual(4);
  }, 240_000);

  it('with only one old file present (no complete old pair), a kill never leaves a mixed or torn pair', async () => {
    const { verdicts } = await killLoop('partial', 'pair', PARTIAL_KILLS, {
      reset: (round, f) => resetToPlainFiles(f.dir, f.keyPath, f.certPath, round + 1, round % 2 === 0 ? 'key' : 'cert'),
    });
    console.log(`[pair-crash] starting from one file: ${JSON.stringify(verdicts)}`);
    expect(verdicts.mismatch).toBe(0);
    expect(verdicts.torn).toBe(0);
    expect(verdicts.match).toBeGreaterThan(0);
  }, 120_000);

  it('catches a naive writer (two separate atomic renames, nothing staged) leaving a mixed pair', async () => {
    const { verdicts } = await killLoop('naive', 'naive', CONTROL_KILLS);
    console.log(`[pair-crash] naive writer: ${JSON.stringify(verdicts)}`);
    expect(verdicts.mismatch).toBeGreaterThan(0);
  }, 120_000);
});
