/**
 * Validation cost: `taskIdentity(text)` (JSON.parse, document checks, task ARN and cluster resolution) on a real
 * Fargate v4 `/task` response, against the floor it cannot go below: a bare `JSON.parse` of the same text, measured
 * in the same process and run. Rounds alternate the order; medians are reported.
 */
import { readFileSync } from 'node:fs';
import { taskIdentity } from '@ecs-identity/ecs-metadata';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const WARMUP = 2_000;

const text = readFileSync(
  new URL('../packages/ecs-metadata/test/fixtures/otel-js/metadatav4-response-task-fargate.json', import.meta.url),
  'utf8',
);
// Sanity: both sides read the same document, and ours gives the identity.
if (taskIdentity(text).taskId !== 'e9028f8d5d8e4f258373e7b93ce9a3c3') throw new Error('unexpected identity');

let sink = 0;
type Op = () => void;
const ours: Op = () => {
  sink += taskIdentity(text).revision.length;
};
const theirs: Op = () => {
  sink += (JSON.parse(text) as { Revision: string }).Revision.length;
};

function timeUs(op: Op, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) op();
  return ((performance.now() - t0) * 1000) / n;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

timeUs(ours, WARMUP);
timeUs(theirs, WARMUP);
const samples = { ours: [] as number[], theirs: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  const turn = r % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const);
  for (const name of turn) samples[name].push(timeUs(name === 'ours' ? ours : theirs, ITERATIONS));
}
const a = median(samples.ours);
const b = median(samples.theirs);
console.log(
  `task-metadata: ${ROUNDS} rounds x ${ITERATIONS} parses of a ${text.length}-byte Fargate v4 /task document`,
);
console.log(`  ours   taskIdentity(text)   median ${a.toFixed(2)} us`);
console.log(`  theirs JSON.parse(text)     median ${b.toFixed(2)} us`);
console.log(`  ratio (ours/theirs) = ${(a / b).toFixed(2)}  target <= 2.0`);
if (sink === 0) console.log('(unreachable)');
