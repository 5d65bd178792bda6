/**
 * The demo: a whole Fargate task on the embedded emulators, through the SDK's public API only. It starts the testkit's
 * ECS agent, AWS, Consul and ZTS on 127.0.0.1, hands the task's environment to the packages (their `env` options;
 * process.env is left alone), then runs the six steps an application would.
 * @packageDocumentation
 */
import { createServer, request as httpsRequest, type RequestOptions, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import {
  accessTokenProvider,
  accessTokenScope,
  createZtsClient,
  describeCertificate,
  type KeyType,
  roleCertificateProvider,
  verifyAccessToken,
} from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { consulTokenProvider } from '@ecs-identity/consul-login';
import { IdentityError } from '@ecs-identity/core';
import { keepServerRotated, type RotatingAgent, rotatingAgent, tlsOptions } from '@ecs-identity/core/node';
import { containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';
import { type Fact, formatMs, type Output, Reporter, StepFailure } from './report.js';

/** The six steps, in order (the CI test looks for each one's ✔ line). */
export const STEPS = [
  'task identity',
  'consul login',
  'athenz register',
  'mTLS between service and client',
  'forced refresh, no restart',
  'shutdown',
] as const;

/** The Athenz role the service is a member of in the emulated domain: its role certificate and access token. */
const READER_ROLE = 'readers';

/** Which emulator `--fault` breaks. */
export const DEMO_FAULTS = ['agent', 'consul', 'zts'] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];

function injectFault(world: TaskEmulators, fault: DemoFault): void {
  if (fault === 'agent') world.agent.setFault({ match: 'credentials', status: 500 });
  if (fault === 'consul') world.consul.setFault({ match: '/v1/acl/login', status: 403, body: 'Permission denied' });
  if (fault === 'zts') {
    world.zts.setFault({
      match: { method: 'POST', path: '/instance' },
      status: 403,
      message: 'Instance attestation rejected (fault injected by the demo)',
    });
  }
}

/** @public */
export interface DemoOptions {
  /** Where the report goes. */
  out: Output;
  /** Colours and spinner. Default: when `out` is a TTY and NO_COLOR is unset. */
  color?: boolean;
  tty?: boolean;
  /** For NO_COLOR. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Key type of the service identity. Default `rsa` (RSA 2048, like siad). */
  keyType?: KeyType;
  /** Consul's replication lag, so the wait is visible. Default 250 ms. */
  consulReplicationLagMs?: number;
  /**
   * Break one emulator to see what a failure looks like: `agent` (the credentials endpoint answers 500: step 1),
   * `consul` (login answers 403 Permission denied: step 2), `zts` (register answers 403: step 3).
   */
  fault?: DemoFault;
  /**
   * Called with every secret value the run handles (AWS keys, tokens, SecretID, private key), so a test can check
   * that none of them was printed. Never used to print anything.
   */
  onSecret?: (secret: string) => void;
}

/** @public */
export interface DemoResult {
  ok: boolean;
  /** Per-step timings in ms. */
  steps: { step: number; title: string; ms: number; ok: boolean }[];
  totalMs: number;
  /** The failure, when `ok` is false. */
  failure?: StepFailure;
}

/** Node prints serials upper-case with leading zeros kept or dropped; @peculiar/x509 lower-case. Compare them as numbers. */
const sameSerial = (a: string, b: string): boolean =>
  a.replace(/:/g, '').toLowerCase().replace(/^0+/, '') === b.replace(/:/g, '').toLowerCase().replace(/^0+/, '');

function until(date: Date | undefined, now = Date.now()): string {
  if (!date) return 'does not expire';
  const ms = date.getTime() - now;
  const days = ms / 86_400_000;
  const left = days >= 1 ? `${days.toFixed(1)} days` : ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${ms} ms`;
  return `${date.toISOString().replace(/\.\d{3}Z$/, 'Z')}, in ${left}`;
}

interface Seen {
  status: number;
  body: { client?: string; serial?: string };
  /** The server certificate's serial, as this client saw it in the TLS handshake. */
  serverSerial: string;
}

/** One HTTPS request over a fresh connection (keep-alive off), returning what the client saw of the server cert. */
function call(options: RequestOptions): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ method: 'GET', timeout: 5_000, ...options }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate() as PeerCertificate;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            serverSerial: peer.serialNumber,
          });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new IdentityError('TIMEOUT', 'the HTTPS call to the demo service timed out')));
    req.on('error', reject);
    req.end();
  });
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Runs the demo and reports to `options.out`. Resolves with the outcome (never rejects for a failed step: the
 * failure is in the result, already printed).
 * @example
 * ```ts
 * const result = await runDemo({ out: process.stdout });
 * process.exitCode = result.ok ? 0 : 1;
 * ```
 * @public
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const r = new Reporter({
    out: options.out,
    ...(options.color === undefined ? {} : { color: options.color }),
    ...(options.tty === undefined ? {} : { tty: options.tty }),
    ...(options.env === undefined ? {} : { env: options.env }),
    titleWidth: Math.max(...STEPS.map((t) => t.length)),
  });
  const secret = (value: string | undefined): void => {
    if (value) options.onSecret?.(value);
  };
  const t0 = performance.now();
  // Everything that must be stopped, in reverse order of creation, whatever happens.
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Best effort: the step that failed has already been reported.
      }
    }
  };

  r.line(r.bold('ecs-identity demo: a Fargate task on embedded emulators'));
  let world: TaskEmulators;
  try {
    const started = performance.now();
    world = await startTaskEmulators({
      consulReplicationLagMs: options.consulReplicationLagMs ?? 250,
      athenzRoles: [READER_ROLE],
    });
    cleanups.push(() => world.close());
    if (options.fault) injectFault(world, options.fault);
    r.line(
      r.dim(
        `  emulators on 127.0.0.1 (${formatMs(performance.now() - started)}): ECS agent ${world.agent.url} · ` +
          `AWS ${world.aws.url} · Consul ${world.consul.url} · ZTS ${world.zts.url}`,
      ),
    );
  } catch (e) {
    const failure = new StepFailure(0, 'start emulators', String(e), { cause: e });
    r.line(`${r.red('✖')} could not start the emulators: ${failure.reason}`);
    return { ok: false, steps: r.times, totalMs: performance.now() - t0, failure };
  }
  const env = world.env;
  secret(env.AWS_CONTAINER_AUTHORIZATION_TOKEN);
  r.line(
    r.dim(
      `  task environment: ${Object.keys(env)
        .sort()
        .map((k) => (k === 'AWS_CONTAINER_AUTHORIZATION_TOKEN' ? `${k} (hidden)` : k))
        .join(', ')}`,
    ),
  );
  r.line();

  try {
    // 1. Who am I? Task metadata v4 and the task role's credentials from the ECS agent.
    const { task, credentials } = await r.step(1, STEPS[0], async () => {
      const task = await getTaskIdentity({ env });
      const credentials = containerCredentials({ env });
      cleanups.push(() => credentials.close());
      const aws = await credentials.get();
      secret(aws.secretAccessKey);
      secret(aws.sessionToken);
      return {
        value: { task, credentials },
        facts: [
          ['region', task.region],
          ['account', task.accountId],
          ['task id', task.taskId],
          ['cluster', task.clusterArn],
          ['launch type', task.launchType ?? 'unknown'],
          [
            'task role',
            `${aws.roleArn ?? '(not given)'} (access key ${aws.accessKeyId}, expires ${until(aws.expiresAt)})`,
          ],
        ] satisfies Fact[],
      };
    });

    // 2. Consul ACL login with the task role: aws-iam bearer token with entity details and the server ID.
    const consul = await r.step(2, STEPS[1], async () => {
      const provider = consulTokenProvider({
        env,
        task,
        credentials,
        authMethod: world.names.consulAuthMethod,
        aws: { serverIdHeaderValue: world.names.consulServerId, includeEntity: true },
      });
      cleanups.push(() => provider.close());
      const token = await provider.get();
      secret(token.secretId);
      // How long the replication wait took, from the emulator's request log (the SDK does not report it).
      const log = world.consul.requests;
      const login = log.find((q) => q.path === '/v1/acl/login' && q.accessorId === token.accessorId);
      const reads = log.filter((q) => q.path === '/v1/acl/token/self' && login !== undefined && q.at >= login.at);
      const ok = reads.find((q) => q.status === 200);
      const waited = login && ok ? `${ok.at - login.at} ms` : 'unknown';
      return {
        value: { provider, token },
        facts: [
          ['accessor id', token.accessorId],
          [
            'auth method',
            `${token.authMethod ?? world.names.consulAuthMethod} (server ID ${world.names.consulServerId})`,
          ],
          ['principal', login?.principalArn ?? '(not logged)'],
          ['service', token.serviceIdentities.map((s) => s.serviceName).join(', ') || '(none)'],
          ['meta', token.description ?? '(none)'],
          [
            'replication',
            `readable with ?stale after ${reads.length} self-read${reads.length === 1 ? '' : 's'}, ${waited} (lag ${options.consulReplicationLagMs ?? 250} ms)`,
          ],
        ] satisfies Fact[],
      };
    });

    // 3. Athenz: register the service identity (RSA 2048 key, STS attestation), then a role cert and an access token.
    const zts = createZtsClient({ url: world.zts.baseUrl, caBundle: world.zts.caPem });
    cleanups.push(() => zts.close());
    const athenz = await r.step(3, STEPS[2], async (progress) => {
      const identity = athenzIdentityProvider({
        zts,
        env,
        task,
        credentials,
        dnsSuffixes: [world.names.dnsSuffix],
        // Attestation's AssumeRole goes to the emulated STS (on a real task: the regional STS, the default).
        sts: { endpoint: world.aws.url },
        instance: { deleteOnClose: true },
        key: { type: options.keyType },
      });
      cleanups.push(() => identity.close());
      progress.start(
        `generating an ${options.keyType === 'ec' ? 'EC P-256' : 'RSA 2048'} key, attesting with STS, registering with ZTS`,
      );
      const id = await identity.get();
      progress.stop();
      secret(id.privateKeyPem);
      const roleName = `${world.names.athenzDomain}:role.${READER_ROLE}`;
      const roleCerts = roleCertificateProvider({ zts, identity, roles: [roleName] });
      cleanups.push(() => roleCerts.close());
      const roleCert = (await roleCerts.get()).certificates[roleName];
      if (!roleCert) throw new IdentityError('INVALID_RESPONSE', `no role certificate for ${roleName}`);
      const tokens = accessTokenProvider({
        zts,
        identity,
        scope: accessTokenScope({ domain: world.names.athenzDomain, roles: [READER_ROLE] }),
      });
      cleanups.push(() => tokens.close());
      const access = await tokens.get();
      secret(access.token);
      secret(access.idToken);
      // Verify it as a resource server would: signature against the ZTS JWKS, issuer, audience, expiry, and cnf
      // bound to our service certificate.
      const jwks = await zts.jwks();
      const claims = await verifyAccessToken(access.token, {
        jwks,
        issuer: world.zts.issuer,
        audience: world.names.athenzDomain,
        certificateDer: id.certificate.der,
      });
      const names = await describeCertificate(id.certificate);
      return {
        value: { identity, roleCerts, tokens, id, roleName, names },
        facts: [
          ['service', `${id.domain}.${id.service} via provider ${id.provider}`],
          ['spiffe id', id.spiffeId ?? '(none)'],
          ['instance id', id.instanceId],
          ['dns names', names.dnsNames.join(', ')],
          ['serial', id.serialNumber],
          ['expires', until(id.expiresAt)],
          ['role cert', `${roleCert.roleName} ${roleCert.spiffeId ?? ''} (expires ${until(roleCert.expiresAt)})`],
          [
            'access token',
            `verified against the JWKS (${jwks.keys.length} key${jwks.keys.length === 1 ? '' : 's'}): sub ${String(claims.sub)}, ` +
              `aud ${String(claims.aud)}, scope ${String((claims as { scope?: unknown }).scope ?? access.scope)}, ` +
              `bound to serial ${access.identitySerial}, expires ${until(access.expiresAt)}`,
          ],
        ] satisfies Fact[],
      };
    });

    // 4. An HTTPS server on the service certificate that requires client certificates, called with the role cert.
    const ca = world.zts.caPem;
    const mtls = await r.step(4, STEPS[3], async () => {
      // core's tlsOptions: the identity as Node's { key, cert, ca } (ca: the ZTS CA bundle the identity carries).
      const server = createServer(
        { ...tlsOptions(athenz.id), requestCert: true, rejectUnauthorized: true },
        (req, res) => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          const client = typeof peer.subject?.CN === 'string' ? peer.subject.CN : '';
          // Authorisation on the verified client certificate: only the readers role may call.
          const allowed = client === athenz.roleName;
          res.writeHead(allowed ? 200 : 403, { 'content-type': 'application/json' });
          res.end(JSON.stringify(allowed ? { client, serial: peer.serialNumber } : { error: 'forbidden', client }));
        },
      );
      // Each new identity installed with the same tlsOptions (keepServerRotated's default).
      const stopRotation = keepServerRotated(server, athenz.identity);
      cleanups.push(() => closeServer(server));
      cleanups.push(stopRotation);
      const address = await listen(server);
      // The client follows the role certificate; keep-alive off so each call makes a new TLS handshake.
      const agents: RotatingAgent = await rotatingAgent(athenz.roleCerts, {
        toTls: (set) => tlsOptions(set.certificates[athenz.roleName]!),
        ca,
        keepAlive: false,
      });
      cleanups.push(() => agents.close());
      // The server certificate names the service, not 127.0.0.1: verify it against its DNS name.
      const servername = athenz.names.dnsNames[0];
      if (!servername) throw new IdentityError('INVALID_RESPONSE', 'the service certificate has no DNS name');
      const target = { host: '127.0.0.1', port: address.port, path: '/whoami', servername };
      const seen = await call({ ...target, agent: agents.current() });
      if (seen.status !== 200 || seen.body.client !== athenz.roleName) {
        throw new IdentityError('INVALID_RESPONSE', `the service answered ${seen.status} ${JSON.stringify(seen.body)}`);
      }
      if (!sameSerial(seen.serverSerial, athenz.id.serialNumber)) {
        throw new IdentityError(
          'INVALID_RESPONSE',
          'the server presented a certificate other than the service identity',
        );
      }
      // And without a client certificate the handshake is refused.
      const refused = await call({ ...target, agent: false, ca }).then(
        (s) => `answered ${s.status} (expected a refusal)`,
        (e: unknown) => `refused (${(e as { code?: string }).code ?? (e as Error).message})`,
      );
      if (!refused.startsWith('refused')) {
        throw new IdentityError('INVALID_RESPONSE', `a call without a client certificate was ${refused}`);
      }
      return {
        value: { server, address, target, agents, before: seen.serverSerial, clientSerial: seen.body.serial ?? '?' },
        facts: [
          ['server', `https://${servername}:${address.port} on 127.0.0.1, requestCert + rejectUnauthorized, ZTS CA`],
          ['server cert', `serial ${seen.serverSerial} (the service identity, seen by the client over TLS)`],
          ['client cert', `${seen.body.client} (the role certificate), verified by the server`],
          ['no client cert', refused],
        ] satisfies Fact[],
      };
    });

    // 5. Force a refresh: the server installs the new certificate with setSecureContext, no restart.
    await r.step(5, STEPS[4], async () => {
      const fresh = await athenz.identity.get({ forceRefresh: true });
      if (sameSerial(fresh.serialNumber, athenz.id.serialNumber)) {
        throw new IdentityError('INVALID_RESPONSE', 'the forced refresh returned the same certificate');
      }
      // Role certificates are bound to the identity they were issued with; the provider re-issues them on rotation
      // (this waits for that), and the client's rotatingAgent switches to the new one.
      const roles = await athenz.roleCerts.get();
      const seen = await call({ ...mtls.target, agent: mtls.agents.current() });
      if (seen.status !== 200) throw new IdentityError('INVALID_RESPONSE', `the service answered ${seen.status}`);
      if (!sameSerial(seen.serverSerial, fresh.serialNumber)) {
        throw new IdentityError(
          'INVALID_RESPONSE',
          `the server still presents serial ${seen.serverSerial}, not the refreshed ${fresh.serialNumber}`,
        );
      }
      // The server saw the new role certificate too: the client's agent followed the role-cert provider.
      const newRoleSerial = roles.certificates[athenz.roleName]?.certificate.serialNumber ?? '';
      if (!sameSerial(seen.body.serial ?? '', newRoleSerial)) {
        throw new IdentityError(
          'INVALID_RESPONSE',
          'the client still presented the role certificate of the old identity',
        );
      }
      const address = mtls.server.address() as AddressInfo;
      const record = world.zts.records().find((x) => x.instanceId === fresh.instanceId);
      return {
        value: undefined,
        facts: [
          ['before', `serial ${mtls.before} (seen over TLS in step 4)`],
          ['after', `serial ${seen.serverSerial} (seen over TLS now; the provider says ${fresh.serialNumber})`],
          [
            'server',
            `same listener 127.0.0.1:${address.port} (${address.port === mtls.address.port ? 'not restarted' : 'MOVED'}), new handshakes get the new cert`,
          ],
          ['key', 'reused, as siad does (key.rotate: true for a new one)'],
          [
            'role cert',
            `re-issued for the new identity; the server saw it (client serial ${seen.body.serial ?? '?'}, ` +
              `was ${mtls.clientSerial})`,
          ],
          ['zts record', record ? `current ${record.currentSerial}, previous ${record.prevSerial}` : '(none)'],
        ] satisfies Fact[],
      };
    });

    // 6. Shutdown as on SIGTERM: stop serving, log the Consul token out, delete the ZTS instance record.
    await r.step(6, STEPS[5], async () => {
      const port = mtls.address.port;
      mtls.agents.close();
      await closeServer(mtls.server);
      await athenz.tokens.close();
      await athenz.roleCerts.close();
      await consul.provider.close(); // POST /v1/acl/logout
      await athenz.identity.close(); // DELETE /instance/... (instance.deleteOnClose)
      // Check both happened: the token no longer reads back, and ZTS has no record of the instance.
      const selfRead = await consul.provider.acl.readSelf(consul.token).then(
        () => 'still readable',
        (e: unknown) => (IdentityError.is(e) ? e.code : String(e)),
      );
      if (selfRead !== 'CONSUL_TOKEN_NOT_FOUND') {
        throw new IdentityError('INVALID_RESPONSE', `after logout, the token self-read gave ${selfRead}`);
      }
      const stillThere = world.consul.tokens().some((t) => t.accessorId === consul.token.accessorId);
      const record = world.zts.records().find((x) => x.instanceId === athenz.id.instanceId);
      const deleted = world.zts.requests().find((q) => q.method === 'DELETE' && q.path.includes(athenz.id.instanceId));
      if (stillThere || record || deleted?.status !== 204) {
        throw new IdentityError(
          'INVALID_RESPONSE',
          `shutdown incomplete: consul token ${stillThere ? 'still exists' : 'gone'}, zts record ${record ? 'still exists' : 'gone'}, delete answered ${deleted?.status ?? 'nothing'}`,
        );
      }
      return {
        value: undefined,
        facts: [
          ['https server', `closed (port ${port})`],
          ['consul', `token ${consul.token.accessorId} logged out (self-read now ${selfRead})`],
          ['zts', `instance ${athenz.id.instanceId} deleted (DELETE answered ${deleted.status}; no record left)`],
        ] satisfies Fact[],
      };
    });
  } catch (e) {
    await cleanup();
    const failure = e instanceof StepFailure ? e : new StepFailure(0, 'demo', String(e), { cause: e });
    return { ok: false, steps: r.times, totalMs: performance.now() - t0, failure };
  }
  await cleanup();
  const totalMs = performance.now() - t0;
  r.line();
  r.line(`${r.green('✔')} ${r.bold(`all ${STEPS.length} steps passed`)} ${r.dim(`in ${formatMs(totalMs)}`)}`);
  return { ok: true, steps: r.times, totalMs };
}
