/**
 * The jose functions this package uses, loaded through `loadJose` (access-token-verify.ts) on first use. A module of
 * named re-exports, so that a bundler keeps only these of jose (an `import('jose')` would keep all of it).
 * @packageDocumentation
 */
export { base64url, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
