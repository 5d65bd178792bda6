/**
 * Node's loader of `@aws-sdk/client-sts` for attestation: a lazy `import()`, shared by the process. Only the Node
 * build reaches this module, so a browser bundle of the main entry holds no AWS SDK code.
 * @packageDocumentation
 */
import type { StsModule } from '../attestation.js';

let stsModule: Promise<StsModule> | undefined;

/**
 * Loads `@aws-sdk/client-sts` once per process (a one-time cost). Called without waiting, it lets a cold start overlap
 * the load with its first network calls; attestation calls it anyway when it needs the SDK.
 * @internal
 */
export function preloadSts(): Promise<StsModule> {
  if (!stsModule) {
    stsModule = import('@aws-sdk/client-sts');
    // a failed load is tried again by the next attestation, which reports the error
    stsModule.catch(() => {
      stsModule = undefined;
    });
  }
  return stsModule;
}
