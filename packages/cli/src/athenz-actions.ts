/**
 * What the athenz commands do (loaded only when one runs: the ZTS client, x509 and jose take a while to load).
 * @packageDocumentation
 */
import { join } from 'node:path';
import {
  type AccessToken,
  type AthenzIdentityOptions,
  accessTokenProvider,
  athenzIdentityProvider,
  type IdentitySink,
  parseCertificate,
  type RoleCertificateSet,
  roleCertificateProvider,
  type StoredPair,
  siadFileSink,
  type X509Identity,
} from '@ecs-identity/athenz-zts/node';
import { type CredentialProvider, IdentityError, type RefreshingProvider } from '@ecs-identity/core';
import {
  type AthenzSetup,
  athenzSetup,
  dnsSuffixes,
  identitySummary,
  savedIdentity,
  staticIdentity,
  stsEndpointOf,
} from './athenz-setup.js';
import type { CommandContext } from './command.js';
import { errorLine } from './error-line.js';
import { splitList, UsageError } from './flags.js';
import { printLine } from './output.js';

function opt(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The roles from -roles, or from ATHENZ_SIA_ACCOUNT_ROLES (siad's JSON object keyed by role name). @internal */
export function rolesOf(ctx: CommandContext): string[] {
  if (ctx.sources.roles === 'env:ATHENZ_SIA_ACCOUNT_ROLES') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ctx.io.env.ATHENZ_SIA_ACCOUNT_ROLES ?? '');
    } catch {
      throw new IdentityError('INVALID_CONFIG', 'ATHENZ_SIA_ACCOUNT_ROLES is not JSON (an object keyed by role name)');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new IdentityError('INVALID_CONFIG', 'ATHENZ_SIA_ACCOUNT_ROLES must be a JSON object keyed by role name');
    }
    return Object.keys(parsed);
  }
  return splitList(ctx.values.roles);
}

/** The identity provider options siad's flags describe. */
function identityOptions(
  ctx: CommandContext,
  setup: AthenzSetup,
  sink: IdentitySink,
  extra: Partial<AthenzIdentityOptions>,
): AthenzIdentityOptions {
  const { values } = ctx;
  const cnames = splitList(values['sandns-x509-cnames']);
  const expiry = values.expirytime as number;
  return {
    zts: setup.zts,
    task: setup.task,
    credentials: setup.credentials,
    domain: setup.service.domain,
    service: setup.service.service,
    iamRoleArn: setup.service.attestationRoleArn,
    provider: setup.provider,
    dnsSuffixes: dnsSuffixes(values),
    wildcard: values['sandns-wildcard'] === true,
    ...(cnames.length > 0 ? { extraDnsNames: cnames } : {}),
    ...(setup.spiffe ? { spiffe: setup.spiffe } : {}),
    ...(expiry > 0 ? { expiryMinutes: expiry } : {}),
    stsEndpoint: stsEndpointOf(values, setup.task.partition),
    sink,
    ...(setup.caBundlePem ? { caBundlePem: setup.caBundlePem } : {}),
    refresh: { background: false },
    logger: ctx.logger,
    ...extra,
  };
}

async function withSetup(ctx: CommandContext, body: (setup: AthenzSetup) => Promise<number>): Promise<number> {
  const setup = await athenzSetup(ctx);
  try {
    return await body(setup);
  } finally {
    await setup.close();
  }
}

async function once<C extends { expiresAt?: Date }>(provider: CredentialProvider<C>): Promise<C> {
  try {
    return await provider.get();
  } finally {
    await provider.close();
  }
}

function roleCertProvider(
  ctx: CommandContext,
  setup: AthenzSetup,
  identity: CredentialProvider<X509Identity>,
  roles: string[],
): RefreshingProvider<RoleCertificateSet> {
  return roleCertificateProvider({
    zts: setup.zts,
    identity,
    roles,
    sink: siadFileSink(setup.sinkOptions),
    ...(setup.spiffe ? { spiffe: setup.spiffe } : {}),
    logger: ctx.logger,
  });
}

function roleSummary(set: RoleCertificateSet, setup: AthenzSetup) {
  const certDir = setup.sinkOptions.certDir ?? join(setup.sinkOptions.root ?? '/var/lib/sia', 'certs');
  return Object.values(set.certificates).map((c) => ({
    role: c.roleName,
    serial: c.certificate.serialNumber,
    expiresAt: c.expiresAt.toISOString(),
    certFile: join(certDir, `${c.roleName}.cert.pem`),
  }));
}

function tokenProvider(ctx: CommandContext, setup: AthenzSetup, identity: CredentialProvider<X509Identity>) {
  const scope = opt(ctx.values, 'scope');
  if (!scope) throw new UsageError('-scope is required (e.g. -scope sports:domain)');
  const issuer = opt(ctx.values, 'verify-issuer');
  const name = opt(ctx.values, 'token-name');
  const expiresIn = ctx.values['expires-in'] as number;
  return accessTokenProvider({
    zts: setup.zts,
    identity,
    scope,
    ...(expiresIn > 0 ? { expiresInSec: expiresIn } : {}),
    ...(issuer ? { verify: { issuer } } : {}),
    sink: siadFileSink(setup.sinkOptions),
    ...(name ? { sinkName: name } : {}),
    logger: ctx.logger,
  });
}

/** The printable facts of a token. The file is named after the requested scope (ZTS may answer a wider one). */
function tokenSummary(token: AccessToken, ctx: CommandContext, setup: AthenzSetup) {
  const requested = (opt(ctx.values, 'scope') ?? token.scope).trim();
  const domain =
    requested
      .split(/\s+/)
      .find((s) => s.includes(':'))
      ?.split(':')[0] ?? '';
  const name = opt(ctx.values, 'token-name') ?? requested.replace(/\s+/g, ',');
  const tokenDir = setup.sinkOptions.tokenDir ?? join(setup.sinkOptions.root ?? '/var/lib/sia', 'tokens');
  return {
    scope: requested,
    grantedScope: token.scope,
    expiresAt: token.expiresAt.toISOString(),
    verified: opt(ctx.values, 'verify-issuer') !== undefined,
    tokenFile: join(tokenDir, domain, name),
  };
}

/** `athenz post`: always a new registration with a new key (siad -cmd post), saved in the siad layout. @internal */
export function post(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const sink = siadFileSink(setup.sinkOptions);
    const id = await once(athenzIdentityProvider(identityOptions(ctx, setup, sink, { start: 'register' })));
    printLine(ctx.io, { registered: true, ...identitySummary(id, setup) });
    return 0;
  });
}

/**
 * `athenz rotate`: refreshes the saved identity (siad -cmd rotate); the provider fails when there is none to refresh
 * (`INVALID_CONFIG`) or it has expired (`EXPIRED`), and never registers instead.
 * @internal
 */
export function rotate(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const files = siadFileSink(setup.sinkOptions);
    // Only noted, for the "previousSerial" output: the pair the provider read and refreshed with.
    let saved: StoredPair | undefined;
    const sink: IdentitySink = {
      ...files,
      loadIdentity: async (domain, service) => {
        saved = await files.loadIdentity(domain, service);
        return saved;
      },
    };
    const id = await once(
      athenzIdentityProvider(
        identityOptions(ctx, setup, sink, { start: 'refresh', rotateKey: ctx.values.rotatekey === true }),
      ),
    );
    const previousSerial = saved ? parseCertificate(saved.certPem).serialNumber : undefined;
    printLine(ctx.io, { refreshed: true, previousSerial, ...identitySummary(id, setup) });
    return 0;
  });
}

/** `athenz rolecert`. @internal */
export function rolecert(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const roles = rolesOf(ctx);
    if (roles.length === 0) throw new UsageError('-roles is required (e.g. -roles sports:role.readers)');
    const identity = staticIdentity(await savedIdentity(setup, Date.now()));
    const set = await once(roleCertProvider(ctx, setup, identity, roles));
    printLine(ctx.io, { roleCertificates: roleSummary(set, setup) });
    return 0;
  });
}

/** `athenz token`. @internal */
export function token(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const identity = staticIdentity(await savedIdentity(setup, Date.now()));
    const token = await once(tokenProvider(ctx, setup, identity));
    printLine(ctx.io, tokenSummary(token, ctx, setup));
    return 0;
  });
}

/** `athenz run`. @internal */
export function runAgent(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const { io, values, logger } = ctx;
    const roles = rolesOf(ctx);
    const failLimit = values['fail-count'] as number;
    let failures = 0;
    let fail: (e: unknown) => void = () => {};
    const fatal = new Promise<unknown>((resolve) => {
      fail = resolve;
    });
    const onError = (e: unknown) => {
      failures++;
      logger.warn(`refresh failed (${failures} of ${failLimit}): ${errorLine([], e)}`);
      if (failures >= failLimit) fail(e);
    };
    const identity = athenzIdentityProvider(
      identityOptions(ctx, setup, siadFileSink(setup.sinkOptions), {
        refresh: { background: true, intervalMs: (values.refreshinterval as number) * 60_000 },
        rotateKey: values.rotatekey === true,
        onError,
      }),
    );
    const roleCerts = roles.length > 0 ? roleCertProvider(ctx, setup, identity, roles) : undefined;
    const token = opt(values, 'scope') ? tokenProvider(ctx, setup, identity) : undefined;
    // Listen for the stop signal from the start, so a SIGTERM during start-up ends the run cleanly too.
    const stopped = io.waitForStop().then((signal) => ({ signal }));
    try {
      // Providers tell their subscribers of each new credential (the first one included) before get() resolves, so
      // every event is printed from here, once.
      let identities = 0;
      identity.subscribe((id) => {
        failures = 0;
        printLine(io, { event: identities++ === 0 ? 'identity' : 'refreshed', ...identitySummary(id, setup) });
      });
      roleCerts?.subscribe((set) => printLine(io, { event: 'rolecerts', roleCertificates: roleSummary(set, setup) }));
      token?.subscribe((t) => printLine(io, { event: 'token', ...tokenSummary(t, ctx, setup) }));
      const startup = (async () => {
        await identity.get();
        await Promise.all([roleCerts?.get(), token?.get()]);
        return { started: true } as const;
      })();
      startup.catch(() => {}); // observed below; this only keeps a late failure after a stop from going unhandled
      const outcome = await Promise.race([startup, stopped]);
      const end = 'signal' in outcome ? outcome : await Promise.race([stopped, fatal.then((error) => ({ error }))]);
      if ('error' in end) throw end.error;
      logger.info(`received ${end.signal}, stopping`);
      printLine(io, { event: 'stopped', signal: end.signal });
      return 0;
    } finally {
      await Promise.allSettled([token?.close(), roleCerts?.close()]);
      await identity.close();
    }
  });
}
