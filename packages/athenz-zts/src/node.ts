/**
 * Node additions: the service identity provider (`athenzIdentityProvider`, with the ECS agent defaults), the ZTS
 * transport with the CA bundle and client certificates (`https.Agent`), and the file sink in siad's layout. Re-exports the browser-safe entry, so one import gives everything.
 * @packageDocumentation
 */

export * from './index.js';
export * from './node/identity-provider.js';
export * from './node/siad-file-sink.js';
export * from './node/zts-transport.js';
