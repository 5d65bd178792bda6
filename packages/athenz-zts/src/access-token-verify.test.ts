import { IdentityError } from '@ecs-identity/core';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint, verifyAccessToken } from './access-token-verify.js';

let jwks: { keys: JsonWebKey[] };
let sign: (claims: Record<string, unknown>, kid?: string) => Promise<string>;
const NOW = Date.UTC(2026, 10, 25, 8, 0, 0);
const certDer = new TextEncoder().encode('pretend DER of our client certificate');

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'zts-0', alg: 'ES256' } as JsonWebKey] };
  sign = (claims, kid = 'zts-0') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 3600)
      .sign(privateKey);
});

const opts = () => ({ jwks, issuer: 'https://zts.example.com/zts/v1', audience: 'sports', nowMs: NOW + 1000 });

describe('verifyAccessToken', () => {
  it('accepts a good token bound to our certificate', async () => {
    const cnf = { 'x5t#S256': await certificateThumbprint(certDer) };
    const token = await sign({ iss: opts().issuer, aud: 'sports', scp: ['readers'], cnf });
    const claims = await verifyAccessToken(token, { ...opts(), certificateDer: certDer });
    expect(claims.scp).toEqual(['readers']);
  });

  it.each([
    ['wrong issuer', { iss: 'https://evil', aud: 'sports' }, {}],
    ['wrong audience', { iss: 'https://zts.example.com/zts/v1', aud: 'weather' }, {}],
    ['expired', { iss: 'https://zts.example.com/zts/v1', aud: 'sports' }, { nowMs: NOW + 2 * 3600_000 }],
  ])('rejects a token with %s', async (_name, claims, over) => {
    const token = await sign(claims);
    const e = await verifyAccessToken(token, { ...opts(), ...over }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'TOKEN_VERIFICATION_FAILED')).toBe(true);
    expect((e as Error).message).not.toContain(token);
  });

  it('rejects an unknown key, a forged signature, and a token bound to another certificate', async () => {
    const good = { iss: opts().issuer, aud: 'sports' };
    const unknownKid = await sign(good, 'zts-9');
    await expect(verifyAccessToken(unknownKid, opts())).rejects.toMatchObject({ code: 'TOKEN_VERIFICATION_FAILED' });
    const token = await sign(good);
    const [h, p] = token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    await expect(verifyAccessToken(forged, opts())).rejects.toMatchObject({ code: 'TOKEN_VERIFICATION_FAILED' });
    const bound = await sign({ ...good, cnf: { 'x5t#S256': 'someone-else' } });
    await expect(verifyAccessToken(bound, { ...opts(), certificateDer: certDer })).rejects.toThrow(/cnf/);
  });
});
