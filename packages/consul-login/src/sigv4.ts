/**
 * `SignatureV4`, loaded through `loadSigner` (aws-query-request.ts) on the first signing. A module of named
 * re-exports, so that a bundler keeps only what signing needs of `@smithy/signature-v4`.
 * @packageDocumentation
 */
export { SignatureV4 } from '@smithy/signature-v4';
