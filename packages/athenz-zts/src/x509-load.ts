/**
 * The one way into x509-codec.ts (the `@peculiar` stack): loaded on first use, once, so that importing the package
 * loads none of it (about 290 modules and most of its import time in Node; the code-split chunk in a browser).
 * @packageDocumentation
 */

import { loadOnce } from '@ecs-identity/core/internal';

/** What x509-codec.ts exports. @internal */
export type X509Codec = typeof import('./x509-codec.js');

/**
 * Loads x509-codec.ts, `reflect-metadata` first: @peculiar/x509's dependency injection (tsyringe) needs the global
 * `Reflect.getMetadata` it installs before @peculiar/x509 is evaluated.
 * @internal
 */
export const loadX509Codec: () => Promise<X509Codec> = loadOnce(() =>
  import('reflect-metadata').then(() => import('./x509-codec.js')),
);
