/**
 * What the athenz commands do (loaded only when one runs: the ZTS client, x509 and jose take a while to load).
 * @packageDocumentation
 */
import {
  type AccessToken,
  accessTokenProvider,
  type RoleCertificateSet,
  roleCertificateProvider,
  type X509Identity,
} from '@ecs-identity/athenz-zts';
import { type AthenzIdentityOptions, athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { type CredentialProvider, IdentityError, type RefreshingProvider, staticProvider } from '@ecs-identity/core';
import { athenzRunPolicy } from './athenz-run-policy.js';
import { type AthenzSetup, athenzSetup, dnsSuffixes, identitySummary, savedIdentity } from './athenz-setup.js';
import type { CommandContext } from './command.js';
import { errorLine } from './error-line.js';
import { splitList, UsageError } from './flags.js';
import { type StopListener, superviseRun } from './long-running.js';
import { printLine } from './output.js';
import { expiryBackstop, onProviderEvent, type ProviderEvent } from './run-events.js';

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
  extra: Partial<AthenzIdentityOptions> & { rotateKey?: boolean },
): AthenzIdentityOptions {
  const { values } = ctx;
  const cnames = splitList(values['sandns-x509-cnames']);
  const expiry = values.expirytime as number;
  const { keyType, ...context } = setup.identity;
  const { rotateKey, ...rest } = extra;
  return {
    ...context,
    zts: setup.zts,
    dnsSuffixes: dnsSuffixes(values),
    csr: {
      wildcard: values['sandns-wildcard'] === true,
      extraDnsNames: cnames.length > 0 ? cnames : undefined,
      spiffe: setup.spiffe,
      expiryMinutes: expiry > 0 ? expiry : undefined,
    },
    key: { type: keyType, rotate: rotateKey },
    sink: setup.sink,
    refresh: { background: false },
    logger: ctx.logger,
    ...rest,
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
    sink: setup.sink,
    csr: { spiffe: setup.spiffe },
    logger: ctx.logger,
  });
}

function roleSummary(set: RoleCertificateSet, setup: AthenzSetup) {
  return Object.values(set.certificates).map((c) => ({
    role: c.roleName,
    serial: c.certificate.serialNumber,
    expiresAt: c.expiresAt.toISOString(),
    certFile: setup.sink.roleCertificatePath(c.roleName),
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
    expiresInSeconds: expiresIn > 0 ? expiresIn : undefined,
    verify: issuer ? { issuer } : undefined,
    sink: setup.sink,
    sinkName: name,
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
  return {
    scope: requested,
    grantedScope: token.scope,
    expiresAt: token.expiresAt.toISOString(),
    verified: opt(ctx.values, 'verify-issuer') !== undefined,
    tokenFile: setup.sink.accessTokenPath(domain, name),
  };
}

/** `athenz post`: always a new registration with a new key (siad -cmd post), saved in the siad layout. @internal */
export function post(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const id = await once(athenzIdentityProvider(identityOptions(ctx, setup, { instance: { start: 'register' } })));
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
    // The saved identity the provider refreshes (read and judged alike), for the "previousSerial" output.
    const previous = await savedIdentity(setup, Date.now());
    const id = await once(
      athenzIdentityProvider(
        identityOptions(ctx, setup, { instance: { start: 'refresh' }, rotateKey: ctx.values.rotatekey === true }),
      ),
    );
    const previousSerial = previous.serialNumber;
    printLine(ctx.io, { refreshed: true, previousSerial, ...identitySummary(id, setup) });
    return 0;
  });
}

/** `athenz rolecert`. @internal */
export function rolecert(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const roles = rolesOf(ctx);
    if (roles.length === 0) throw new UsageError('-roles is required (e.g. -roles sports:role.readers)');
    const identity = staticProvider(await savedIdentity(setup, Date.now()));
    const set = await once(roleCertProvider(ctx, setup, identity, roles));
    printLine(ctx.io, { roleCertificates: roleSummary(set, setup) });
    return 0;
  });
}

/** `athenz token`. @internal */
export function token(ctx: CommandContext): Promise<number> {
  return withSetup(ctx, async (setup) => {
    const identity = staticProvider(await savedIdentity(setup, Date.now()));
    const token = await once(tokenProvider(ctx, setup, identity));
    printLine(ctx.io, tokenSummary(token, ctx, setup));
    return 0;
  });
}

/**
 * `athenz run`: start-up (register or refresh, role certificates, token), then one line per event until a stop signal
 * (status 0 after the cleanup) or a fatal error (status 1: the failure policy of {@link onProviderEvent}, or the
 * certificate expired with no refresh). `stop` has listened since the command began.
 * @internal
 */
export async function runAgent(ctx: CommandContext, stop: StopListener): Promise<number> {
  const { io, values, logger } = ctx;
  const roles = rolesOf(ctx);
  const failCount = values['fail-count'] as number;
  let setup: AthenzSetup | undefined;
  let identity: RefreshingProvider<X509Identity> | undefined;
  let roleCerts: RefreshingProvider<RoleCertificateSet> | undefined;
  let token: RefreshingProvider<AccessToken> | undefined;
  let backstop: ReturnType<typeof expiryBackstop> | undefined;
  const { refresh, retry, exitBeforeExpiryMs: exitMargin } = athenzRunPolicy(values);
  const end = await superviseRun(stop, async ({ signal, fail }) => {
    const s = await athenzSetup(ctx, signal);
    setup = s;
    backstop = expiryBackstop('the service certificate', fail);
    let current: X509Identity | undefined;
    // Set for each certificate as it arrives (its default depends on the certificate's validity).
    let exitBeforeExpiryMs = 0;
    const onEvent = (event: ProviderEvent) => {
      const error = onProviderEvent(io, event, failCount, { exitBeforeExpiryMs });
      if (error) fail(error);
    };
    // The error behind each event (onError is called just before it) for the event's line.
    let lastError: unknown;
    identity = athenzIdentityProvider(
      identityOptions(ctx, s, {
        refresh,
        retry,
        rotateKey: values.rotatekey === true,
        onError: (error) => {
          lastError = error;
        },
        onEvent: (event) => {
          // Before the first certificate a failure ends start-up by itself (get() rejects).
          if (current === undefined) return;
          onEvent(event.type === 'refresh-failed' ? { ...event, error: lastError } : event);
        },
      }),
    );
    roleCerts = roles.length > 0 ? roleCertProvider(ctx, s, identity, roles) : undefined;
    token = opt(values, 'scope') ? tokenProvider(ctx, s, identity) : undefined;
    // Providers tell their subscribers of each new credential (the first one included) before get() resolves, so
    // every event is printed from here, once.
    identity.subscribe((id) => {
      printLine(io, { event: current === undefined ? 'identity' : 'refreshed', ...identitySummary(id, s) });
      current = id;
      exitBeforeExpiryMs = exitMargin(id.expiresAt.getTime() - Date.now());
      backstop?.set(id.expiresAt);
    });
    roleCerts?.subscribe((set) => printLine(io, { event: 'rolecerts', roleCertificates: roleSummary(set, s) }));
    token?.subscribe((t) => printLine(io, { event: 'token', ...tokenSummary(t, ctx, s) }));
    await identity.get({ signal });
    await Promise.all([roleCerts?.get({ signal }), token?.get({ signal })]);
  });
  // Cleanup before the status: the providers stop their timers and abort what is in flight.
  backstop?.clear();
  await Promise.allSettled([token?.close(), roleCerts?.close()]);
  await identity
    ?.close()
    .catch((e: unknown) => logger.warn(`closing the identity provider failed: ${errorLine([], e)}`));
  await setup?.close();
  if ('error' in end) throw end.error;
  logger.info(`received ${end.stopped}, stopped`);
  printLine(io, { event: 'stopped', signal: end.stopped });
  return 0;
}
