/**
 * Crash safety of the public sinks: a child process writing through `siadFileSink()` (athenz-zts) or the Consul token
 * sink (`tokenFileSink()`, consul-login) in a loop is SIGKILLed at random moments. After every kill only public facts
 * are checked, so the test holds whatever layout the sinks use on disk:
 * - siad: every file that exists at the sink's paths (`paths()`) is one whole PEM that was written (never torn);
 *   the next start (`loadIdentity`) gets a complete key and certificate that match; after it, the files at the paths
 *   are a matching pair too;
 * - Consul: the token file holds one whole SecretID that was written.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siadFileSink } from '@ecs-identity/athenz-zts/node';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from '../../packages/core/test/openssl.js';
import { sourceEntries } from '../../test-support/entries.js';
import { killRounds, spawnWriter } from '../../test-support/kill-loop.js';
import { scaled } from '../../test-support/scale.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIAD_KILLS = scaled(300, 60);
const CONSUL_KILLS = scaled(220, 40);
const MAX_DELAY_MS = 40;

let work: string;
let childJs: string;
let dataFile: string;
let data: { pairs: { key: number; keyPem: string; certPem: string }[]; chains: string[]; secrets: string[] };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sink-crash-'));
  // The child is bundled once to plain JS with the workspace sources, so a spawn costs only Node's start-up.
  childJs = join(work, 'child.mjs');
  await build({
    entryPoints: [join(here, 'child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: childJs,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'workspace-sources',
        setup(b) {
          // Each entry to the source of its Node build, as Node resolves the package (test-support/entries.ts).
          const sources = new Map(sourceEntries('node').map((e) => [e.specifier, e.source]));
          b.onResolve({ filter: /^@ecs-identity\// }, (a) => {
            const path = sources.get(a.path);
            return path === undefined ? { errors: [{ text: `no source for ${a.path}` }] } : { path };
          });
        },
      },
    ],
  });
  // Three keys with two certificates each (a refresh keeps the key), three CA chains, a dozen SecretIDs.
  const certs = join(work, 'certs');
  mkdirSync(certs);
  const pairs = [];
  for (let key = 0; key < 3; key++) {
    for (let variant = 0; variant < 2; variant++) {
      const p = makeCert(certs, `k${key}c${variant}`, variant === 0 ? {} : { reuseKeyOf: `k${key}c0` });
      pairs.push({ key, keyPem: p.keyPem, certPem: p.certPem });
    }
  }
  const chains = [0, 1, 2].map((i) => makeCert(certs, `ca${i}`, { ca: true }).certPem);
  const secrets = Array.from(
    { length: 12 },
    (_, i) => `${i.toString(16).padStart(8, '0')}-07c7-47a4-52fd-0745e0cfe967`,
  );
  data = { pairs, chains, secrets };
  dataFile = join(work, 'data.json');
  writeFileSync(dataFile, JSON.stringify(data));
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const readIfThere = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
const matches = (keyPem: string, certPem: string) =>
  new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));

describe('the public sinks under SIGKILL', () => {
  it(`siadFileSink: ${SIAD_KILLS} kills; the token file sink: ${CONSUL_KILLS} kills`, {
    timeout: 240_000,
  }, async () => {
    const t0 = performance.now();
    const failures: string[] = [];
    const known = {
      keys: new Set(data.pairs.map((p) => p.keyPem)),
      certs: new Set(data.pairs.map((p) => p.certPem)),
      chains: new Set(data.chains),
      secrets: new Set(data.secrets),
    };

    // siad: two writers on two roots at once (the kill rounds mostly wait for Node to start: two cores, two loops),
    // each starting from a complete pair written by the sink itself.
    let mixedBeforeLoad = 0;
    const seenPairs = new Set<string>();
    const siadRounds = async (name: string, kills: number) => {
      const siadRoot = join(work, name);
      const sink = siadFileSink({ root: siadRoot });
      const first = data.pairs[0] as (typeof data.pairs)[number];
      await sink.saveIdentity('sports', 'api', { keyPem: first.keyPem, certPem: first.certPem }, data.chains[0]);
      const paths = siadFileSink({ root: siadRoot }).paths('sports', 'api');
      const checkSiad = async (round: number) => {
        const where = `${name} round ${round}`;
        const key = readIfThere(paths.keyPath);
        const cert = readIfThere(paths.certPath);
        const chain = paths.caCertPath === undefined ? undefined : readIfThere(paths.caCertPath);
        if (key !== undefined && !known.keys.has(key)) failures.push(`${where}: torn key file`);
        if (cert !== undefined && !known.certs.has(cert)) failures.push(`${where}: torn certificate file`);
        if (chain !== undefined && !known.chains.has(chain)) failures.push(`${where}: torn CA file`);
        if (key && cert && known.keys.has(key) && known.certs.has(cert) && !matches(key, cert)) mixedBeforeLoad++;
        // The next start.
        const loaded = await sink.loadIdentity('sports', 'api');
        if (loaded === undefined) {
          failures.push(`${where}: the next start finds no key and certificate`);
          return;
        }
        if (!known.keys.has(loaded.keyPem) || !known.certs.has(loaded.certPem)) {
          failures.push(`${where}: the next start reads a torn pair`);
        } else if (!matches(loaded.keyPem, loaded.certPem)) {
          failures.push(`${where}: the next start gets a key that does not match its certificate`);
        } else {
          seenPairs.add(`${loaded.keyPem.length}:${loaded.certPem}`);
        }
        const keyAfter = readIfThere(paths.keyPath);
        const certAfter = readIfThere(paths.certPath);
        if (keyAfter === undefined || certAfter === undefined) {
          failures.push(`${where}: after the next start a file is missing`);
        } else if (!known.keys.has(keyAfter) || !known.certs.has(certAfter) || !matches(keyAfter, certAfter)) {
          failures.push(`${where}: after the next start the files are not a matching pair`);
        }
      };
      return killRounds({
        spawn: () => spawnWriter([childJs, 'siad', siadRoot, dataFile]),
        kills,
        maxDelayMs: MAX_DELAY_MS,
        onRound: checkSiad,
      });
    };

    // Consul: start from a token written by the sink.
    const consulRoot = join(work, 'consul');
    mkdirSync(consulRoot);
    writeFileSync(join(consulRoot, 'service-token'), data.secrets[0] as string);
    const tokenPath = join(consulRoot, 'service-token');
    const seenTokens = new Set<string>();
    const checkConsul = async (round: number) => {
      const token = readIfThere(tokenPath);
      if (token === undefined) failures.push(`consul round ${round}: the token file is gone`);
      else if (!known.secrets.has(token))
        failures.push(`consul round ${round}: the token file holds ${token.length} chars that are no SecretID`);
      else seenTokens.add(token);
    };

    const [siadA, siadB, consul] = await Promise.all([
      siadRounds('sia-a', Math.ceil(SIAD_KILLS / 2)),
      siadRounds('sia-b', Math.floor(SIAD_KILLS / 2)),
      killRounds({
        spawn: () => spawnWriter([childJs, 'consul', consulRoot, dataFile]),
        kills: CONSUL_KILLS,
        maxDelayMs: MAX_DELAY_MS,
        onRound: checkConsul,
      }),
    ]);
    const siad = { writes: siadA.writes + siadB.writes };
    const caps = [siadA, siadB, consul].map((r) => r.largestDelayCapMs).join(' / ');
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `[sink-crash] siad: ${SIAD_KILLS} kills, ${siad.writes} completed writes, ${seenPairs.size} distinct pairs seen, ` +
        `${mixedBeforeLoad} kills left a key and certificate that did not match before the next start; consul: ` +
        `${CONSUL_KILLS} kills, ${consul.writes} completed writes, ${seenTokens.size} distinct tokens seen; largest kill-delay caps ${caps} ms; ${seconds} s`,
    );
    expect(failures).toEqual([]);
    // The writers really were busy: writes completed and many different states were on disk at kill time.
    expect(siad.writes).toBeGreaterThan(SIAD_KILLS / 10);
    expect(consul.writes).toBeGreaterThan(CONSUL_KILLS / 2);
    expect(seenPairs.size).toBeGreaterThanOrEqual(4);
    expect(seenTokens.size).toBeGreaterThanOrEqual(6);
  });
});
