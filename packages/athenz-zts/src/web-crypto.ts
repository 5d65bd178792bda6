/**
 * The Web Crypto types this package's declarations name: core's (one set for every package), and the signature
 * algorithms of the keys ZTS certifies. Types only: nothing here exists at run time.
 * @packageDocumentation
 */
export type { BufferSource, Crypto, CryptoKey, CryptoKeyPair } from '@ecs-identity/core';

/** The signature algorithms of the keys ZTS certifies: RSA PKCS#1 v1.5 or ECDSA, with SHA-256. @public */
export type SigningAlgorithm = { name: 'RSASSA-PKCS1-v1_5'; hash: 'SHA-256' } | { name: 'ECDSA'; hash: 'SHA-256' };
