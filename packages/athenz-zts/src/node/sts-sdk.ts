/**
 * Node's loader of `@aws-sdk/client-sts` for attestation, shared by the process. Only the Node build reaches this
 * module, so a browser bundle of the main entry holds no AWS SDK code.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import type { StsModule } from '../attestation.js';

const requireHere = createRequire(import.meta.url);
let stsModule: Promise<StsModule> | undefined;

/**
 * Loads `@aws-sdk/client-sts` once per process (a one-time cost). Called without waiting, it lets a cold start overlap
 * the load with its first network calls; attestation calls it anyway when it needs the SDK.
 *
 * With `require`: the SDK's package is CommonJS, and an `import()` of it also runs Node's CommonJS export lexer over
 * its code to find the names to export (about 10 ms of a new process's start). On the event loop's next turn, so
 * that the requests a start has just begun are sent first.
 * @internal
 */
export function preloadSts(): Promise<StsModule> {
  if (!stsModule) {
    const loading = new Promise<StsModule>((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(requireHere('@aws-sdk/client-sts') as StsModule);
        } catch (e) {
          reject(e);
        }
      }),
    );
    stsModule = loading;
    // a failed load is tried again by the next attestation, which reports the error
    loading.catch(() => {
      if (stsModule === loading) stsModule = undefined;
    });
  }
  return stsModule;
}
