/**
 * ZTS OAuth2 access tokens for one scope, obtained over mTLS with the service identity, cached until a share of
 * their lifetime is used, dropped when the identity certificate rotates (ZTS binds each token to the certificate),
 * and optionally verified against the ZTS JWKS.
 * @packageDocumentation
 */
import { defineSecrets, type RefreshingProvider, safeLogger, systemClock } from '@ecs-identity/core';
import { loadJose, verifyAccessToken } from './access-token-verify.js';
import type { AccessToken, X509Identity } from './credentials.js';
import { AthenzError } from './errors.js';
import { type IdentityBoundOptions, identityBoundProvider } from './identity-bound.js';
import type { IdentitySink } from './identity-sink.js';
import { validateDomain, validateRole, validateService } from './names.js';
import { athenzRefreshDefaults } from './refresh-defaults.js';
import type { ZtsClient } from './zts-client.js';
import type { JwkSet } from './zts-types.js';

/**
 * The scope string: `<domain>:domain` (all roles) or `<domain>:role.<r1> <domain>:role.<r2>`, plus
 * `openid <domain>:service.<service>` when an id token is wanted.
 * @public
 */
export function accessTokenScope(input: { domain: string; roles?: string[]; idTokenService?: string }): string {
  if (input === null || typeof input !== 'object') {
    throw new AthenzError('INVALID_ARGUMENT', 'accessTokenScope: the input must be an object with a domain');
  }
  const domain = validateDomain(input.domain);
  if (input.roles !== undefined && !Array.isArray(input.roles)) {
    throw new AthenzError('INVALID_ARGUMENT', 'accessTokenScope: roles must be an array of role names');
  }
  const parts =
    input.roles && input.roles.length > 0
      ? input.roles.map((r, i) => `${domain}:role.${validateRole(r, `roles[${i}]`)}`)
      : [`${domain}:domain`];
  if (input.idTokenService !== undefined) {
    parts.push('openid', `${domain}:service.${validateService(input.idTokenService, 'idTokenService')}`);
  }
  return parts.join(' ');
}

/** @public */
export interface AccessTokenOptions extends IdentityBoundOptions {
  zts: ZtsClient;
  /** See {@link accessTokenScope}. */
  scope: string;
  /** Requested lifetime in seconds. Default: the server's. */
  expiresInSeconds?: number | undefined;
  /**
   * Verify each token with jose against the ZTS JWKS: signature, `iss`, `aud` (default: the scope's domain), expiry,
   * and its binding to our certificate. Default: off.
   */
  verify?: { issuer: string; audience?: string | string[] } | undefined;
  /** Saves each token (siad: `tokens/<domain>/<name>`), under `sinkName` (default: the scope with spaces as `,`). */
  sink?: IdentitySink | undefined;
  sinkName?: string | undefined;
}

/**
 * Creates an access token provider for one scope.
 * @example
 * ```ts
 * const tokens = accessTokenProvider({ zts, identity, scope: accessTokenScope({ domain: 'weather', roles: ['readers'] }) });
 * const { token } = await tokens.get();
 * await fetch(url, { headers: { authorization: `Bearer ${token}` } });
 * ```
 * @public
 */
export function accessTokenProvider(options: AccessTokenOptions): RefreshingProvider<AccessToken> {
  if (!options?.zts || !options.identity) {
    throw new AthenzError('INVALID_ARGUMENT', 'accessTokenProvider: zts and identity are required');
  }
  if (typeof options.scope !== 'string' || options.scope.trim() === '') {
    throw new AthenzError('INVALID_ARGUMENT', 'accessTokenProvider: scope is required (see accessTokenScope)');
  }
  const scope = options.scope.trim();
  const scopeDomain = scope
    .split(/\s+/)
    .find((s) => s.includes(':'))
    ?.split(':')[0];
  const logger = safeLogger(options.logger);
  const clock = options.clock ?? systemClock;
  let jwks: JwkSet | undefined;

  async function verify(token: string, id: X509Identity, signal: AbortSignal): Promise<void> {
    const v = options.verify;
    if (!v) return;
    const audience = v.audience ?? scopeDomain;
    if (!audience) throw new AthenzError('INVALID_ARGUMENT', 'accessTokenProvider: verify.audience is required');
    const check = (keys: JwkSet) =>
      verifyAccessToken(token, {
        jwks: keys,
        issuer: v.issuer,
        audience,
        certificateDer: id.certificate.der,
        nowMs: clock.now(),
      });
    jwks ??= await options.zts.jwks({ signal });
    try {
      await check(jwks);
    } catch (e) {
      // A key we have not seen: ZTS rotated its signing keys. Fetch the set once more, then give up.
      const cause = (e as { cause?: { code?: string } }).cause;
      if (cause?.code !== 'ERR_JWKS_NO_MATCHING_KEY') throw e;
      jwks = await options.zts.jwks({ signal });
      await check(jwks);
    }
  }

  return identityBoundProvider<AccessToken>({
    name: `athenz access token (${scope})`,
    label: 'athenz access token',
    options,
    defaults: athenzRefreshDefaults.accessTokens,
    logger,
    clock,
    fetch: async (id, signal) => {
      const res = await options.zts.accessToken(
        { scope, expiresIn: options.expiresInSeconds },
        { keyPem: id.privateKeyPem, certPem: id.certificatePem },
        { signal },
      );
      await verify(res.access_token, id, signal);
      let expiresMs: number;
      if (typeof res.expires_in === 'number' && res.expires_in > 0) {
        expiresMs = clock.now() + res.expires_in * 1000;
      } else {
        let exp: number | undefined;
        const { decodeJwt } = await loadJose();
        try {
          exp = decodeJwt(res.access_token).exp;
        } catch {
          exp = undefined;
        }
        if (exp === undefined)
          throw new AthenzError('INVALID_RESPONSE', 'ZTS access token: no expires_in and no exp claim');
        expiresMs = exp * 1000;
      }
      const token = defineSecrets(
        {
          token: res.access_token,
          tokenType: res.token_type ?? 'Bearer',
          scope: res.scope ?? scope,
          ...(res.id_token ? { idToken: res.id_token } : {}),
          expiresAt: new Date(expiresMs),
          identitySerial: id.serialNumber,
        },
        res.id_token ? ['token', 'idToken'] : ['token'],
      );
      if (options.sink?.saveAccessToken && scopeDomain) {
        await options.sink.saveAccessToken(
          scopeDomain,
          options.sinkName ?? scope.replace(/\s+/g, ','),
          res.access_token,
        );
      }
      logger.debug({ scope, expiresAt: token.expiresAt.toISOString() }, 'athenz access token issued');
      return token;
    },
  });
}
