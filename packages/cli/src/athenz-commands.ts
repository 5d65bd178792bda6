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
hand: a failed refresh is tried again after a backoff of hours while the certificate has days left, tighter as its
expiry nears. Prints one JSON line per event: identity, refreshed, rolecerts, token, refresh-failed (with its attempt
count: refresh cycles, not backoff retries), expiring, stopped.`,
  exitStatus: `Exit status (each failure also names its cause on one stderr line):
  0  stopped by SIGTERM / SIGINT (also during start-up), after closing the providers
  1  start-up failed (no certificate); or refreshes failed in -fail-count refresh cycles in a row; or the certificate
     would expire before the next refresh attempt, or expired, with no refresh succeeding
  2  usage error`,
  flags: {
    ...ATHENZ_COMMON_FLAGS,
    ...ATHENZ_IDENTITY_FLAGS,
    rotatekey: { type: 'bool', help: 'use a new key on every refresh', env: ['ATHENZ_SIA_ROTATE_KEY'] },
    refreshinterval: {
      type: 'int',
      min: 1,
      placeholder: 'MINUTES',
      help: 'refresh at the latest this long after each certificate was issued',
      env: ['ATHENZ_SIA_REFRESH_INTERVAL'],
      default: 1440,
    },
    'fail-count': {
      type: 'int',
      min: 1,
      help: 'exit after this many failed refresh attempts in a row',
      env: ['ATHENZ_SIA_FAIL_COUNT_FOR_EXIT'],
      default: 2,
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
