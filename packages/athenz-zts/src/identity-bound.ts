/**
 * Credentials obtained with the identity certificate (role certificates, access tokens) are only good with that
 * certificate: ZTS binds tokens to it, and a role cert outliving a rotated key is useless to a TLS peer. This wraps
 * such a provider so a rotation of the identity drops them.
 * @packageDocumentation
 */
import {
  type Credential,
  type CredentialProvider,
  type GetOptions,
  IdentityError,
  type RefreshingProvider,
} from '@ecs-identity/core';
import type { X509Identity } from './credentials.js';

/** A credential that remembers which identity certificate it was obtained with. @internal */
export interface BoundCredential extends Credential {
  readonly identitySerial: string;
}

/**
 * Returns `inner` with two additions: `get()` never returns a credential bound to an older identity certificate
 * than the current one, and each identity rotation starts a refresh in the background.
 * @internal
 */
export function boundToIdentity<C extends BoundCredential>(
  inner: RefreshingProvider<C>,
  identity: CredentialProvider<X509Identity>,
  onError: (e: unknown) => void,
): RefreshingProvider<C> {
  const unsubscribe = identity.subscribe(() => {
    inner.get({ forceRefresh: true }).catch(onError);
  });
  async function get(options: GetOptions = {}): Promise<C> {
    const signalOnly = options.signal ? { signal: options.signal } : {};
    let credential = await inner.get(options);
    // A refresh that began before a rotation finishes with the old certificate: try again, a bounded few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await identity.get(signalOnly);
      if (credential.identitySerial === current.serialNumber) return credential;
      credential = await inner.get({ ...signalOnly, forceRefresh: true });
    }
    throw new IdentityError('EXPIRED', 'the identity certificate kept changing while a bound credential was fetched', {
      retryable: true,
    });
  }
  return {
    get,
    peek: () => inner.peek(),
    subscribe: (listener) => inner.subscribe(listener),
    async close() {
      unsubscribe();
      await inner.close();
    },
  };
}
