/**
 * Access and id tokens as ZTS signs them (`AccessToken` / `IdToken`): ES256 JWTs signed with jose, access tokens bound
 * to the client certificate by `cnf: {"x5t#S256": ...}`, and the JWKS that verifies them.
 * @packageDocumentation
 */
import { createHash, randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The ZTS token signer: a P-256 key with a key id. @internal */
export interface TokenSigner {
  readonly kid: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicJwk: JWK;
}

/** Generates the token signing key. @internal */
export async function createTokenSigner(kid = 'zts-ec-0'): Promise<TokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' } };
}

/**
 * The JWKS: RFC 7518 curve names with `rfc=true`; without it ZTS names the curve `prime256v1`, which standard JOSE
 * libraries refuse, hence clients must ask with `rfc=true`.
 * @internal
 */
export function jwks(signer: TokenSigner, rfc: boolean): { keys: JWK[] } {
  return { keys: [rfc ? signer.publicJwk : { ...signer.publicJwk, crv: 'prime256v1' }] };
}

/** base64url(SHA-256(DER)): the RFC 8705 certificate thumbprint bound into access tokens. @public */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** Claims of an access token. @internal */
export interface AccessTokenParams {
  issuer: string;
  domain: string;
  principal: string;
  roles: string[];
  issuedAt: number;
  lifetimeSeconds: number;
  certThumbprint: string;
}

/** Signs an access token (header `typ: at+jwt`). @internal */
export function signAccessToken(signer: TokenSigner, p: AccessTokenParams): Promise<string> {
  return new SignJWT({
    ver: 1,
    client_id: p.principal,
    uid: p.principal,
    auth_time: p.issuedAt,
    scp: p.roles,
    scope: p.roles.join(' '),
    cnf: { 'x5t#S256': p.certThumbprint },
  })
    .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'at+jwt' })
    .setIssuer(p.issuer)
    .setSubject(p.principal)
    .setAudience(p.domain)
    .setJti(randomUUID())
    .setIssuedAt(p.issuedAt)
    .setExpirationTime(p.issuedAt + p.lifetimeSeconds)
    .sign(signer.privateKey);
}

/** Claims of an id token. @internal */
export interface IdTokenParams {
  issuer: string;
  audience: string;
  principal: string;
  issuedAt: number;
  lifetimeSeconds: number;
}

/** Signs an OpenID id token. @internal */
export function signIdToken(signer: TokenSigner, p: IdTokenParams): Promise<string> {
  return new SignJWT({ ver: 1, auth_time: p.issuedAt })
    .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'JWT' })
    .setIssuer(p.issuer)
    .setSubject(p.principal)
    .setAudience(p.audience)
    .setIssuedAt(p.issuedAt)
    .setExpirationTime(p.issuedAt + p.lifetimeSeconds)
    .sign(signer.privateKey);
}
