/**
 * The one way into x509-codec.ts (the `@peculiar` stack): loaded on first use, once, so that importing the package
 * loads none of it (about 290 modules and most of its import time in Node; the code-split chunk in a browser).
 * @packageDocumentation
 */

/** What x509-codec.ts exports. @internal */
export type X509Codec = typeof import('./x509-codec.js');

let codec: Promise<X509Codec> | undefined;

/**
 * Loads x509-codec.ts, `reflect-metadata` first: @peculiar/x509's dependency injection (tsyringe) needs the global
 * `Reflect.getMetadata` it installs before @peculiar/x509 is evaluated. A failed load is not remembered.
 * @internal
 */
export function loadX509Codec(): Promise<X509Codec> {
  if (codec === undefined) {
    const loading = import('reflect-metadata').then(() => import('./x509-codec.js'));
    codec = loading;
    loading.catch(() => {
      if (codec === loading) codec = undefined;
    });
  }
  return codec;
}
