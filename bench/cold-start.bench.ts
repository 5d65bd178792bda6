/**
 * Cold start to the first service certificate: a fresh `athenzIdentityProvider` (no saved files) doing everything
 * a task does at start (task metadata and task-role credentials from the testkit ECS agent, `sts:AssumeRole` against
 * the testkit AWS, `POST /instance` to the testkit ZTS over HTTPS, which checks the CSR and the attestation), against
 * the sum of the parts that cannot be skipped: key generation plus CSR signing, measured in the same run.
 * RSA 2048 key generation varies a lot between runs, so medians over several alternating rounds are reported.
 *
 *   node --import tsx bench/cold-start.bench.ts     (from the repo root; BENCH_ROUNDS, default 9)
 */
import {
  athenzIdentityProvider,
  attest,
  buildServiceCsr,
  createZtsClient,
  generateKeyPair,
  type KeyType,
  ztsTransport,
} from '@ecs-identity/athenz-zts/node';
import { startAws, startEcsAgent, startZts } from '@ecs-identity/testkit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const DNS_SUFFIX = 'aws.athenz.cloud';

const aws = await startAws({ region: 'us-west-2' });
const taskRole = aws.addRole({ name: 'sports.api-service', trust: ['*'] });
aws.addRole({ name: 'sports.api', trust: [taskRole.arn] });
const agent = await startEcsAgent({
  region: 'us-west-2',
  taskRoleArn: taskRole.arn,
  credentials: async (arn) => aws.issueRoleCredentials(arn),
});
const zts = await startZts({
  aws: { url: aws.url, region: 'us-west-2' },
  providers: ['athenz.aws-ecs.us-west-2'],
  dnsSuffix: DNS_SUFFIX,
  domains: [{ name: 'sports', awsAccount: '123456789012', services: ['api'] }],
});

/** One cold start: a provider with no state, from nothing to the first certificate. */
async function coldStart(keyType: KeyType): Promise<number> {
  const t0 = performance.now();
  // A new client per start too, so the TLS handshake to ZTS is part of it, as in a fresh process.
  const t = ztsTransport({ caBundle: zts.caPem, keepAlive: false });
  const provider = athenzIdentityProvider({
    zts: createZtsClient({ url: zts.baseUrl, transport: t }),
    env: agent.env,
    stsEndpoint: aws.url,
    dnsSuffixes: [DNS_SUFFIX],
    keyType,
    backgroundRefresh: false,
  });
  const id = await provider.get();
  const ms = performance.now() - t0;
  if (!id.certificatePem.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
  await provider.close();
  t.close();
  return ms;
}

/** The unavoidable parts: a new key pair and the signed CSR. */
async function parts(keyType: KeyType): Promise<number> {
  const t0 = performance.now();
  const keys = await generateKeyPair({ type: keyType });
  await buildServiceCsr({
    keys,
    domain: 'sports',
    service: 'api',
    provider: 'athenz.aws-ecs.us-west-2',
    instanceId: agent.taskId,
    dnsSuffixes: [DNS_SUFFIX],
  });
  return performance.now() - t0;
}

/**
 * For the reading of the figures only: one ZTS register alone (fresh TLS connection, the emulator checking the CSR,
 * calling the AWS emulator's GetCallerIdentity and signing), with the CSR and attestation made beforehand.
 */
async function registerAlone(keyType: KeyType): Promise<number> {
  const keys = await generateKeyPair({ type: keyType });
  const csr = await buildServiceCsr({
    keys,
    domain: 'sports',
    service: 'api',
    provider: 'athenz.aws-ecs.us-west-2',
    instanceId: agent.taskId,
    dnsSuffixes: [DNS_SUFFIX],
  });
  const attestationData = await attest({
    domain: 'sports',
    service: 'api',
    taskId: agent.taskId,
    roleArn: 'arn:aws:iam::123456789012:role/sports.api',
    region: 'us-west-2',
    stsEndpoint: aws.url,
    credentials: aws.issueRoleCredentials(taskRole.arn),
  });
  const t = ztsTransport({ caBundle: zts.caPem, keepAlive: false });
  const t0 = performance.now();
  await createZtsClient({ url: zts.baseUrl, transport: t }).register({
    provider: 'athenz.aws-ecs.us-west-2',
    domain: 'sports',
    service: 'api',
    attestationData,
    csr: csr.pem,
  });
  const ms = performance.now() - t0;
  t.close();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

try {
  // The very first start also loads @aws-sdk/client-sts (imported lazily); shown, but not in the medians.
  const first = await coldStart('ec');
  console.log(`cold-start: first start in this process (includes loading @aws-sdk/client-sts): ${first.toFixed(1)} ms`);
  for (const keyType of ['rsa', 'ec'] as const) {
    const label = keyType === 'rsa' ? 'RSA 2048' : 'ECDSA P-256';
    await parts(keyType); // warm-up
    const ours: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // alternate the order so drift on a shared machine hits both sides alike
      if (r % 2 === 0) {
        ours.push(await coldStart(keyType));
        base.push(await parts(keyType));
      } else {
        base.push(await parts(keyType));
        ours.push(await coldStart(keyType));
      }
    }
    const reg: number[] = [];
    for (let r = 0; r < ROUNDS; r++) reg.push(await registerAlone(keyType));
    const a = median(ours);
    const b = median(base);
    console.log(`cold-start ${label}: ${ROUNDS} rounds`);
    console.log(
      `  ours   metadata + credentials + AssumeRole + keygen + CSR + ZTS register   median ${a.toFixed(1)} ms`,
    );
    console.log(`  parts  keygen + CSR signing                                            median ${b.toFixed(1)} ms`);
    console.log(
      `  (of ours: one ZTS register alone, TLS + the emulators' checks   median ${median(reg).toFixed(1)} ms)`,
    );
    console.log(`  ratio (ours/theirs) = ${(a / b).toFixed(2)}  target <= 1.2`);
  }
} finally {
  await Promise.all([zts.close(), agent.close(), aws.close()]);
}
