// Transcripts of `ecs-identity athenz run` (the built binary) through a simulated ZTS outage, against the testkit
// emulators with one-minute certificates and a 15 s refresh interval: one outage shorter than the refresh interval
// (the run survives it) and one longer than the certificate's remaining life (the run exits with its documented
// status). Not a test (it takes about a minute and prints rather than asserts); run it from the repository root:
//
//   node --import tsx packages/cli/test/outage-transcript.ts [short|long]
//
// With -refreshinterval 0.25 each certificate is refreshed 7.5 to 15 s after it came, a failed refresh is tried
// again within 3.75 s, then 7.5 s, then 15 s (never more than a quarter of the validity left), and the run exits after
// a failure whose next attempt would come within -exit-before-expiry of the expiry (default: the interval, at most
// 15% of the certificate's life).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAthenzWorld } from './emulators.js';
import { start } from './helpers.js';

interface Plan {
  title: string;
  /** How far ZTS's clock runs behind: its one-minute certificates have that much less left when they arrive. */
  ztsBehindMs: number;
  /** The event the outage is timed from. */
  after: 'identity' | 'refreshed';
  /** Seconds after that event: the outage starts, and ends (undefined: it never ends). */
  outage: [number, number | undefined];
  /** Seconds after that event to send SIGTERM, if the run is still going. */
  stopAt: number;
  extra: string[];
}

const PLANS: Record<string, Plan> = {
  short: {
    title:
      'a 12 s ZTS outage, shorter than the 15 s refresh interval (it begins 5 s after a refresh, so the next refresh, ' +
      'due 7.5 to 15 s after it, falls inside)',
    ztsBehindMs: 0,
    after: 'refreshed',
    outage: [5, 17],
    stopAt: 40,
    extra: [],
  },
  long: {
    title:
      "a ZTS outage longer than the certificate's remaining life (ZTS's clock 30 s behind: its one-minute " +
      'certificates have 30 s left when they arrive; the outage begins 5 s after the first and never ends; ' +
      '-fail-count 100 so that the expiry rule, not the count, ends the run)',
    ztsBehindMs: 30_000,
    after: 'identity',
    outage: [5, undefined],
    stopAt: 90,
    extra: ['-fail-count', '100'],
  },
};

async function transcript(plan: Plan): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ecs-identity-transcript-'));
  const behind = plan.ztsBehindMs;
  const world = await startAthenzWorld(dir, { certLifetimeMinutes: 1, clock: { now: () => Date.now() - behind } });
  const t0 = Date.now();
  const at = () => `+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
  const say = (text: string) => process.stdout.write(`${at()}  ${text}\n`);
  try {
    const args = ['athenz', 'run', ...world.args(join(dir, 'sia')), '-refreshinterval', '0.25', ...plan.extra];
    console.log(`# ecs-identity athenz run through ${plan.title}\n`);
    say(`$ ecs-identity ${args.join(' ').replace(dir, '$DIR')}`);
    const child = start(args, world.env, 180_000);
    const echo = (stream: 'stdout' | 'stderr', text: string) => {
      for (const line of text.split('\n').filter((l) => l !== '')) say(`${stream}  ${line}`);
    };
    let out = 0;
    let err = 0;
    const flush = () => {
      const o = child.stdoutSoFar();
      const e = child.stderrSoFar();
      echo('stdout', o.slice(out));
      echo('stderr', e.slice(err));
      out = o.length;
      err = e.length;
    };
    const poll = setInterval(flush, 50);
    while (!child.stdoutSoFar().includes(`"event":"${plan.after}"`) && child.child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = Date.now();
    let ended = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const after = (seconds: number, step: () => void) =>
      timers.push(
        setTimeout(
          () => {
            if (!ended) step();
          },
          Math.max(0, first + seconds * 1000 - Date.now()),
        ),
      );
    after(plan.outage[0], () => {
      world.zts.setFault({ match: { method: 'POST', path: '/instance' }, status: 503, message: 'ZTS is down' });
      say('-- ZTS outage begins: every POST /instance... answers 503');
    });
    const end = plan.outage[1];
    if (end !== undefined) {
      after(end, () => {
        world.zts.setFault();
        say('-- ZTS outage ends');
      });
    }
    after(plan.stopAt, () => {
      say('-- SIGTERM');
      child.child.kill('SIGTERM');
    });
    const r = await child.done;
    ended = true;
    for (const t of timers) clearTimeout(t);
    clearInterval(poll);
    flush();
    const seen = world.zts.requests().filter((e) => e.path.startsWith('/zts/v1/instance')).length;
    say(`exit status ${r.code ?? `killed by ${r.signal}`} (${seen} register/refresh requests reached ZTS)`);
  } finally {
    world.zts.setFault();
    await world.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const which = process.argv[2];
for (const name of which ? [which] : Object.keys(PLANS)) {
  const plan = PLANS[name];
  if (!plan) throw new Error(`unknown transcript ${name} (short or long)`);
  await transcript(plan);
  console.log('');
}
