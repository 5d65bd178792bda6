export * from './clock.js';
export * from './credential.js';
export * from './errors.js';
export * from './logger.js';
export * from './refreshing-provider.js';
export * from './retry.js';
export * from './secrets.js';
export * from './transport.js';
