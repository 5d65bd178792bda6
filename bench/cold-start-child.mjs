/**
 * The client side of `cold-start.bench.ts`: one cold start, and each part of its floor, against the emulators the
 * parent process runs. Plain JavaScript over the built packages (their `dist` through the package exports), run by
 * plain `node` with no TypeScript loader: a child process loads and runs exactly what an application that installed
 * the packages does. (Under tsx every module a process loads goes through the loader's hooks and the TypeScript
 * sources are compiled on first use, which is neither what users run nor equal for the two sides: a start loads
 * more modules than any one part of the floor.)
 *
 * The parent also imports `timedColdStart` for its in-process breakdown.
 */
import { buildServiceCsr, createZtsClient, generateKeyPair, stsAttestor } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';

const DNS_SUFFIX = 'aws.athenz.cloud';

/** What a child measures: a whole start, or one part of the floor. */
export const MEASURES = ['start', 'keygen+csr', 'attestation', 'register'];

/**
 * A stopwatch: its reading is the wall time since it started and the part of it the main thread was busy (not
 * waiting in the event loop for I/O, a timer or work on other threads: Node's event loop utilization), both in ms.
 */
function stopwatch() {
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  return () => ({ ms: performance.now() - t0, busy: performance.eventLoopUtilization(elu0).active });
}

/** One cold start: a provider with no state, from nothing to the first certificate. */
export async function timedColdStart(emu, keyType) {
  const read = stopwatch();
  // A new client per start too, so the TLS handshake to ZTS is part of it, as in a fresh process.
  const zts = createZtsClient({ url: emu.ztsUrl, caBundle: emu.caPem, keepAlive: false });
  const provider = athenzIdentityProvider({
    zts,
    env: emu.env,
    sts: { endpoint: emu.awsUrl },
    dnsSuffixes: [DNS_SUFFIX],
    key: { type: keyType },
    refresh: { background: false },
  });
  const id = await provider.get();
  const time = read();
  if (!id.certificatePem.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
  await provider.close();
  await zts.close();
  return time;
}

/** The service CSR a cold start sends, for `keys`. */
const serviceCsr = (emu, keys) =>
  buildServiceCsr({
    keys,
    domain: 'sports',
    service: 'api',
    provider: emu.provider,
    instanceId: emu.taskId,
    dnsSuffixes: [DNS_SUFFIX],
  });

/** The key branch of the floor: a new key pair and the signed CSR. */
async function keygenAndCsr(emu, keyType) {
  const read = stopwatch();
  await serviceCsr(emu, await generateKeyPair({ type: keyType }));
  return read();
}

/**
 * The network branch of the floor, as a cold start does it: task metadata and task-role credentials in parallel, then
 * an AssumeRole with a new STS client (loading `@aws-sdk/client-sts` on first use).
 */
async function attestation(emu) {
  const read = stopwatch();
  const credentials = containerCredentials({ env: emu.env, refresh: { background: false } });
  const [task] = await Promise.all([getTaskIdentity({ env: emu.env }), credentials.get()]);
  const attestor = stsAttestor({ region: task.region, credentials, stsEndpoint: emu.awsUrl });
  const data = await attestor.attest({
    domain: 'sports',
    service: 'api',
    taskId: task.taskId,
    roleArn: emu.serviceRoleArn,
  });
  const time = read();
  attestor.close();
  await credentials.close();
  return { time, data };
}

/**
 * The last step of the floor: one ZTS register alone (new TLS connection, the emulator checking the CSR, calling the
 * AWS emulator's GetCallerIdentity and signing), with the CSR and attestation made beforehand.
 */
async function registerAlone(emu, keys) {
  const csr = await serviceCsr(emu, keys);
  const { data: attestationData } = await attestation(emu);
  const zts = createZtsClient({ url: emu.ztsUrl, caBundle: emu.caPem, keepAlive: false });
  const read = stopwatch();
  await zts.register({ provider: emu.provider, domain: 'sports', service: 'api', attestationData, csr: csr.pem });
  const time = read();
  await zts.close();
  return time;
}

async function measure(emu, keyType, what) {
  switch (what) {
    case 'start':
      return timedColdStart(emu, keyType);
    case 'keygen+csr':
      return keygenAndCsr(emu, keyType);
    case 'attestation':
      return (await attestation(emu)).time;
    case 'register':
      return registerAlone(emu, await generateKeyPair({ type: keyType }));
    default:
      throw new Error(`unknown measure ${what}`);
  }
}

/**
 * The warm-process figures: after `warmup` rounds of everything (which load `@aws-sdk/client-sts` and bring every
 * path to V8's optimizing tier), rounds that alternate a cold start with the floor's parts, so drift on a shared
 * machine hits both sides alike. A register is measured every `registerEvery` rounds (each goes through a whole
 * attestation first).
 */
async function warmRounds(emu, keyType, { rounds, warmup, registerEvery }) {
  for (let w = 0; w < warmup; w++) for (const what of MEASURES) await measure(emu, keyType, what);
  const samples = { start: [], 'keygen+csr': [], attestation: [], register: [] };
  const parts = async () => {
    samples['keygen+csr'].push(await keygenAndCsr(emu, keyType));
    samples.attestation.push((await attestation(emu)).time);
  };
  const keys = await generateKeyPair({ type: keyType }); // not timed there: one pair serves every register
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      samples.start.push(await timedColdStart(emu, keyType));
      await parts();
    } else {
      await parts();
      samples.start.push(await timedColdStart(emu, keyType));
    }
    if (r % registerEvery === 0) samples.register.push(await registerAlone(emu, keys));
  }
  return samples;
}

const job = process.env.COLD_START_BENCH_CHILD;
if (job) {
  // A process of its own, so the client's work never waits for the emulators' (in production they are remote). Our
  // modules are loaded (as in an application), the AWS SDK is not yet.
  const { emu, keyType, what, warm } = JSON.parse(job);
  const result = what === 'warm' ? await warmRounds(emu, keyType, warm) : await measure(emu, keyType, what);
  console.log(`cold-start-child ${JSON.stringify(result)}`);
  process.exit(0);
}
