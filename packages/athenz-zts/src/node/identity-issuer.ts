/**
 * The identity issuer: one register or refresh of a service identity with ZTS. It builds the CSR while the attestation
 * runs, sends it, checks what comes back against the names and the key, and saves the new pair to the sink before
 * handing it out. The identity provider decides when to call it (the start, the refreshes); this does each call.
 * @packageDocumentation
 */
import { KeyObject } from 'node:crypto';
import { type CredentialMetrics, IdentityError, type Logger } from '@ecs-identity/core';
import { measured } from '@ecs-identity/core/internal';
import type { ResolvedAthenzContext } from '../context.js';
import type { X509Identity } from '../credentials.js';
import { buildServiceCsr, type CsrSubject, type SpiffeOptions, spiffeNamespace } from '../csr.js';
import type { IdentitySink } from '../identity-sink.js';
import {
  exportPkcs8,
  generateKeyPair,
  type KeyType,
  type PrivateKeyFormat,
  privateKeyPemFormat,
  privateKeyPemFromPkcs8,
} from '../keys.js';
import { identityOf } from '../saved-identity.js';
import type { Crypto, CryptoKey, CryptoKeyPair } from '../web-crypto.js';
import { loadX509Codec } from '../x509-load.js';
import type { ClientTls, ZtsClient } from '../zts-client.js';
import type { InstanceRef } from '../zts-types.js';

/** What goes into the certificate request. @public */
export interface AthenzCsrOptions {
  /** Also a `*.<service>.<dashed-domain>.<suffix>` name per suffix. Default false. */
  wildcard?: boolean | undefined;
  /** More DNS names (each must end with one of `dnsSuffixes`). */
  extraDnsNames?: string[] | undefined;
  /**
   * The SPIFFE URI form (see `buildServiceCsr`). With a trust domain the URI is `spiffe://<td>/ns/<namespace>/sa/...`
   * and register and refresh send `namespace` (default `default`), as siad does: ZTS checks the URI against it.
   */
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
  /** Requested certificate lifetime in minutes (the server may lower it). Default: the server's (7 days on ECS). */
  expiryMinutes?: number | undefined;
}

/** The identity's key. @public */
export interface AthenzKeyOptions {
  /** Key type for new keys. Default `rsa` (RSA 2048). */
  type?: KeyType | undefined;
  /** A new key on every refresh. Default false: the key is reused, like siad. */
  rotate?: boolean | undefined;
  /** A Web Crypto implementation (default `globalThis.crypto`). */
  crypto?: Crypto | undefined;
}

/** What the issuer is fixed with for its life (from the provider's options). @internal */
export interface IssuerSettings {
  zts: ZtsClient;
  dnsSuffixes: string[];
  csr: AthenzCsrOptions;
  key: AthenzKeyOptions;
  sink: IdentitySink | undefined;
  /** Register anew (new key) when a refresh is refused as revoked or not found. */
  reRegister: boolean;
  /** The CA bundle the identities carry (`caBundlePem`): the ZTS client's. */
  caBundlePem: string | undefined;
  metrics: CredentialMetrics | undefined;
  logger: Logger;
}

/** A key pair and its PEM, made now or on demand. @internal */
export interface IssuerKey {
  keys: CryptoKeyPair;
  /**
   * The key's PEM. A new key's PKCS#8 export (the step that can fail) runs with the network calls; turning it into
   * PEM (CPU only) waits until ZTS has the request, since the PEM is needed only once the certificate is back.
   */
  keyPem: string | (() => Promise<string>);
  /** Settles once the key is known to be exportable: a key that cannot be written out fails before ZTS is asked. */
  exportable: Promise<unknown>;
}

/**
 * The PEM of a key of Node's own Web Crypto, written by Node (OpenSSL): the same bytes as the @peculiar/asn1-* path
 * (a test holds them equal), in a fraction of its time, so that what runs while ZTS handles the register (the client's
 * side of the TLS handshake among it) is not held back. Undefined for a key of another Web Crypto implementation (the
 * `key.crypto` option), which then takes the @peculiar path.
 * @internal
 */
export function nodeKeyPem(privateKey: CryptoKey, format: PrivateKeyFormat): string | undefined {
  let key: KeyObject;
  try {
    key = KeyObject.from(privateKey as Parameters<typeof KeyObject.from>[0]);
  } catch {
    return undefined;
  }
  return key.export({ type: format, format: 'pem' }) as string;
}

/** A key whose PEM is known (saved, or the current identity's). @internal */
export const knownKey = (keys: CryptoKeyPair, keyPem: string): IssuerKey => ({
  keys,
  keyPem,
  exportable: Promise.resolve(),
});

/** The PEM of a key, made now if it is not yet. */
const pemOf = (key: IssuerKey): Promise<string> =>
  typeof key.keyPem === 'string' ? Promise.resolve(key.keyPem) : key.keyPem();

/**
 * Resolves on the event loop's next turn, once the requests started before it have been handed to their sockets: CPU
 * work started after it runs while those requests are in flight, instead of holding them back on the one thread.
 */
const afterRequestsGoOut = (): Promise<void> => new Promise((turn) => setImmediate(turn));

/**
 * Sends a ZTS request, then makes the key's PEM (saved with the certificate) while the answer is awaited, instead of
 * after it. (The SPKI that the check of the certificate compares is already there: the CSR exported it, once per key:
 * `publicKeySpki`.)
 */
function sendThenPrepare<T>(key: IssuerKey, send: () => Promise<T>): Promise<T> {
  const answer = send();
  const { keyPem } = key;
  // a failure is reported by finish(), which awaits the same PEM
  if (typeof keyPem !== 'string') void afterRequestsGoOut().then(() => keyPem().catch(() => {}));
  return answer;
}

/** The instance record of a resolved context. @internal */
export const instanceRefOf = (ctx: ResolvedAthenzContext): InstanceRef => ({
  provider: ctx.provider,
  domain: ctx.domain,
  service: ctx.service,
  instanceId: ctx.task.taskId,
});

/** The client certificate an identity presents to ZTS. @internal */
export const clientTlsOf = (id: X509Identity): ClientTls => ({ keyPem: id.privateKeyPem, certPem: id.certificatePem });

/**
 * Registers and refreshes one service identity with ZTS (siad's `post` and `rotate` calls), saving each new pair
 * before it is handed out.
 * @internal
 */
export class IdentityIssuer {
  /**
   * The newest identity ZTS issued whose save failed: the next refresh must use it, not the one before (refreshing
   * with a certificate two generations old revokes the record).
   */
  unsaved: X509Identity | undefined;
  /** What register and refresh ask for besides the CSR: the lifetime, and the namespace the SPIFFE URI names. */
  private readonly request: { expiryTime?: number; namespace?: string } = {};
  /**
   * Whether the last attestation failed. Until one succeeds again, no connection to ZTS is opened ahead: during an
   * STS or IAM outage every retry of every task would otherwise cost ZTS a TLS handshake for a call that never comes.
   */
  private attestationFailed = false;

  constructor(private readonly settings: IssuerSettings) {
    const { expiryMinutes, spiffe } = settings.csr;
    if (expiryMinutes) this.request.expiryTime = expiryMinutes;
    // The CSR's SPIFFE URI names a namespace only in the trust-domain form; ZTS then checks it against `namespace`.
    const namespace = spiffeNamespace(spiffe);
    if (namespace) this.request.namespace = namespace;
  }

  /**
   * A new key pair; its PKCS#8 export (the step that can fail) starts now, while the network calls run. Its SPKI is
   * exported by the CSR (which needs it first), its PEM once the request is sent (`sendThenPrepare`).
   */
  async newKey(): Promise<IssuerKey> {
    const crypto = { crypto: this.settings.key.crypto };
    const keys = await generateKeyPair({ type: this.settings.key.type, ...crypto });
    const format = privateKeyPemFormat(keys.privateKey);
    const pkcs8 = exportPkcs8(keys.privateKey, crypto);
    pkcs8.catch(() => {}); // awaited before the register, unless the context or attestation fails first
    let pem: Promise<string> | undefined;
    const keyPem = () => {
      pem ??= pkcs8.then(
        (der) => nodeKeyPem(keys.privateKey, format) ?? privateKeyPemFromPkcs8(der, keys.privateKey, format),
      );
      return pem;
    };
    return { keys, keyPem, exportable: pkcs8 };
  }

  /**
   * A new key for a start that is about to send its first requests: an RSA key at once (its generation, off the main
   * thread, is the slow step: every millisecond it starts later is one the start waits), a P-256 key once those
   * requests have gone out (it is made in about a millisecond, and its set-up would hold them back).
   */
  newKeySoon(): Promise<IssuerKey> {
    // The CSR and the check of the certificate need the @peculiar stack (loaded on first use): in a new process its
    // loading then runs while the first requests are out, instead of after them. A failure is reported by its user.
    void afterRequestsGoOut()
      .then(loadX509Codec)
      .catch(() => {});
    if ((this.settings.key.type ?? 'rsa') === 'rsa') return this.newKey();
    return afterRequestsGoOut().then(() => this.newKey());
  }

  /** Registers a new instance: with `existing` (a saved key, or one in the making), else a new key. */
  async register(
    ctx: ResolvedAthenzContext,
    signal: AbortSignal,
    existing?: IssuerKey | Promise<IssuerKey>,
  ): Promise<X509Identity> {
    const keyP = existing ?? this.newKey();
    const { csr, attestationData } = await this.csrAndAttestation(ctx, keyP, signal);
    const k = await keyP;
    // Exported while the metadata and STS calls ran; a key that cannot be written out fails here, before ZTS is asked.
    await k.exportable;
    const { zts, metrics } = this.settings;
    const { provider, domain, service } = ctx;
    const id = await sendThenPrepare(k, () =>
      measured(metrics, 'register', () =>
        zts.register({ provider, domain, service, attestationData, csr, ...this.request }, { signal }),
      ),
    );
    return this.finish(ctx, k, id.x509Certificate as string, id.x509CertificateSigner, 'registered');
  }

  /**
   * Refreshes with `current` (same key unless `key.rotate`). Refused as revoked or not found, it registers anew with a
   * new key when `mayReRegister` (default: the `reRegister` setting).
   */
  async refresh(
    ctx: ResolvedAthenzContext,
    current: X509Identity,
    signal: AbortSignal,
    mayReRegister = this.settings.reRegister,
  ): Promise<X509Identity> {
    const { zts, metrics, logger } = this.settings;
    const k = this.settings.key.rotate
      ? await this.newKey()
      : knownKey({ privateKey: current.privateKey, publicKey: current.publicKey }, current.privateKeyPem);
    const tls = clientTlsOf(current);
    const { csr, attestationData } = await this.csrAndAttestation(ctx, k, signal, tls);
    await k.exportable; // as in register(): a rotated key that cannot be written out fails before ZTS is asked
    try {
      const ref = instanceRefOf(ctx);
      const id = await sendThenPrepare(k, () =>
        measured(metrics, 'refresh', () =>
          zts.refresh(ref, { csr, attestationData, ...this.request }, tls, { signal }),
        ),
      );
      return await this.finish(ctx, k, id.x509Certificate as string, id.x509CertificateSigner, 'refreshed');
    } catch (e) {
      if (mayReRegister && IdentityError.is(e, 'ZTS_REVOKED', 'ZTS_NOT_FOUND')) {
        logger.warn(
          { code: e.code, domain: ctx.domain, service: ctx.service },
          'athenz refresh refused; registering anew with a new key',
        );
        return this.register(ctx, signal);
      }
      throw e;
    }
  }

  /**
   * The CSR and a fresh attestation: the attestation (network) runs while the key (CPU; slow for RSA) is made. The
   * CSR (CPU only) is built once the attestation has had its turn to send the AssumeRole request: started alongside,
   * its ASN.1 work would run between the SDK's steps on the one thread and delay that request; started after, it
   * overlaps the round trip. Nothing needs the CSR before the attestation is back.
   */
  private async csrAndAttestation(
    ctx: ResolvedAthenzContext,
    k: IssuerKey | Promise<IssuerKey>,
    signal: AbortSignal,
    tls?: ClientTls,
  ) {
    const { csr, zts } = this.settings;
    const attestation = ctx.attest(signal);
    // The connection to ZTS (TCP and TLS handshakes) is opened while the attestation runs, not after it; not while
    // attestations fail (see attestationFailed).
    if (!this.attestationFailed) zts.preconnect?.(tls);
    attestation.then(
      () => {
        this.attestationFailed = false;
      },
      () => {
        this.attestationFailed = true;
      },
    );
    const built = afterRequestsGoOut()
      .then(() => k)
      .then(({ keys }) =>
        buildServiceCsr({
          keys,
          domain: ctx.domain,
          service: ctx.service,
          provider: ctx.provider,
          instanceId: ctx.task.taskId,
          dnsSuffixes: this.settings.dnsSuffixes,
          wildcard: csr.wildcard,
          extraDnsNames: csr.extraDnsNames,
          spiffe: csr.spiffe,
          subject: csr.subject,
          crypto: this.settings.key.crypto,
        }),
      );
    const [{ pem }, attestationData] = await Promise.all([built, attestation]);
    return { csr: pem, attestationData };
  }

  /** The new certificate checked against the names and the key, saved to the sink, then handed out. */
  private async finish(
    ctx: ResolvedAthenzContext,
    k: IssuerKey,
    certPem: string,
    chainPem: string | null | undefined,
    how: string,
  ): Promise<X509Identity> {
    const { sink, logger, caBundlePem, key } = this.settings;
    const keyPem = await pemOf(k);
    const identity = await identityOf(ctx, k.keys, keyPem, certPem, { crypto: key.crypto, caBundlePem, chainPem });
    if (sink) {
      try {
        await sink.saveIdentity(ctx.domain, ctx.service, { keyPem, certPem }, chainPem ?? undefined);
      } catch (e) {
        this.unsaved = identity;
        throw e;
      }
    }
    this.unsaved = undefined;
    const { domain, service } = ctx;
    const expiresAt = identity.expiresAt.toISOString();
    logger.info({ domain, service, serial: identity.serialNumber, expiresAt }, `athenz identity ${how}`);
    return identity;
  }
}
