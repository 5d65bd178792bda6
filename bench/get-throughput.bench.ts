/**
 * Cached get() throughput: our refreshingProvider against @smithy/core's memoizeIdentityProvider (what the AWS SDK
 * v3 uses to cache credentials), both wrapping the same fetch, measured in the same process and run.
 *
 * Each round awaits N sequential get() calls on a warm cache; the figure is the median ops/s over the rounds.
 * The rounds alternate between the two so drift (JIT, GC, a busy neighbour) hits both alike.
 */
import { refreshingProvider } from '@ecs-identity/core';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const WARMUP = 50_000;

interface Cred {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly expiresAt: Date;
  /** smithy's Identity calls the expiry `expiration`. */
  readonly expiration: Date;
}

let fetches = 0;
async function fetchCred(): Promise<Cred> {
  fetches++;
  const expiresAt = new Date(Date.now() + 3_600_000);
  return { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'bench-secret', expiresAt, expiration: expiresAt };
}

const ours = refreshingProvider<Cred>({ name: 'bench', fetch: fetchCred, refresh: { background: true } });
const memoized = memoizeIdentityProvider<Cred>(fetchCred, isIdentityExpired, doesIdentityRequireRefresh);
if (memoized === undefined) throw new Error('memoizeIdentityProvider returned undefined');
const theirs = memoized;

async function loop(get: () => Promise<Cred>, n: number): Promise<number> {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += (await get()).accessKeyId.length;
  const ms = performance.now() - t0;
  if (sink !== n * 11) throw new Error('unexpected credential');
  return (n / ms) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const getOurs = () => ours.get();
const getTheirs = () => theirs();

await loop(getOurs, WARMUP);
await loop(getTheirs, WARMUP);
const fetchesAfterWarmup = fetches;

const oursOps: number[] = [];
const theirsOps: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    oursOps.push(await loop(getOurs, ITERATIONS));
    theirsOps.push(await loop(getTheirs, ITERATIONS));
  } else {
    theirsOps.push(await loop(getTheirs, ITERATIONS));
    oursOps.push(await loop(getOurs, ITERATIONS));
  }
}
await ours.close();

const a = median(oursOps);
const b = median(theirsOps);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`get-throughput: cached get(), ${ROUNDS} rounds x ${ITERATIONS.toLocaleString('en-US')} sequential awaits`);
console.log(`  ours   refreshingProvider       median ${fmt(a)} ops/s`);
console.log(`  theirs memoizeIdentityProvider  median ${fmt(b)} ops/s  (@smithy/core)`);
console.log(`  upstream fetches during measurement: ${fetches - fetchesAfterWarmup} (expected 0)`);
console.log(`  ratio (ours/theirs) = ${(a / b).toFixed(2)}  target >= 1.0`);
