export * from './node/files.js';
export * from './node/tls.js';
