/**
 * Fleet simulation: what a fleet of tasks does to the ZTS they share. 10,000 tasks deployed within one minute, each
 * with core's `refreshingProvider` set up exactly as `athenzIdentityProvider` sets it up (the same
 * `mergeRefreshPolicy(athenzRefreshDefaults.identity, options)` call, with no caller options: the defaults), on one
 * injected `ManualClock`, over several refresh cycles of 7-day certificates, with a 1-hour ZTS outage (every request
 * answered 503) in the middle.
 *
 * Only the fetch is simulated: it counts a request and hands back a certificate valid for 7 days (or fails during
 * the outage). The schedule, spread, backoff and expiry rules are the SDK's own code.
 *
 * Printed: peak/mean refresh load in 1-minute and 1-hour bins before the outage and after the recovery, against the
 * fair baseline computed in the same run (the same number of refreshes placed uniformly at random over the same
 * window: no client can beat a random spread by much without coordinating); the requests in the outage hour and in the
 * hour after against the steady hourly mean; the recovery (until every task that failed in the outage holds a new
 * certificate); the spread of a day's refreshes; the least validity left at any refresh; and whether any credential
 * expired.
 *
 *   node --import tsx bench/fleet.bench.ts     (from the repo root; BENCH_TASKS, default 10000; BENCH_DAYS, default
 *                                             4; BENCH_OUTAGE_AT_HOURS, default 50; BENCH_OUTAGE_HOURS, default 1;
 *                                             BENCH_SEED, default 13)
 */
import { athenzRefreshDefaults } from '@ecs-identity/athenz-zts';
import { IdentityError, refreshingProvider } from '@ecs-identity/core';
import { mergeRefreshPolicy } from '@ecs-identity/core/internal';
import { ManualClock, seededRandom } from '@ecs-identity/testkit';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 4);
const OUTAGE_AT = Number(process.env.BENCH_OUTAGE_AT_HOURS ?? 50) * HOUR;
const OUTAGE_LENGTH = Number(process.env.BENCH_OUTAGE_HOURS ?? 1) * HOUR;
const SEED = Number(process.env.BENCH_SEED ?? 13);
const LIFETIME = 7 * DAY;
const DEPLOY_WINDOW = MIN;
const TARGET_HOUR = 1.1;
const TARGET_MINUTE = 1.25;
const TARGET_OUTAGE = 1.5;

interface Cert {
  readonly expiresAt: Date;
}

const T0 = Date.parse('2026-03-02T09:00:00Z');
const clock = new ManualClock(T0);
const random = seededRandom(SEED);
const end = DAYS * DAY;
const outageEnd = OUTAGE_AT + OUTAGE_LENGTH;

/** Refresh requests (a fetch with a certificate to refresh) per minute since T0; registrations are apart. */
const perMinute = new Float64Array(Math.ceil(end / MIN));
let registrations = 0;
let leastLeftMs = Number.POSITIVE_INFINITY;
let expiredAtRefresh = 0;
/** Tasks whose refresh failed in the outage, and when each got its next certificate. */
const failedInOutage = new Set<number>();
const recoveredAt = new Map<number, number>();
/** Successful refresh times (ms since T0), for the spread of a day. */
const refreshTimes: number[] = [];

// One policy object for the whole fleet, made as athenzIdentityProvider makes it from options without refresh/retry.
const policy = mergeRefreshPolicy(athenzRefreshDefaults.identity, {});

const providers = Array.from({ length: TASKS }, (_, task) =>
  refreshingProvider<Cert>({
    name: 'athenz identity',
    clock,
    random,
    ...policy,
    fetch: async (_signal, previous) => {
      const now = clock.now();
      const t = now - T0;
      if (previous === undefined) registrations++;
      else {
        const bin = Math.floor(t / MIN);
        if (bin < perMinute.length) perMinute[bin] = (perMinute[bin] ?? 0) + 1;
      }
      if (t >= OUTAGE_AT && t < outageEnd) {
        if (previous !== undefined) failedInOutage.add(task);
        throw new IdentityError('ZTS_ERROR', 'ZTS answered 503', { retryable: true, status: 503 });
      }
      if (previous !== undefined) {
        const left = previous.expiresAt.getTime() - now;
        leastLeftMs = Math.min(leastLeftMs, left);
        if (left <= 0) expiredAtRefresh++;
        refreshTimes.push(t);
        if (failedInOutage.has(task) && !recoveredAt.has(task) && t >= OUTAGE_AT) recoveredAt.set(task, t);
      }
      return { expiresAt: new Date(now + LIFETIME) };
    },
  }),
);

const started = performance.now();
// Deployment: each task starts somewhere in the first minute and gets its first certificate.
for (const p of providers) {
  clock.setTimeout(() => void p.get().catch(() => {}), random() * DEPLOY_WINDOW);
}
for (let t = 0; t < end; t += 10 * MIN) await clock.advance(10 * MIN);
const simulatedIn = (performance.now() - started) / 1000;

let expiredAtEnd = 0;
for (const p of providers) {
  const cert = p.peek();
  if (cert === undefined) expiredAtEnd++;
  else leastLeftMs = Math.min(leastLeftMs, cert.expiresAt.getTime() - clock.now());
}
await Promise.all(providers.map((p) => p.close()));

// ---- figures ----

function sum(xs: ArrayLike<number>, from = 0, to = xs.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i] as number;
  return s;
}

/** Bins of `binMs` over [fromMs, toMs) from the per-minute counts. */
function bins(counts: ArrayLike<number>, fromMs: number, toMs: number, binMs: number): number[] {
  const per = binMs / MIN;
  const out: number[] = [];
  for (let m = fromMs / MIN; m + per <= toMs / MIN; m += per) out.push(sum(counts, m, m + per));
  return out;
}

function peakOverMean(xs: number[]): number {
  const mean = sum(xs) / xs.length;
  return mean === 0 ? Number.NaN : Math.max(...xs) / mean;
}

/** The fair baseline: `n` refreshes placed uniformly at random over [fromMs, toMs), per minute. */
function baseline(n: number, fromMs: number, toMs: number, rnd: () => number): Float64Array {
  const counts = new Float64Array(Math.ceil(end / MIN));
  for (let i = 0; i < n; i++) {
    const m = Math.floor((fromMs + rnd() * (toMs - fromMs)) / MIN);
    counts[m] = (counts[m] ?? 0) + 1;
  }
  return counts;
}

/** The shortest window holding `share` of the refreshes in [fromMs, fromMs + DAY). */
function densestWindow(fromMs: number, share: number): number {
  const xs = refreshTimes.filter((t) => t >= fromMs && t < fromMs + DAY).sort((a, b) => a - b);
  const k = Math.ceil(xs.length * share);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i + k - 1 < xs.length; i++) best = Math.min(best, (xs[i + k - 1] as number) - (xs[i] as number));
  return best;
}

const hours = (ms: number) => `${(ms / HOUR).toFixed(1)} h`;
const f2 = (x: number) => x.toFixed(2);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

// After the outage: once every task whose refresh failed in it holds a new certificate (rounded up to the hour).
const lastRecovery = Math.max(outageEnd, ...recoveredAt.values());
const recoveryEnd = Math.min(end, Math.ceil(lastRecovery / HOUR) * HOUR);
const windows = [
  { name: 'before the outage', from: 0, to: OUTAGE_AT },
  { name: 'after the recovery', from: recoveryEnd, to: end },
];
const baseRandom = seededRandom(SEED + 1);
const summary: string[] = [];

const total = sum(perMinute);
console.log(
  `fleet: ${TASKS} tasks deployed within ${DEPLOY_WINDOW / MIN} minute, ${DAYS} days of 7-day certificates, ` +
    `a ${hours(OUTAGE_LENGTH)} ZTS outage at +${hours(OUTAGE_AT)}; simulated in ${simulatedIn.toFixed(1)} s`,
);
console.log(
  `  settings: refresh ${JSON.stringify(policy.refresh)}, retry ${JSON.stringify({ ...policy.retry, initial: undefined })}`,
);
console.log(
  `  requests: ${registrations} registrations, ${total} refresh attempts ` +
    `(${f2(total / TASKS / (end / DAY))} per task per day; at least ${f2(end / DAY - 1)} refresh cycles each)`,
);
for (const w of windows) {
  if (w.to - w.from < 2 * HOUR) continue;
  const n = sum(perMinute, w.from / MIN, w.to / MIN);
  const base = baseline(n, w.from, w.to, baseRandom);
  for (const [label, binMs, target] of [
    ['1-hour', HOUR, TARGET_HOUR],
    ['1-minute', MIN, TARGET_MINUTE],
  ] as const) {
    const ours = peakOverMean(bins(perMinute, w.from, w.to, binMs));
    const theirs = peakOverMean(bins(base, w.from, w.to, binMs));
    const ratio = ours / theirs;
    console.log(
      `  ${w.name} (+${hours(w.from)} .. +${hours(w.to)}), ${label} bins: peak/mean ours ${f2(ours)}, ` +
        `uniform random baseline ${f2(theirs)}`,
    );
    console.log(`    ratio (ours/theirs) = ${f2(ratio)}  target <= ${target}  ${verdict(ratio <= target)}`);
    summary.push(`${w.name}, ${label} bins: ${f2(ratio)} (target <= ${target}) ${verdict(ratio <= target)}`);
  }
}
const before = sum(perMinute, 0, OUTAGE_AT / MIN);
const steadyHourly = before / (OUTAGE_AT / HOUR);
const outageHour = sum(perMinute, OUTAGE_AT / MIN, (OUTAGE_AT + HOUR) / MIN);
const hourAfter = sum(perMinute, outageEnd / MIN, (outageEnd + HOUR) / MIN);
console.log(`  steady hourly mean before the outage: ${steadyHourly.toFixed(0)} refresh requests`);
for (const [label, n] of [
  ['outage hour', outageHour],
  ['hour after the outage', hourAfter],
] as const) {
  const ratio = n / steadyHourly;
  console.log(
    `  ${label}: ${n} requests = ${f2(ratio)} x the steady mean  target <= ${TARGET_OUTAGE}  ${verdict(ratio <= TARGET_OUTAGE)}`,
  );
  summary.push(`${label}: ${f2(ratio)} x steady (target <= ${TARGET_OUTAGE}) ${verdict(ratio <= TARGET_OUTAGE)}`);
}
const recoveryBins = bins(perMinute, outageEnd, recoveryEnd, HOUR);
console.log(
  `  recovery: the ${failedInOutage.size} tasks whose refresh failed in the outage all hold a new certificate ` +
    `${hours(lastRecovery - outageEnd)} after it; busiest hour in between ${Math.max(0, ...recoveryBins)} requests ` +
    `(${f2(Math.max(0, ...recoveryBins) / steadyHourly)} x the steady mean)`,
);
const dayBefore = densestWindow(OUTAGE_AT - DAY, 0.9);
const dayAfter = densestWindow(recoveryEnd, 0.9);
console.log(
  `  spread: 90% of a day's refreshes fall within ${hours(dayBefore)} (the day before the outage) and ` +
    `${hours(dayAfter)} (the day after the recovery); a uniform spread gives 21.6 h`,
);
const noneExpired = expiredAtRefresh === 0 && expiredAtEnd === 0;
console.log(
  `  least validity left at any refresh or at the end: ${hours(leastLeftMs)} of ${hours(LIFETIME)}; ` +
    `expired: ${expiredAtRefresh} at a refresh, ${expiredAtEnd} at the end  target: none  ${verdict(noneExpired)}`,
);
summary.push(`no credential expired: ${verdict(noneExpired)}`);
console.log('fleet summary:');
for (const line of summary) console.log(`  ${line}`);
