/**
 * `ecs-identity athenz post | rotate | rolecert | token | run`: siad's commands on Fargate, with its files.
 * @packageDocumentation
 */

import { join } from 'node:path';
import {
  type AccessToken,
  type AthenzIdentityOptions,
  accessTokenProvider,
  athenzIdentityProvider,
  type IdentitySink,
  type RoleCertificateSet,
  roleCertificateProvider,
  siadFileSink,
  type X509Identity,
} from '@ecs-identity/athenz-zts/node';
import { type CredentialProvider, IdentityError, type RefreshingProvider } from '@ecs-identity/core';
import {
  ATHENZ_COMMON_FLAGS,
  ATHENZ_IDENTITY_FLAGS,
  type AthenzSetup,
  athenzSetup,
  dnsSuffixes,
  identitySummary,
  savedIdentity,
  staticIdentity,
  stsEndpointOf,
} from './athenz-setup.js';
import type { Command, CommandContext, CommandGroup } from './command.js';
import { errorLine } from './error-line.js';
import { type FlagSpecs, splitList, UsageError } from './flags.js';
import { printLine } from './output.js';

const ROLES_FLAG: FlagSpecs = {
  roles: {
    type: 'list',
    placeholder: 'LIST',
    aliases: ['role'],
    help: 'role certificates to get, <domain>:role.<role>, comma-separated (env: the keys of the JSON object)',
    env: ['ATHENZ_SIA_ACCOUNT_ROLES'],
  },
};

const TOKEN_FLAGS: FlagSpecs = {
  scope: {
    type: 'string',
    help: 'access token scope: <domain>:domain, or <domain>:role.<r> [...], plus "openid <domain>:service.<s>" for an id token',
  },
  'expires-in': {
    type: 'int',
    placeholder: 'SECONDS',
    help: 'requested token lifetime (0: the server default)',
    default: 0,
  },
  'token-name': {
    type: 'string',
    placeholder: 'NAME',
    help: 'file name under <tokendir>/<domain>/ (default: the scope with spaces as commas)',
  },
  'verify-issuer': {
    type: 'string',
    placeholder: 'ISS',
    help: "verify the token against ZTS's JWKS with this issuer (and its binding to our certificate)",
  },
};

function opt(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The roles from -roles, or from ATHENZ_SIA_ACCOUNT_ROLES (siad's JSON object keyed by role name). */
function rolesOf(ctx: CommandContext): string[] {
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
    backgroundRefresh: false,
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

/** @public */
export const athenzPostCommand: Command = {
  name: 'post',
  summary: 'register the task with ZTS and write a new key and service certificate (siad -cmd post)',
  description: `Registers this task as an instance of <domain>.<service> with ZTS (POST /instance): reads the task
metadata, assumes the <domain>.<service> IAM role with the task role for attestation, generates an RSA 2048 key and
a CSR, and writes the key (0400), certificate (0444) and CA chain in siad's layout:
  <keydir>/<domain>.<service>.key.pem, <certdir>/<domain>.<service>.cert.pem, <certdir>/ca.cert.pem
The service comes from -domain/-service, else ATHENZ_SIA_IAM_ROLE_ARN, else the task role <domain>.<service>-service.
On stdout: one JSON line with the principal, serial, SPIFFE id, expiry and file paths.`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...ATHENZ_IDENTITY_FLAGS },
  run: (ctx) =>
    withSetup(ctx, async (setup) => {
      const files = siadFileSink(setup.sinkOptions);
      // post always registers: the saved pair, if any, is not looked at (siad -cmd post does the same).
      const sink: IdentitySink = { ...files, loadIdentity: async () => undefined };
      const id = await once(athenzIdentityProvider(identityOptions(ctx, setup, sink, {})));
      printLine(ctx.io, { registered: true, ...identitySummary(id, setup) });
      return 0;
    }),
};

/** @public */
export const athenzRotateCommand: Command = {
  name: 'rotate',
  summary: 'refresh the service certificate over mTLS with the saved one (siad -cmd rotate)',
  description: `Refreshes the identity with ZTS (POST /instance/<provider>/<domain>/<service>/<task id>) over mTLS
with the key and certificate in siad's layout, with fresh attestation, and replaces them (the key is kept unless
-rotatekey). Fails when there is no saved certificate, or ZTS refuses (revoked, record gone): use post then.`,
  flags: {
    ...ATHENZ_COMMON_FLAGS,
    ...ATHENZ_IDENTITY_FLAGS,
    rotatekey: { type: 'bool', help: 'use a new key for the refreshed certificate', env: ['ATHENZ_SIA_ROTATE_KEY'] },
  },
  run: (ctx) =>
    withSetup(ctx, async (setup) => {
      // Fails clearly when there is nothing (valid) to refresh with, instead of registering anew.
      const before = await savedIdentity(setup, Date.now());
      const sink = siadFileSink(setup.sinkOptions);
      const id = await once(
        athenzIdentityProvider(
          identityOptions(ctx, setup, sink, { reRegister: false, rotateKey: ctx.values.rotatekey === true }),
        ),
      );
      if (id.serialNumber === before.serialNumber) {
        throw new IdentityError('ZTS_ERROR', 'the refresh returned the certificate we already had');
      }
      printLine(ctx.io, { refreshed: true, previousSerial: before.serialNumber, ...identitySummary(id, setup) });
      return 0;
    }),
};

async function writeRoleCerts(
  ctx: CommandContext,
  setup: AthenzSetup,
  identity: CredentialProvider<X509Identity>,
  roles: string[],
): Promise<{ provider: RefreshingProvider<RoleCertificateSet> }> {
  const provider = roleCertificateProvider({
    zts: setup.zts,
    identity,
    roles,
    sink: siadFileSink(setup.sinkOptions),
    ...(setup.spiffe ? { spiffe: setup.spiffe } : {}),
    logger: ctx.logger,
  });
  return { provider };
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

/** @public */
export const athenzRolecertCommand: Command = {
  name: 'rolecert',
  summary: 'get role certificates with the saved service certificate (siad -cmd rolecert)',
  description: `Gets a role certificate for each -roles entry (POST /rolecert over mTLS with the saved service key and
certificate; the role certificate certifies the same key) and writes <certdir>/<domain>:role.<role>.cert.pem (0444).`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...ROLES_FLAG },
  run: (ctx) =>
    withSetup(ctx, async (setup) => {
      const roles = rolesOf(ctx);
      if (roles.length === 0) throw new UsageError('-roles is required (e.g. -roles sports:role.readers)');
      const identity = staticIdentity(await savedIdentity(setup, Date.now()));
      const { provider } = await writeRoleCerts(ctx, setup, identity, roles);
      const set = await once(provider);
      printLine(ctx.io, { roleCertificates: roleSummary(set, setup) });
      return 0;
    }),
};

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

function tokenSummary(token: AccessToken, ctx: CommandContext, setup: AthenzSetup) {
  const domain =
    token.scope
      .split(/\s+/)
      .find((s) => s.includes(':'))
      ?.split(':')[0] ?? '';
  const name = opt(ctx.values, 'token-name') ?? token.scope.trim().replace(/\s+/g, ',');
  const tokenDir = setup.sinkOptions.tokenDir ?? join(setup.sinkOptions.root ?? '/var/lib/sia', 'tokens');
  return {
    scope: token.scope,
    expiresAt: token.expiresAt.toISOString(),
    verified: opt(ctx.values, 'verify-issuer') !== undefined,
    tokenFile: join(tokenDir, domain, name),
  };
}

/** @public */
export const athenzTokenCommand: Command = {
  name: 'token',
  summary: 'get an OAuth2 access token with the saved service certificate (siad -cmd token)',
  description: `Gets an access token for -scope (POST /oauth2/token over mTLS with the saved service certificate; the
token is bound to it) and writes it to <tokendir>/<domain>/<name> (0400). With -verify-issuer the token is checked
against ZTS's JWKS first. The token itself is never printed: stdout gets its scope, expiry and file.`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...TOKEN_FLAGS },
  run: (ctx) =>
    withSetup(ctx, async (setup) => {
      const identity = staticIdentity(await savedIdentity(setup, Date.now()));
      const token = await once(tokenProvider(ctx, setup, identity));
      printLine(ctx.io, tokenSummary(token, ctx, setup));
      return 0;
    }),
};

/** @public */
export const athenzRunCommand: Command = {
  name: 'run',
  summary: 'register or refresh, then keep refreshing until SIGTERM / SIGINT (siad without -cmd)',
  description: `The siad agent: refreshes the saved identity if siad's files hold a valid one (else registers), gets
the -roles certificates and the -scope token if asked, then refreshes every -refreshinterval minutes (never later
than half the certificate's lifetime) with fresh attestation, rewriting the files before each new certificate is
used. Stops on SIGTERM or SIGINT with status 0; exits 1 after -fail-count refreshes in a row have failed. Prints one
JSON line per new certificate.`,
  flags: {
    ...ATHENZ_COMMON_FLAGS,
    ...ATHENZ_IDENTITY_FLAGS,
    rotatekey: { type: 'bool', help: 'use a new key on every refresh', env: ['ATHENZ_SIA_ROTATE_KEY'] },
    refreshinterval: {
      type: 'int',
      min: 1,
      placeholder: 'MINUTES',
      help: 'refresh this long after each certificate was issued',
      env: ['ATHENZ_SIA_REFRESH_INTERVAL'],
      default: 1440,
    },
    'fail-count': {
      type: 'int',
      min: 1,
      help: 'exit after this many failed refreshes in a row',
      env: ['ATHENZ_SIA_FAIL_COUNT_FOR_EXIT'],
      default: 2,
    },
    ...ROLES_FLAG,
    ...TOKEN_FLAGS,
  },
  run: (ctx) =>
    withSetup(ctx, async (setup) => {
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
          backgroundRefresh: true,
          rotateKey: values.rotatekey === true,
          refreshIntervalMs: (values.refreshinterval as number) * 60_000,
          onError,
        }),
      );
      const roleCerts = roles.length > 0 ? (await writeRoleCerts(ctx, setup, identity, roles)).provider : undefined;
      const token = opt(values, 'scope') ? tokenProvider(ctx, setup, identity) : undefined;
      // Listen for the stop signal from the start, so a SIGTERM during start-up ends the run cleanly too.
      const stopped = io.waitForStop().then((signal) => ({ signal }));
      try {
        let first = true;
        identity.subscribe((id) => {
          failures = 0;
          if (!first) printLine(io, { event: 'refreshed', ...identitySummary(id, setup) });
        });
        roleCerts?.subscribe((set) => printLine(io, { event: 'rolecerts', roleCertificates: roleSummary(set, setup) }));
        const startup = (async () => {
          const id = await identity.get();
          first = false;
          printLine(io, { event: 'identity', ...identitySummary(id, setup) });
          await roleCerts?.get();
          if (token) printLine(io, { event: 'token', ...tokenSummary(await token.get(), ctx, setup) });
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
    }),
};

/** @public */
export const athenzGroup: CommandGroup = {
  name: 'athenz',
  summary: 'Athenz service identity like siad on Fargate: post, rotate, rolecert, token, run',
  description: `Athenz ZTS identity for an ECS / Fargate task, with siad's flags, ATHENZ_SIA_* variables and file
layout (/var/lib/sia/{keys,certs,tokens}, see -sia-dir, -keydir, -certdir, -tokendir).`,
  commands: [athenzPostCommand, athenzRotateCommand, athenzRolecertCommand, athenzTokenCommand, athenzRunCommand],
};
