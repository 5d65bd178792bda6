/**
 * Bearer token cost: building a Consul aws-iam token with entity details (role ARN known, so no network) against
 * the floor it cannot go below: two bare `SignatureV4.sign` calls on the same two requests (the IAM GetRole and the
 * STS GetCallerIdentity carrying it), with the same credentials, signing date and Sha256 (@aws-crypto/sha256-js),
 * measured in the same process and run.
 *
 * Signers: both sides build a fresh `SignatureV4` per request. The builder must (it keeps no credentials or anything
 * derived from them between calls), so the baseline does too. @smithy/signature-v4 memoises derived signing keys in
 * a module-level table shared by every signer, so both sides get that cache alike; a reused signer would only save
 * its constructor (~0.2 us).
 *
 * Figures are process CPU time (`process.cpuUsage`), not wall time: on a shared 2-core machine wall time mostly
 * measures how often the neighbours preempt us. Each round times a batch of each side back to back (order alternates
 * every round); the ratio is the median of the per-round ratios and the builder's own overhead the median of the
 * per-round differences, so drift (JIT, GC, a busy neighbour) cancels within each pair. Both sides consume their
 * result (the token is read, so a lazily concatenated string is paid for here, not by the caller).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { buildBearerToken } from '@ecs-identity/consul-login';
import { SignatureV4 } from '@smithy/signature-v4';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 41);
const WARMUP = 2_000;

const credentials = {
  accessKeyId: 'ASIABENCHEXAMPLE0001',
  secretAccessKey: 'bench/secret/access/key/EXAMPLEEXAMPLE000',
  sessionToken: `IQoJb3JpZ2luX2Vj${'A'.repeat(380)}`,
};
const roleArn = 'arn:aws:iam::123456789012:role/ecs/services/web-task';
const signingDate = new Date('2026-01-02T03:04:05Z');
const options = {
  credentials: { ...credentials, roleArn },
  region: 'us-west-2',
  serverIdHeaderValue: 'consul.example.com',
  signingDate,
};

// The two requests exactly as the builder signs them, recovered from one token so both sides sign the same bytes.
const token = JSON.parse(await buildBearerToken(options)) as Record<string, string>;
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const stsHeaders = JSON.parse(decode(token.iam_request_headers as string)) as Record<string, string[]>;
const iamHeaders = JSON.parse(stsHeaders['X-Consul-Iam-Getentity-Headers']?.[0] ?? '{}') as Record<string, string[]>;
const SIGNER_ADDED = ['Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'];
const unsigned = (headers: Record<string, string[]>, host: string) => {
  const out: Record<string, string> = { host };
  for (const [k, v] of Object.entries(headers)) if (!SIGNER_ADDED.includes(k)) out[k.toLowerCase()] = v[0] as string;
  return out;
};
const request = (host: string, headers: Record<string, string>, body: string) => ({
  method: 'POST',
  protocol: 'https:',
  hostname: host,
  path: '/',
  query: {},
  headers,
  body,
});
const iamRequest = request(
  'iam.amazonaws.com',
  unsigned(iamHeaders, 'iam.amazonaws.com'),
  stsHeaders['X-Consul-Iam-Getentity-Body']?.[0] ?? '',
);
const stsRequest = request(
  'sts.us-west-2.amazonaws.com',
  unsigned(stsHeaders, 'sts.us-west-2.amazonaws.com'),
  decode(token.iam_request_body as string),
);
const signer = (service: string, region: string) =>
  new SignatureV4({ service, region, credentials, sha256: Sha256, applyChecksum: false });
const signIam = () => signer('iam', 'us-east-1').sign(iamRequest, { signingDate });
const signSts = () => signer('sts', 'us-west-2').sign(stsRequest, { signingDate });

// Sanity: the baseline signs the very requests the builder signed (same Authorization on both).
if ((await signIam()).headers.authorization !== iamHeaders.Authorization?.[0])
  throw new Error('baseline signs a different IAM request');
if ((await signSts()).headers.authorization !== stsHeaders.Authorization?.[0])
  throw new Error('baseline signs a different STS request');

type Op = () => Promise<number>;
const ours: Op = async () => {
  const t = await buildBearerToken(options);
  return t.charCodeAt(t.length - 2);
};
const theirs: Op = async () => {
  const iam = await signIam();
  const sts = await signSts();
  return (iam.headers.authorization?.length ?? 0) + (sts.headers.authorization?.length ?? 0);
};

let sink = 0;
/** CPU and wall microseconds per op over `n` sequential ops. */
async function time(op: Op, n: number): Promise<{ cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink += await op();
  const wall = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / n, wall };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

for (let i = 0; i < 4; i++) {
  await time(ours, WARMUP / 4);
  await time(theirs, WARMUP / 4);
}
const cpu = { ours: [] as number[], theirs: [] as number[], ratio: [] as number[], overhead: [] as number[] };
const wall = { ours: [] as number[], theirs: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  let a: { cpu: number; wall: number };
  let b: { cpu: number; wall: number };
  if (r % 2 === 0) {
    a = await time(ours, ITERATIONS);
    b = await time(theirs, ITERATIONS);
  } else {
    b = await time(theirs, ITERATIONS);
    a = await time(ours, ITERATIONS);
  }
  cpu.ours.push(a.cpu);
  cpu.theirs.push(b.cpu);
  cpu.ratio.push(a.cpu / b.cpu);
  cpu.overhead.push(a.cpu - b.cpu);
  wall.ours.push(a.wall);
  wall.theirs.push(b.wall);
}
if (sink === 0) throw new Error('nothing was consumed');

const us = (x: number) => `${x.toFixed(1)} us`;
console.log(`bearer-token: ${ROUNDS} rounds x ${ITERATIONS} tokens, entity details + server ID, role ARN known`);
console.log(`  ours   buildBearerToken                     median ${us(median(cpu.ours))} CPU/token`);
console.log(`  theirs 2 x SignatureV4.sign, fresh signers  median ${us(median(cpu.theirs))} CPU`);
console.log(`  builder's own overhead (ours - theirs)      median ${us(median(cpu.overhead))} CPU/token`);
console.log(
  `  wall time (for reference, noisy when shared) ours ${us(median(wall.ours))}, theirs ${us(median(wall.theirs))}`,
);
console.log(`  ratio (ours/theirs) = ${median(cpu.ratio).toFixed(2)}  target <= 1.5`);
