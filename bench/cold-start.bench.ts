/**
 * Cold start to the first service certificate: a fresh `athenzIdentityProvider` (no saved files) doing everything
 * a task does at start (task metadata and task-role credentials from the testkit ECS agent, `sts:AssumeRole` against
 * the testkit AWS, `POST /instance` to the testkit ZTS over a new HTTPS connection, which checks the CSR and the
 * attestation), against its critical-path floor measured in the same run:
 *
 *   floor = max(keygen + CSR, metadata + credentials + AssumeRole) + one ZTS register
 *
 * The two branches are independent (the key is made while the network calls run); the register needs both. No
 * client can beat that floor against these emulators. It is generous to the client: the floor's branches overlap
 * fully, while in one Node process their CPU work (the CSR's ASN.1, the SDK's set-up and signing) shares one thread,
 * and a real start can build the CSR only once the task metadata has named the task (its id is in the CSR). With
 * P-256, where both branches are mostly CPU on the loopback emulators, that is what separates a start from the floor.
 *
 * - The emulators start before anything is timed; they run in this process (their work is on the same thread).
 * - The client runs in child processes, the emulators in this one, so the client's work never waits behind the
 *   emulators' on one thread (in production they are remote).
 * - Warm process: the first cold start of a process also loads `@aws-sdk/client-sts` and compiles the code paths;
 *   the warm ratio is over starts after a warm-up in one child, in rounds that alternate the start and the floor's
 *   parts.
 * - Fresh process: each figure from new Node processes, one measurement each (a start, or one part of the floor with
 *   what it loads on first use: the STS client for the AssumeRole branch).
 * - Medians over rounds (RSA key generation varies a lot between runs).
 * - Then a breakdown of one cold start (median of instrumented runs, kept apart from the timed rounds), from Node's
 *   HTTP diagnostics channels: client and server side of each request, TLS handshake, what runs in between.
 *
 *   node --import tsx bench/cold-start.bench.ts     (from the repo root; BENCH_ROUNDS, default 31 for RSA and 15
 *                                                  for P-256; BENCH_BREAKDOWN_RUNS, default 9; BENCH_PROCESSES,
 *                                                  default 9 for RSA and 5 for P-256)
 */
import { spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buildServiceCsr, createZtsClient, generateKeyPair, type KeyType, stsAttestor } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';
import { startTaskEmulators } from '@ecs-identity/testkit';

// RSA key generation times vary widely (a random prime search), so the RSA medians need more rounds to settle.
const ROUNDS: Record<KeyType, number> = {
  rsa: Number(process.env.BENCH_ROUNDS ?? 31),
  ec: Number(process.env.BENCH_ROUNDS ?? 15),
};
const BREAKDOWN_RUNS = Number(process.env.BENCH_BREAKDOWN_RUNS ?? 9);
// Fresh processes per measurement; RSA key generation varies so much that its medians need more.
const PROCESSES: Record<KeyType, number> = {
  rsa: Number(process.env.BENCH_PROCESSES ?? 9),
  ec: Number(process.env.BENCH_PROCESSES ?? 5),
};
/** Set in the fresh processes of the cold-process figures: the emulators' addresses. */
const CHILD = process.env.COLD_START_BENCH_CHILD;
const TARGET_WARM = 1.1;
const TARGET_FRESH = 1.3;
const DNS_SUFFIX = 'aws.athenz.cloud';

/** Where the emulators are and the names they know (handed to the fresh processes as JSON). */
interface Emulated {
  env: Readonly<Record<string, string>>;
  awsUrl: string;
  ztsUrl: string;
  caPem: string;
  region: string;
  taskId: string;
  serviceRoleArn: string;
  provider: string;
}

/** What one process measures: a whole start, or one part of the floor. */
type Measure = 'start' | 'keygen+csr' | 'attestation' | 'register';
const MEASURES: readonly Measure[] = ['start', 'keygen+csr', 'attestation', 'register'];

/** One cold start: a provider with no state, from nothing to the first certificate (ms). */
async function timedColdStart(emu: Emulated, keyType: KeyType): Promise<number> {
  const t0 = performance.now();
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
  const ms = performance.now() - t0;
  if (!id.certificatePem.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
  await provider.close();
  await zts.close();
  return ms;
}

/** The service CSR a cold start sends, for `keys`. */
const serviceCsr = (emu: Emulated, keys: CryptoKeyPair) =>
  buildServiceCsr({
    keys,
    domain: 'sports',
    service: 'api',
    provider: emu.provider,
    instanceId: emu.taskId,
    dnsSuffixes: [DNS_SUFFIX],
  });

/** The key branch of the floor: a new key pair and the signed CSR (ms). */
async function keygenAndCsr(emu: Emulated, keyType: KeyType): Promise<number> {
  const t0 = performance.now();
  await serviceCsr(emu, await generateKeyPair({ type: keyType }));
  return performance.now() - t0;
}

/**
 * The network branch of the floor, as a cold start does it: task metadata and task-role credentials in parallel, then
 * an AssumeRole with a new STS client (loading `@aws-sdk/client-sts` on first use) (ms).
 */
async function attestation(emu: Emulated): Promise<{ ms: number; data: string }> {
  const t0 = performance.now();
  const credentials = containerCredentials({ env: emu.env, refresh: { background: false } });
  const [task] = await Promise.all([getTaskIdentity({ env: emu.env }), credentials.get()]);
  const attestor = stsAttestor({ region: task.region, credentials, stsEndpoint: emu.awsUrl });
  const data = await attestor.attest({
    domain: 'sports',
    service: 'api',
    taskId: task.taskId,
    roleArn: emu.serviceRoleArn,
  });
  const ms = performance.now() - t0;
  attestor.close();
  await credentials.close();
  return { ms, data };
}

/**
 * The last step of the floor: one ZTS register alone (new TLS connection, the emulator checking the CSR, calling the
 * AWS emulator's GetCallerIdentity and signing), with the CSR and attestation made beforehand (ms).
 */
async function registerAlone(emu: Emulated, keys: CryptoKeyPair): Promise<number> {
  const csr = await serviceCsr(emu, keys);
  const { data: attestationData } = await attestation(emu);
  const zts = createZtsClient({ url: emu.ztsUrl, caBundle: emu.caPem, keepAlive: false });
  const t0 = performance.now();
  await zts.register({
    provider: emu.provider,
    domain: 'sports',
    service: 'api',
    attestationData,
    csr: csr.pem,
  });
  const ms = performance.now() - t0;
  await zts.close();
  return ms;
}

async function measure(emu: Emulated, keyType: KeyType, what: Measure): Promise<number> {
  switch (what) {
    case 'start':
      return timedColdStart(emu, keyType);
    case 'keygen+csr':
      return keygenAndCsr(emu, keyType);
    case 'attestation':
      return (await attestation(emu)).ms;
    case 'register':
      return registerAlone(emu, await generateKeyPair({ type: keyType }));
  }
}

type Samples = Record<Measure, number[]>;

/**
 * The warm-process figures: after a warm-up (which loads `@aws-sdk/client-sts` and compiles every path), rounds that
 * alternate a cold start with the floor's parts, so drift on a shared machine hits both sides alike.
 */
async function warmRounds(emu: Emulated, keyType: KeyType, rounds: number): Promise<Samples> {
  for (const what of MEASURES) await measure(emu, keyType, what); // warm-up
  const samples: Samples = { start: [], 'keygen+csr': [], attestation: [], register: [] };
  const parts = async () => {
    samples['keygen+csr'].push(await keygenAndCsr(emu, keyType));
    samples.attestation.push((await attestation(emu)).ms);
  };
  const keys = await generateKeyPair({ type: keyType }); // not timed there: one pair serves every register
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      samples.start.push(await timedColdStart(emu, keyType));
      await parts();
      // fewer registers than rounds: each one goes through a whole attestation first
      samples.register.push(await registerAlone(emu, keys));
    } else {
      await parts();
      samples.start.push(await timedColdStart(emu, keyType));
    }
  }
  return samples;
}

if (CHILD) {
  // A process of its own, so the client's work never waits for the emulators' (in production they are remote). Our
  // modules are loaded (as in an application), the AWS SDK is not yet.
  const emu = JSON.parse(CHILD) as Emulated;
  const keyType = process.argv[2] as KeyType;
  const what = process.argv[3] as Measure | 'warm';
  const result = what === 'warm' ? await warmRounds(emu, keyType, ROUNDS[keyType]) : await measure(emu, keyType, what);
  console.log(`cold-start-child ${JSON.stringify(result)}`);
  process.exit(0);
}

// The task role sports.api-service, the role sports.api it assumes, the agent on credentials the fake AWS issued,
// the ZTS with the domain sports and its service api (no Consul: a cold start here is Athenz only).
const world = await startTaskEmulators({ consul: false, rolePath: '/', dnsSuffix: DNS_SUFFIX, athenzRoles: [] });
const { aws, agent, zts, serviceRole, athenzProvider } = world;

const emulated: Emulated = {
  env: agent.env,
  awsUrl: aws.url,
  ztsUrl: zts.baseUrl,
  caPem: zts.caPem,
  region: aws.region,
  taskId: agent.taskId,
  serviceRoleArn: serviceRole.arn,
  provider: athenzProvider,
};

/** One cold start in this process. */
const coldStart = (keyType: KeyType) => timedColdStart(emulated, keyType);

/** A child Node process (same loader as this one) measuring against this process's emulators. */
function child<T>(keyType: KeyType, what: Measure | 'warm'): Promise<T> {
  const emu = JSON.stringify(emulated);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, keyType, what], {
      env: { ...process.env, COLD_START_BENCH_CHILD: emu },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const m = /cold-start-child (.+)/.exec(out);
      if (code === 0 && m) resolve(JSON.parse(m[1] as string) as T);
      else reject(new Error(`cold-start child (${what}) failed (exit ${code})`));
    });
  });
}

// ---- breakdown: HTTP diagnostics channels, on only during the instrumented runs ----

interface Exchange {
  what: string;
  start: number;
  tls?: number;
  end?: number;
}
interface Served {
  what: string;
  start: number;
  end?: number;
}
let probe: { t0: number; client: Exchange[]; server: Served[] } | undefined;
const now = () => performance.now() - (probe?.t0 ?? 0);
/** What a request is, from its method and path (the emulators' paths do not overlap). */
const label = (method: string | undefined, path: string | undefined) => {
  if (path?.startsWith('/zts/v1/instance')) return 'zts register';
  if (path?.startsWith('/v2/credentials')) return 'credentials';
  if (method === 'GET') return 'metadata';
  return 'aws';
};
dc.subscribe('http.client.request.start', (m) => {
  if (!probe) return;
  const req = (m as { request: ClientRequest }).request;
  const ex: Exchange = { what: label(req.method, req.path), start: now() };
  probe.client.push(ex);
  // The socket is already assigned when the channel fires; a new TLS one is still connecting.
  const socket = req.socket as (Socket & { encrypted?: boolean }) | null;
  if (socket?.encrypted && socket.connecting) socket.once('secureConnect', () => (ex.tls = now()));
  req.once('response', (res: IncomingMessage) => res.once('end', () => (ex.end = now())));
});
dc.subscribe('http.server.request.start', (m) => {
  if (!probe) return;
  const { request, response } = m as { request: IncomingMessage; response: ServerResponse };
  const sv: Served = { what: label(request.method, request.url), start: now() };
  probe.server.push(sv);
  response.once('finish', () => (sv.end = now()));
});

type Segments = Record<string, number>;

/** One instrumented cold start, cut into segments (ms). */
async function tracedColdStart(keyType: KeyType): Promise<Segments> {
  probe = { t0: performance.now(), client: [], server: [] };
  const total = await coldStart(keyType);
  const { client, server } = probe;
  probe = undefined;
  const one = <T extends { what: string }>(xs: T[], what: string, i = 0): T => {
    const x = xs.filter((e) => e.what === what)[i];
    if (!x) throw new Error(`breakdown: no ${what} request seen`);
    return x;
  };
  const metadata = one(client, 'metadata');
  const creds = one(client, 'credentials');
  const sts = one(client, 'aws');
  const stsServed = one(server, 'aws', 0);
  const reg = one(client, 'zts register');
  const regServed = one(server, 'zts register');
  const gci = one(server, 'aws', 1); // the emulator's GetCallerIdentity, inside the register
  const ctxReady = Math.max(metadata.end ?? 0, creds.end ?? 0);
  const e = (x: { end?: number }) => x.end ?? Number.NaN;
  return {
    total,
    'provider set-up until the first request': Math.min(metadata.start, creds.start),
    'task metadata GET (parallel with credentials)': e(metadata) - metadata.start,
    'task-role credentials GET': e(creds) - creds.start,
    'metadata+credentials, wall': ctxReady - Math.min(metadata.start, creds.start),
    'attestation: STS client, SigV4 until the request': sts.start - ctxReady,
    'AssumeRole round trip': e(sts) - sts.start,
    '  of which the AWS emulator': e(stsServed) - stsServed.start,
    'attestation JSON, wait for the CSR': reg.start - e(sts),
    'ZTS register round trip': e(reg) - reg.start,
    '  TCP + TLS handshake': (reg.tls ?? Number.NaN) - reg.start,
    '  the ZTS emulator (CSR checks, attestation, signing)': e(regServed) - regServed.start,
    '    of which GetCallerIdentity at the AWS emulator': e(gci) - gci.start,
    'after the certificate: checks, identity': total - e(reg),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;

const nameOf = (keyType: KeyType) => (keyType === 'rsa' ? 'RSA 2048' : 'ECDSA P-256');

function verdictOf(ratio: number, target: number): string {
  return ratio <= target
    ? `target met (${ratio.toFixed(2)} <= ${target})`
    : `target NOT met (${ratio.toFixed(2)} > ${target})`;
}

/** The floor from the medians of its parts, and the line that shows them. */
function floorOf(parts: Samples): { floor: number; text: string } {
  const key = median(parts['keygen+csr']);
  const net = median(parts.attestation);
  const reg = median(parts.register);
  return {
    floor: Math.max(key, net) + reg,
    text: `max(keygen + CSR ${ms(key)}, metadata + credentials + AssumeRole ${ms(net)}) + register ${ms(reg)}`,
  };
}

try {
  const summary: string[] = [];
  for (const keyType of ['rsa', 'ec'] as const) {
    // Fresh processes: the measures interleaved, so drift hits them alike.
    const fresh: Samples = { start: [], 'keygen+csr': [], attestation: [], register: [] };
    for (let r = 0; r < PROCESSES[keyType]; r++) {
      for (const what of MEASURES) fresh[what].push(await child<number>(keyType, what));
    }
    const { floor, text } = floorOf(fresh);
    const ours = median(fresh.start);
    const ratio = ours / floor;
    console.log(
      `cold-start ${nameOf(keyType)} (fresh process: a new Node process per measurement, loading what it uses on first use, @aws-sdk/client-sts included): medians of ${PROCESSES[keyType]}`,
    );
    console.log(`  ours   a cold start                                     ${ms(ours)}`);
    console.log(`  floor  ${text} = ${ms(floor)}`);
    console.log(
      `  ratio (ours/floor) = ${ratio.toFixed(2)}  target <= ${TARGET_FRESH}  ${verdictOf(ratio, TARGET_FRESH)}`,
    );
    summary.push(`${nameOf(keyType)}, fresh process: ${verdictOf(ratio, TARGET_FRESH)}`);
  }
  // warm-up of this process, for the breakdown: loads @aws-sdk/client-sts here and compiles both paths
  await coldStart('ec');
  await coldStart('rsa');
  for (const keyType of ['rsa', 'ec'] as const) {
    const name = nameOf(keyType);
    const samples = await child<Samples>(keyType, 'warm');
    const traces: Segments[] = [];
    for (let r = 0; r < BREAKDOWN_RUNS; r++) traces.push(await tracedColdStart(keyType));

    const a = median(samples.start);
    const { floor, text } = floorOf(samples);
    const ratio = a / floor;
    console.log(`cold-start ${name} (warm process, a child of its own): ${ROUNDS[keyType]} rounds`);
    console.log(`  ours   metadata + credentials + AssumeRole + keygen + CSR + ZTS register   median ${ms(a)}`);
    console.log(`  floor  ${text} = ${ms(floor)}`);
    console.log(
      `  breakdown of one cold start (median of ${BREAKDOWN_RUNS} instrumented runs in this process, beside the ` +
        'emulators; parallel steps overlap):',
    );
    for (const key of Object.keys(traces[0] ?? {})) {
      console.log(`    ${key.padEnd(58)} ${ms(median(traces.map((t) => t[key] as number))).padStart(9)}`);
    }
    console.log(
      `  ratio (ours/floor) = ${ratio.toFixed(2)}  target <= ${TARGET_WARM}  ${verdictOf(ratio, TARGET_WARM)}`,
    );
    summary.push(`${name}, warm process: ${verdictOf(ratio, TARGET_WARM)}`);
  }
  console.log('cold-start summary (ratio to max(keygen + CSR, metadata + credentials + AssumeRole) + one register):');
  for (const line of summary) console.log(`  ${line}`);
} finally {
  probe = undefined;
  await world.close();
}
