/**
 * Verifies a ZTS access token (a JWT) against the ZTS JWKS with jose: signature, issuer, audience, expiry, and
 * optionally its binding to our client certificate (`cnf` `x5t#S256`).
 * @packageDocumentation
 */
import { loadOnce } from '@ecs-identity/core/internal';
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose';
import { AthenzError } from './errors.js';
import { type CryptoOption, resolveCrypto } from './keys.js';

/** @public */
export interface VerifyAccessTokenOptions extends CryptoOption {
  /** The ZTS JWKS (`GET /oauth2/keys?rfc=true`). */
  jwks: { keys: JWK[] };
  /** Expected `iss` (the ZTS URL that issued it). */
  issuer: string;
  /** Expected `aud`: the domain the token is for. */
  audience: string | string[];
  /** When given, the token's `cnf.x5t#S256` must be this certificate's SHA-256 thumbprint. */
  certificateDer?: ArrayBuffer | Uint8Array | undefined;
  /** Seconds of clock skew tolerated. Default 60. */
  clockToleranceSec?: number | undefined;
  /** The time to check `exp` / `nbf` against (ms). Default now. */
  nowMs?: number | undefined;
}

/**
 * jose, loaded on first use (about 45 modules in Node): only verifying a token, its thumbprint and reading a token's
 * `exp` need it, not importing the package.
 * @internal
 */
export const loadJose: () => Promise<typeof import('./jose-functions.js')> = loadOnce(
  () => import('./jose-functions.js'),
);

/** The `x5t#S256` thumbprint of a DER certificate (base64url SHA-256). @public */
export async function certificateThumbprint(
  der: ArrayBuffer | Uint8Array,
  options: CryptoOption = {},
): Promise<string> {
  const bytes = new Uint8Array(der); // a copy on a plain ArrayBuffer, as subtle.digest wants
  const digest = await resolveCrypto(options.crypto).subtle.digest('SHA-256', bytes);
  return (await loadJose()).base64url.encode(new Uint8Array(digest));
}

/**
 * Verifies an access token and returns its claims.
 * @example
 * ```ts
 * const claims = await verifyAccessToken(token, { jwks: await zts.jwks(), issuer: zts.url, audience: 'sports' });
 * ```
 * @throws IdentityError `TOKEN_VERIFICATION_FAILED` (the message names the check, never the token)
 * @public
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<JWTPayload> {
  let payload: JWTPayload;
  const { createLocalJWKSet, jwtVerify } = await loadJose();
  try {
    const keys = createLocalJWKSet(options.jwks as JSONWebKeySet);
    ({ payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSec ?? 60,
      requiredClaims: ['exp'],
      ...(options.nowMs === undefined ? {} : { currentDate: new Date(options.nowMs) }),
    }));
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'ERR_JOSE';
    const claim = (cause as { claim?: string }).claim;
    throw new AthenzError(
      'TOKEN_VERIFICATION_FAILED',
      `access token rejected (${code}${claim ? `, claim ${claim}` : ''})`,
      { cause },
    );
  }
  if (options.certificateDer) {
    const cnf = (payload as { cnf?: Record<string, unknown> }).cnf;
    const expected = await certificateThumbprint(options.certificateDer, options);
    if (cnf?.['x5t#S256'] !== expected) {
      throw new AthenzError(
        'TOKEN_VERIFICATION_FAILED',
        'access token rejected (its cnf x5t#S256 does not match our client certificate)',
      );
    }
  }
  return payload;
}
