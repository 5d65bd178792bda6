/**
 * Crash safety of writeKeyCertPair: a child process writing pairs in a loop is SIGKILLed at random moments; after
 * each kill the pair is read exactly as an independent reader would (plain readFile through the symlinks, no recovery
 * step) and must be complete and matching. A control run with a naive writer (two separate atomic renames) shows the
 * check does catch a mixed pair.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWriter, type WriterChild, within } from '../../../test-support/kill-loop.js';
import { readKeyCertPair } from '../src/node/files.js';
import { makeCert } from './openssl.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'pair-crash-child.mjs');
const KILLS = 200;
const CONTROL_KILLS = 25;
const PARTIAL_KILLS = 30;
const MAX_DELAY_MS = 40;

let root: string;
let libDir: string;
let pairsFile: string;
let variants: { key: number; keyPem: string; certPem: string }[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'core-pair-crash-'));
  // The package is not built during tests and tsx costs ~250 ms per spawn (plain node: ~80 ms), so the real
  // sources are transpiled once here and the child is plain JS.
  libDir = join(root, 'lib');
  mkdirSync(join(libDir, 'node'), { recursive: true });
  writeFileSync(join(libDir, 'package.json'), '{"type":"module"}');
  for (const file of ['errors.ts', 'node/files.ts']) {
    const source = readFileSync(join(here, '..', 'src', file), 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(join(libDir, file.replace(/\.ts$/, '.js')), out.outputText);
  }
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

/** Exactly what openssl or nginx would do: read both paths, following symlinks. */
function readAsIndependentReader(keyPath: string, certPath: string): { verdict: Verdict; seen?: string } {
  let keyPem: string;
  let certPem: string;
  try {
    keyPem = readFileSync(keyPath, 'utf8');
    certPem = readFileSync(certPath, 'utf8');
  } catch {
    return { verdict: 'missing' };
  }
  const key = variants.find((v) => v.keyPem === keyPem);
  const cert = variants.find((v) => v.certPem === certPem);
  if (key === undefined || cert === undefined) return { verdict: 'torn' }; // truncated or foreign bytes
  const ok = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  return { verdict: ok ? 'match' : 'mismatch', seen: `${key.key}/${variants.indexOf(cert)}` };
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
  verdict: Verdict;
  keyPath: string;
  certPath: string;
}

async function killLoop(
  name: string,
  mode: 'pair' | 'naive',
  kills: number,
  options: {
    /** Puts the files into a starting state before a round (the loop starts from a plain, complete pair). */
    reset?: (round: number, previous: Verdict, files: { dir: string; keyPath: string; certPath: string }) => void;
    onRound?: (r: Round) => Promise<void>;
  } = {},
) {
  const dir = join(root, name);
  const keyPath = join(dir, 'keys', 'svc.key.pem');
  const certPath = join(dir, 'certs', 'svc.cert.pem');
  resetToPlainFiles(dir, keyPath, certPath, 0);
  const verdicts: Record<Verdict, number> = { match: 0, mismatch: 0, missing: 0, torn: 0 };
  const seen = new Set<string>();
  let writes = 0;
  let previous: Verdict = 'match';
  // One child is always warming up while the current one runs, so spawn cost overlaps the kill rounds.
  let next = spawnChild(keyPath, certPath, mode);
  for (let round = 0; round < kills; round++) {
    options.reset?.(round, previous, { dir, keyPath, certPath });
    const child = next;
    await within(child.ready, 15_000, 'the child to load');
    next = spawnChild(keyPath, certPath, mode);
    child.proc.stdin.write('go\n');
    await within(child.started, 15_000, 'the child to start');
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * (MAX_DELAY_MS + 1))));
    child.proc.kill('SIGKILL');
    await within(child.exited, 15_000, 'the child to die');
    writes += child.writes();
    const { verdict, seen: pair } = readAsIndependentReader(keyPath, certPath);
    verdicts[verdict]++;
    previous = verdict;
    if (pair !== undefined) seen.add(pair);
    await options.onRound?.({ round, verdict, keyPath, certPath });
  }
  next.proc.kill('SIGKILL');
  await next.exited.catch(() => undefined);
  return { verdicts, seen, writes };
}

describe('writeKeyCertPair under SIGKILL', () => {
  it(`leaves a complete, matching pair after each of ${KILLS} kills at random moments`, async () => {
    const t0 = performance.now();
    const failures: string[] = [];
    const { verdicts, seen, writes } = await killLoop('pair', 'pair', KILLS, {
      // every tenth round starts again from plain files, so kills also land inside the migration
      reset: (round, previous, f) => {
        if (round % 10 === 9 && previous === 'match') resetToPlainFiles(f.dir, f.keyPath, f.certPath, round);
      },
      onRound: async ({ round, verdict, keyPath, certPath }) => {
        if (verdict !== 'match') failures.push(`round ${round}: ${verdict}`);
        // our own reader must agree with the independent one, again without any recovery step
        const ours = await readKeyCertPair({ keyPath, certPath });
        if (ours?.keyPem !== readFileSync(keyPath, 'utf8') || ours.certPem !== readFileSync(certPath, 'utf8')) {
          failures.push(`round ${round}: readKeyCertPair disagrees with plain reads`);
        }
      },
    });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `[pair-crash] ${KILLS} kills, ${writes} completed writes, ${seen.size} distinct pairs seen, ${seconds} s`,
    );
    expect(failures).toEqual([]);
    expect(verdicts).toEqual({ match: KILLS, mismatch: 0, missing: 0, torn: 0 });
    // the writer really was busy: writes completed and many different pairs were on disk at kill time
    // (most kills land inside a write: one takes ~8 ms, a cold child's first one longer)
    expect(writes).toBeGreaterThan(KILLS / 10);
    expect(seen.size).toBeGreaterThanOrEqual(4);
  }, 240_000);

  it('with only one old file present (no complete old pair), a kill never leaves a mixed or torn pair', async () => {
    const { verdicts } = await killLoop('partial', 'pair', PARTIAL_KILLS, {
      reset: (round, _previous, f) =>
        resetToPlainFiles(f.dir, f.keyPath, f.certPath, round + 1, round % 2 === 0 ? 'key' : 'cert'),
    });
    console.log(`[pair-crash] starting from one file: ${JSON.stringify(verdicts)}`);
    expect(verdicts.mismatch).toBe(0);
    expect(verdicts.torn).toBe(0);
    expect(verdicts.match).toBeGreaterThan(0);
  }, 120_000);

  it('catches a naive writer (two separate atomic renames) leaving a mixed pair', async () => {
    const { verdicts } = await killLoop('naive', 'naive', CONTROL_KILLS);
    console.log(`[pair-crash] naive writer: ${JSON.stringify(verdicts)}`);
    expect(verdicts.mismatch).toBeGreaterThan(0);
  }, 120_000);
});
