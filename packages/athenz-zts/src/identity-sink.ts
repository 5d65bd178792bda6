/**
 * Where the identity provider persists what it obtains (and finds it again after a restart). The Node entry has a
 * siad-compatible file sink; anything else (a secret store, memory) can implement the same interface.
 * @packageDocumentation
 */

/** A key and certificate in PEM. @public */
export interface StoredPair {
  keyPem: string;
  certPem: string;
}

/** @public */
export interface IdentitySink {
  /** The key + certificate saved by an earlier run for `<domain>.<service>`, if any. */
  loadIdentity(domain: string, service: string): Promise<StoredPair | undefined>;
  /** Saves a new key + certificate (and the CA chain ZTS sent). Must be durable when it resolves. */
  saveIdentity(domain: string, service: string, pair: StoredPair, chainPem?: string): Promise<void>;
  /** Saves a role certificate for `<roleDomain>:role.<role>`. */
  saveRoleCertificate?(roleName: string, certPem: string): Promise<void>;
  /** Saves an access token under a name (siad: `tokens/<domain>/<name>`). */
  saveAccessToken?(domain: string, name: string, token: string): Promise<void>;
}
