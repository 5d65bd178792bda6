// CONTRACT STUB (owned by the core-transport helper): replace bodies, keep the exported names and shapes.
/** What a secret shows as. @public */
export declare const REDACTED: '[REDACTED]';
/**
 * Marks fields of a credential object as secret, in place, and returns it: the fields stay readable
 * (`cred.secretAccessKey`), but `util.inspect`, `console.log`, `JSON.stringify` and `String()` show them as
 * REDACTED, and their values are registered so error messages and safeLogger scrub them.
 * @public
 */
export declare function defineSecrets<T extends object>(credential: T, keys: readonly (keyof T)[]): T;
/** Registers a secret value (bounded set) so error messages and logs scrub it. @public */
export declare function registerSecret(value: string): void;
/** Replaces every registered secret in `text` with REDACTED. @public */
export declare function scrubSecrets(text: string): string;
