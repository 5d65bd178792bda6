/**
 * Bearer token cost: building a Consul aws-iam token with entity details (role ARN known, so no network) against
 * the floor it cannot go below: two bare `SignatureV4.sign` calls on the same two requests (the IAM GetRole and the
 * STS GetCallerIdentity carrying it), measured in the same process and run.
 *
 * Two baselines are printed: signers built once and reused (smithy caches the derived signing key per signer, the
 * cheapest possible) and a fresh signer per call (what the builder does, so no key material outlives a token). The
 * ratio line uses the reused-signer baseline, the stricter one. Many short rounds alternate the order and the medians
 * are reported, so a busy neighbour on a shared machine skews both sides alike.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { buildBearerToken } from '@ecs-identity/consul-login';
import { SignatureV4 } from '@smithy/signature-v4';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const WARMUP = 500;

const credentials = {
  accessKeyId: 'ASIABENCHEXAMPLE0001',
  secretAccessKey: 'bench/secret/access/key/EXAMPLEEXAMPLE000',
  sessionToken: `IQoJb3JpZ2luX2Vj${'A'.repeat(380)}`,
  roleArn: 'arn:aws:iam::123456789012:role/ecs/services/web-task',
};
const signingDate = new Date('2026-01-02T03:04:05Z');
const options = { credentials, region: 'us-west-2', serverIdHeaderValue: 'consul.example.com', signingDate };

// The two requests exactly as the builder signs them, recovered from one token so both sides sign the same bytes.
const token = JSON.parse(await buildBearerToken(options)) as Record<string, string>;
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const stsHeaders = JSON.parse(decode(token.iam_request_headers as string)) as Record<string, string[]>;
const iamHeaders = JSON.parse(stsHeaders['X-Consul-Iam-Getentity-Headers']?.[0] ?? '{}') as Record<string, string[]>;
const unsigned = (headers: Record<string, string[]>, host: string) => {
  const out: Record<string, string> = { host };
  for (const [k, v] of Object.entries(headers)) {
    if (!['Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'].includes(k)) out[k.toLowerCase()] = v[0] as string;
  }
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

const reusedIam = signer('iam', 'us-east-1');
const reusedSts = signer('sts', 'us-west-2');

type Op = () => Promise<unknown>;
const ours: Op = () => buildBearerToken(options);
const reused: Op = async () => {
  await reusedIam.sign(iamRequest, { signingDate });
  await reusedSts.sign(stsRequest, { signingDate });
};
const fresh: Op = async () => {
  await signer('iam', 'us-east-1').sign(iamRequest, { signingDate });
  await signer('sts', 'us-west-2').sign(stsRequest, { signingDate });
};

// Sanity: the baseline signs the same STS request the builder did (same Authorization).
const check = await reusedSts.sign(stsRequest, { signingDate });
if (check.headers.authorization !== stsHeaders.Authorization?.[0])
  throw new Error('baseline signs a different request');

async function timeUs(op: Op, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op();
  return ((performance.now() - t0) * 1000) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

for (const op of [ours, reused, fresh]) await timeUs(op, WARMUP);
const samples = { ours: [] as number[], reused: [] as number[], fresh: [] as number[] };
const order = [
  ['ours', ours],
  ['reused', reused],
  ['fresh', fresh],
] as const;
for (let r = 0; r < ROUNDS; r++) {
  const turn = r % 2 === 0 ? order : [...order].reverse();
  for (const [name, op] of turn) samples[name].push(await timeUs(op, ITERATIONS));
}

const a = median(samples.ours);
const b = median(samples.reused);
const c = median(samples.fresh);
console.log(`bearer-token: ${ROUNDS} rounds x ${ITERATIONS} tokens, entity details + server ID, role ARN known`);
console.log(`  ours   buildBearerToken                       median ${a.toFixed(1)} us/token`);
console.log(`  theirs 2 x SignatureV4.sign, reused signers   median ${b.toFixed(1)} us`);
console.log(`         2 x SignatureV4.sign, fresh signers    median ${c.toFixed(1)} us  (ratio ${(a / c).toFixed(2)})`);
console.log(`  ratio (ours/theirs) = ${(a / b).toFixed(2)}  target <= 1.5`);
