/**
 * An HTTPS service on its Athenz service certificate, rotated in place: the athenz identity provider registers the
 * task with ZTS and refreshes the certificate ahead of expiry; core's `keepServerRotated` installs each new one with
 * `setSecureContext`, so the server never restarts. SIGHUP forces a refresh (to see it happen); SIGTERM / Ctrl-C stop.
 *
 * `pnpm exec tsx examples/https-server/main.ts [--emulators] [--port <n>]
 *   [--zts <url> --zts-ca-file <pem> --dns-domain <suffix>]`
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createZtsClient, describeCertificate } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { IdentityError } from '@ecs-identity/core';
import { keepServerRotated, tlsOptions } from '@ecs-identity/core/node';
import { taskEnvironment } from '../shared/environment.js';
import { lineLogger } from '../shared/line-logger.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const usage =
  'usage: tsx examples/https-server/main.ts [--emulators] [--port <n>] [--zts <url> --zts-ca-file <pem> --dns-domain <suffix>]';
function fail(message: string, status = 1): never {
  console.error(message);
  process.exit(status);
}

let values: {
  port?: string;
  zts?: string;
  'zts-ca-file'?: string;
  'dns-domain'?: string;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      zts: { type: 'string' },
      'zts-ca-file': { type: 'string' },
      'dns-domain': { type: 'string' },
      emulators: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  fail(`${(e as Error).message}\n${usage}`, 2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) fail(`--port must be 0..65535\n${usage}`, 2);

const task = await taskEnvironment(process.argv.slice(2));
const { env, world } = task;
// A fixed port in a task (the load balancer targets it); any free one on the emulators.
const port = Number(values.port ?? (world ? 0 : 8443));
if (port > 65535) fail(`--port must be 0..65535\n${usage}`, 2);
// On the emulators, ZTS and its CA are known; in a task, say where your ZTS is and which CA signed it.
const ztsUrl = values.zts ?? world?.zts.baseUrl;
const caPem = world ? world.zts.caPem : values['zts-ca-file'] && (await readFile(values['zts-ca-file'], 'utf8'));
const dnsDomain = values['dns-domain'] ?? world?.names.dnsSuffix;
if (!ztsUrl || !caPem || !dnsDomain) {
  await task.close();
  fail(`in an ECS task, --zts, --zts-ca-file and --dns-domain are required\n${usage}`, 2);
}

const zts = createZtsClient({ url: ztsUrl, caBundle: caPem });
const identity = athenzIdentityProvider({
  zts,
  env, // task metadata and task-role credentials from the ECS agent; ATHENZ_SIA_IAM_ROLE_ARN if set
  dnsSuffixes: [dnsDomain],
  logger: lineLogger((line) => console.log(line)),
  // On the emulators, attestation's AssumeRole goes to the fake STS; in a task, to the regional STS.
  sts: { endpoint: world?.aws.url },
  instance: { deleteOnClose: world !== undefined },
});

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await new Promise<void>((resolve) => {
    if (!server?.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await identity.close().catch(() => {});
  await zts.close();
  await task.close();
  if (caDir) await rm(caDir, { recursive: true, force: true });
  process.exit(code);
}

let server: ReturnType<typeof createServer> | undefined;
let caDir: string | undefined;
try {
  const first = await identity.get(); // registers: key generation, STS attestation, ZTS
  let current = first;
  let rotations = 0;
  // The identity as Node's TLS options ({ key, cert, ca }); keepServerRotated installs each new one the same way.
  server = createServer(tlsOptions(first), (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ service: `${current.domain}.${current.service}`, serial: current.serialNumber, rotations }),
    );
  });
  identity.subscribe((id) => {
    const before = current.serialNumber;
    current = id;
    rotations++;
    console.log(
      `certificate rotated in place: serial ${before} -> ${id.serialNumber}, expires ${id.expiresAt.toISOString()}`,
    );
  });
  keepServerRotated(server, identity, {
    onError: (e) => console.error(`could not install the new certificate (${e.code}); still serving the previous one`),
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(port, world ? '127.0.0.1' : '0.0.0.0', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  const host = (await describeCertificate(first.certificate)).dnsNames[0] ?? 'localhost';
  console.log(`serving https://${host}:${bound}/ as ${first.spiffeId ?? `${first.domain}.${first.service}`}`);
  console.log(`certificate serial ${first.serialNumber}, expires ${first.expiresAt.toISOString()}`);
  if (world) {
    caDir = await mkdtemp(join(tmpdir(), 'https-server-example-'));
    const caFile = join(caDir, 'zts-ca.pem');
    await writeFile(caFile, caPem);
    console.log(`try: curl --cacert ${caFile} --resolve ${host}:${bound}:127.0.0.1 https://${host}:${bound}/`);
  }
  console.log(`ready (pid ${process.pid}): kill -HUP ${process.pid} forces a refresh; SIGTERM or Ctrl-C stops`);
} catch (e) {
  console.error(`failed: ${IdentityError.is(e) ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`);
  await stop(1);
}

process.on('SIGHUP', () => {
  if (stopping) return;
  identity.get({ forceRefresh: true }).catch((e: unknown) => {
    console.error(`refresh failed: ${IdentityError.is(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
  });
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: stopping`);
    void stop(0);
  });
}
