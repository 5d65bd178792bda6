/**
 * Secret scrubbing cost per string, with 10,000 secrets registered against 10: the text every request puts through
 * `scrubSecrets` (a URL, an error message) must not cost more because the process has made many credentials.
 *
 * Two registries side by side in this process (the secrets module loaded twice, as two module instances): one with
 * 10 secrets (the baseline) and one with 10,000 (as 10,000 live credentials would register), scrubbing the same texts
 * in rounds that alternate between them, so drift on a shared machine hits both alike. Also printed for reference:
 * what the previous approach (a `String#includes` pass per registered form, longest first) costs with 10,000 secrets
 * and with 10.
 *
 *   node --import tsx bench/scrub.bench.ts     (from the repo root; BENCH_ITERATIONS, default 20000; BENCH_ROUNDS,
 *                                             default 9; BENCH_SECRETS, default 10000)
 */
import { REDACTED } from '@ecs-identity/core/internal';

type SecretsModule = typeof import('@ecs-identity/core');
// The same source file under two URLs is two module instances, each with its own registry.
const source = new URL('../packages/core/src/secrets.ts', import.meta.url).href;
const fewRegistry = (await import(`${source}?few`)) as SecretsModule;
const manyRegistry = (await import(`${source}?many`)) as SecretsModule;

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SECRETS = Number(process.env.BENCH_SECRETS ?? 10_000);
const FEW = 10;
const TARGET = 1.25;

/** A secret shaped like a session token or a Consul SecretID. */
const secret = (i: number) =>
  `${i.toString(36).padStart(6, '0')}-5ec12e7-IQoJb3JpZ2luX2VjEJr${(i * 7919).toString(16)}`;

// What goes through scrubbing on a request: its URL, and (on failure) a message quoting a server's answer.
const texts = [
  'https://zts.athenz.example.com:4443/zts/v1/instance/athenz.aws-ecs.us-west-2/sports/api/0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  'http://169.254.170.2/v2/credentials/7b8c2a9e-1f3d-4c5b-9a6e-0d1c2b3a4f5e',
  'POST https://consul.service.example:8501/v1/acl/login answered 403: rpc error making call: Permission denied: ' +
    'the bearer token was signed for a different server id header (expected "vault.example.com", got "consul.example")',
  `GET https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity failed: socket hang up (${'x'.repeat(120)})`,
];

function run(registry: SecretsModule, n: number): number {
  const scrub = registry.scrubSecrets;
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += scrub(texts[i % texts.length] as string).length;
  const ms = performance.now() - t0;
  if (sink === 0) throw new Error('nothing scrubbed');
  return (ms * 1000) / n; // µs per string
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** The previous approach, for reference: every form of every secret, longest first, looked for with includes(). */
function previousApproach(forms: string[], n: number): number {
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let out = texts[i % texts.length] as string;
    for (const f of sorted) if (f.length <= out.length && out.includes(f)) out = out.split(f).join(REDACTED);
    sink += out.length;
  }
  const ms = performance.now() - t0;
  if (sink === 0) throw new Error('nothing scrubbed');
  return (ms * 1000) / n;
}

for (let i = 0; i < FEW; i++) fewRegistry.registerSecret(secret(i));
for (let i = 0; i < SECRETS; i++) manyRegistry.registerSecret(secret(i));
run(fewRegistry, ITERATIONS); // warm-up
run(manyRegistry, ITERATIONS);
const few: number[] = [];
const many: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    few.push(run(fewRegistry, ITERATIONS));
    many.push(run(manyRegistry, ITERATIONS));
  } else {
    many.push(run(manyRegistry, ITERATIONS));
    few.push(run(fewRegistry, ITERATIONS));
  }
}

// Still correct with all of them registered: the first and the last secret are found.
const check = manyRegistry.scrubSecrets(`a ${secret(0)} b ${secret(SECRETS - 1)} c`);
if (check !== `a ${REDACTED} b ${REDACTED} c`) throw new Error(`scrubbing missed a secret: ${check.length} chars`);

const formsOf = (n: number) => Array.from({ length: n }, (_, i) => [secret(i), encodeURIComponent(secret(i))]).flat();
const previous = previousApproach(formsOf(SECRETS), Math.max(50, Math.floor(ITERATIONS / 400)));
const previousFew = median(Array.from({ length: ROUNDS }, () => previousApproach(formsOf(FEW), ITERATIONS)));

const a = median(many);
const b = median(few);
console.log(
  `scrub: scrubSecrets on request-sized strings (${texts.map((t) => t.length).join(', ')} chars), ${ROUNDS} rounds of ${ITERATIONS}`,
);
console.log(`  ours   with ${SECRETS} secrets registered   median ${a.toFixed(3)} µs per string`);
console.log(`  theirs with ${FEW} secrets registered      median ${b.toFixed(3)} µs per string`);
console.log(
  `  for reference, the previous approach (one includes() pass per form): ${previous.toFixed(1)} µs per string with ` +
    `${SECRETS} secrets, ${previousFew.toFixed(3)} µs with ${FEW}`,
);
console.log(`  ratio (ours/theirs) = ${(a / b).toFixed(2)}  target <= ${TARGET}`);
