/**
 * The instance certificate records ZTS keeps (`X509CertRecord`): per provider + instance id + service, the serial of
 * the current and the previous certificate. Refreshing with any other serial revokes the record (both set to `-1`).
 * @packageDocumentation
 */

/** One instance's record. Serials are lower-case hex (`-1` once revoked). @public */
export interface ZtsCertRecord {
  provider: string;
  instanceId: string;
  /** `<domain>.<service>`. */
  service: string;
  currentSerial: string;
  prevSerial: string;
  /** When the current certificate was issued (ms, server clock). */
  currentTime: number;
  /** When the current certificate expires (ms). */
  expiresAt: number;
}

/** The outcome of presenting a certificate serial on refresh. @internal */
export type SerialCheck = 'current' | 'previous' | 'revoked';

const REVOKED = '-1';

/** In-memory record store. @internal */
export class CertRecordStore {
  readonly #records = new Map<string, ZtsCertRecord>();

  static key(provider: string, instanceId: string, service: string): string {
    return `${provider}\u0000${instanceId}\u0000${service}`;
  }

  get(provider: string, instanceId: string, service: string): ZtsCertRecord | undefined {
    return this.#records.get(CertRecordStore.key(provider, instanceId, service));
  }

  /** Register: a new record whose previous serial is the current one (as `insertX509CertRecord`). */
  insert(record: Omit<ZtsCertRecord, 'prevSerial'>): void {
    this.#records.set(CertRecordStore.key(record.provider, record.instanceId, record.service), {
      ...record,
      prevSerial: record.currentSerial,
    });
  }

  /**
   * The serial check of `getValidatedX509CertRecord`: current → the current serial becomes the previous one;
   * previous → accepted as is; anything else revokes the record.
   */
  present(record: ZtsCertRecord, serial: string): SerialCheck {
    const s = serial.toLowerCase();
    if (record.currentSerial !== REVOKED && record.currentSerial === s) {
      record.prevSerial = record.currentSerial;
      return 'current';
    }
    if (record.prevSerial !== REVOKED && record.prevSerial === s) return 'previous';
    this.revokeRecord(record);
    return 'revoked';
  }

  /** Stores the newly issued certificate as current. */
  update(record: ZtsCertRecord, serial: string, now: number, expiresAt: number): void {
    record.currentSerial = serial.toLowerCase();
    record.currentTime = now;
    record.expiresAt = expiresAt;
  }

  /** `ZTSImpl.revokeCertificateRefresh`: both serials set to -1, for good. */
  revokeRecord(record: ZtsCertRecord): void {
    record.currentSerial = REVOKED;
    record.prevSerial = REVOKED;
  }

  /** Revokes every record of an instance id (optionally only one provider's). Returns how many. */
  revoke(instanceId: string, provider?: string): number {
    let n = 0;
    for (const r of this.#records.values()) {
      if (r.instanceId === instanceId && (provider === undefined || r.provider === provider.toLowerCase())) {
        this.revokeRecord(r);
        n++;
      }
    }
    return n;
  }

  /** `InstanceCertManager.deleteX509CertRecord`. */
  delete(provider: string, instanceId: string, service: string): void {
    this.#records.delete(CertRecordStore.key(provider, instanceId, service));
  }

  /** Copies of every record. */
  list(): ZtsCertRecord[] {
    return [...this.#records.values()].map((r) => ({ ...r }));
  }
}
