/**
 * `ecs-identity athenz post | rotate | rolecert | token | run`: siad's commands on Fargate, with its files.
 * @packageDocumentation
 */
import { ATHENZ_COMMON_FLAGS, ATHENZ_IDENTITY_FLAGS, ROLES_FLAG, TOKEN_FLAGS } from './athenz-flags.js';
import type { Command, CommandGroup } from './command.js';
import { withStopListener } from './long-running.js';
import { RUN_LOG_LEVEL_FLAG } from './shared-flags.js';

const actions = () => import('./athenz-actions.js');

/** @public */
export const athenzPostCommand: Command = {
  name: 'post',
  summary: 'register the task with ZTS and write a new key and service certificate (siad -cmd post)',
  description: `Registers this task as an instance of <domain>.<service> with ZTS (POST /instance): reads the task
metadata, assumes the <domain>.<service> IAM role (-role-path, -omit-domain) with the task role for attestation,
generates a key (RSA 2048; ECDSA P-256 with -key-type ec) and a CSR, and writes the key (0400), certificate (0444)
and CA chain in siad's layout:
  <keydir>/<domain>.<service>.key.pem, <certdir>/<domain>.<service>.cert.pem, <certdir>/ca.cert.pem
The service comes from -domain/-service, else ATHENZ_SIA_IAM_ROLE_ARN, else the task role <domain>.<service>-service.
On stdout: one JSON line with the principal, serial, SPIFFE id, expiry and file paths.`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...ATHENZ_IDENTITY_FLAGS },
  run: async (ctx) => (await actions()).post(ctx),
};

/** @public */
export const athenzRotateCommand: Command = {
  name: 'rotate',
  summary: 'refresh the service certificate over mTLS with the saved one (siad -cmd rotate)',
  description: `Refreshes the identity with ZTS (POST /instance/<provider>/<domain>/<service>/<task id>) over mTLS
with the key and certificate in siad's layout, with fresh attestation, and replaces them (the key is kept unless
-rotatekey). Fails when there is no saved certificate (INVALID_CONFIG), it has expired (EXPIRED), or ZTS refuses
(revoked, record gone): use post then.`,
  flags: {
    ...ATHENZ_COMMON_FLAGS,
    ...ATHENZ_IDENTITY_FLAGS,
    rotatekey: { type: 'bool', help: 'use a new key for the refreshed certificate', env: ['ATHENZ_SIA_ROTATE_KEY'] },
  },
  run: async (ctx) => (await actions()).rotate(ctx),
};

/** @public */
export const athenzRolecertCommand: Command = {
  name: 'rolecert',
  summary: 'get role certificates with the saved service certificate (siad -cmd rolecert)',
  description: `Gets a role certificate for each -roles entry (POST /rolecert over mTLS with the saved service key and
certificate; the role certificate certifies the same key) and writes <certdir>/<domain>:role.<role>.cert.pem (0444).`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...ROLES_FLAG },
  run: async (ctx) => (await actions()).rolecert(ctx),
};

/** @public */
export const athenzTokenCommand: Command = {
  name: 'token',
  summary: 'get an OAuth2 access token with the saved service certificate (siad -cmd token)',
  description: `Gets an access token for -scope (POST /oauth2/token over mTLS with the saved service certificate; the
token is bound to it) and writes it to <tokendir>/<domain>/<name> (0400). With -verify-issuer the token is checked
against ZTS's JWKS first. The token itself is never printed: stdout gets its scope, expiry and file.`,
  flags: { ...ATHENZ_COMMON_FLAGS, ...TOKEN_FLAGS },
  run: async (ctx) => (await actions()).token(ctx),
};

/** @public */
export const athenzRunCommand: Command = {
  name: 'run',
  summary: 'register or refresh, then keep refreshing until SIGTERM / SIGINT (siad without -cmd)',
  description: `The siad agent: refreshes the saved identity if siad's files hold a valid one (else registers), gets
the -roles certificates and the -scope token if asked, then refreshes at a random point of the second half of each
-refreshinterval (never later than half the certificate's lifetime, so a fleet does not refresh in step) with fresh
attestation, rewriting the files before each new certificate is used. A ZTS outage is ridden out on the certificate in
hand: a failed refresh is tried again after a random backoff (within 6 h, then 12 h, 24 h with the daily default;
a quarter of -refreshinterval doubling up to all of it when shorter; never more than a quarter of the validity left).
The run ends (status 1) when refreshes have failed in -fail-count refresh cycles (intervals) in a row, as siad's
fail_count_for_exit, or when after a failure the next attempt would come less than -exit-before-expiry before the
certificate expires, so that ECS starts a replacement task while the certificate is still valid. Prints one JSON line per event: identity, refreshed, rolecerts, token,
refresh-failed (with its attempt: the refresh cycle, not the backoff retry), expiring (validity under
-warn-before-expiry), stopped.`,
  exitStatus: `Exit status (each failure also names its cause on one stderr line):
  0  stopped by SIGTERM / SIGINT (also during start-up), after closing the providers
  1  start-up failed (no certificate); or refreshes failed in -fail-count refresh cycles in a row; or after a failed
     refresh the next attempt would come within -exit-before-expiry of the certificate's expiry
     (EXPIRES_BEFORE_NEXT_ATTEMPT), or it expired (EXPIRED), with no refresh succeeding
  2  usage error`,
  flags: {
    ...ATHENZ_COMMON_FLAGS,
    ...ATHENZ_IDENTITY_FLAGS,
    rotatekey: { type: 'bool', help: 'use a new key on every refresh', env: ['ATHENZ_SIA_ROTATE_KEY'] },
    refreshinterval: {
      type: 'number',
      min: 0.01,
      placeholder: 'MINUTES',
      help: 'refresh at the latest this long after each certificate was issued (decimals allowed: 0.5 is 30 s)',
      env: ['ATHENZ_SIA_REFRESH_INTERVAL'],
      default: 1440,
    },
    'fail-count': {
      type: 'int',
      min: 1,
      help: 'exit after refreshes failed in this many refresh cycles (-refreshinterval) in a row; retries within a cycle do not count',
      env: ['ATHENZ_SIA_FAIL_COUNT_FOR_EXIT'],
      default: 2,
    },
    'exit-before-expiry': {
      type: 'number',
      placeholder: 'MINUTES',
      help:
        "exit after a failed refresh when the next attempt would come less than this long before the certificate's " +
        'expiry (default: -refreshinterval, at most 15% of the lifetime; 0: only if it would come after the expiry)',
    },
    'warn-before-expiry': {
      type: 'number',
      placeholder: 'MINUTES',
      help:
        "print an expiring line once a certificate's validity left falls under this (default: half the validity " +
        'left at its latest refresh point, 3 days for a 7-day certificate refreshed daily)',
    },
    ...ROLES_FLAG,
    ...TOKEN_FLAGS,
    ...RUN_LOG_LEVEL_FLAG,
  },
  // Listens for the stop signal before loading the actions, so a SIGTERM at any moment of start-up ends it cleanly.
  run: (ctx) => withStopListener(ctx.io, async (stop) => (await actions()).runAgent(ctx, stop)),
};

/** @public */
export const athenzGroup: CommandGroup = {
  name: 'athenz',
  summary: 'Athenz service identity like siad on Fargate: post, rotate, rolecert, token, run',
  description: `Athenz ZTS identity for an ECS / Fargate task, with siad's flags, ATHENZ_SIA_* variables and file
layout (/var/lib/sia/{keys,certs,tokens}, see -sia-dir, -keydir, -certdir, -tokendir).`,
  commands: [athenzPostCommand, athenzRotateCommand, athenzRolecertCommand, athenzTokenCommand, athenzRunCommand],
};
