// An in-memory ZtsClient for the providers' unit tests. It keeps the ZTS rules the providers depend on (CSR CN and
// instance id, key possession, current/previous serial tracking with revocation on an older one, mTLS identity
// for refresh / rolecert / token), so a provider that gets them wrong fails here. The end-to-end tests run the
// providers against the testkit's real HTTPS ZTS as well.
// The helper answers synchronously, so it reads CSRs and certificates with the codec itself (the public functions
// that wrap it load it on first use and are async).
import 'reflect-metadata';
import type { ClientTls, InstanceIdentity, InstanceRef, ZtsClient } from '@ecs-identity/athenz-zts';
import { IdentityError } from '@ecs-identity/core';
import {
  BasicConstraintsExtension,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { describeCsrPem, parseCertificatePem } from '../../src/x509-codec.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface StubCall {
  op: 'register' | 'refresh' | 'delete' | 'rolecert' | 'token' | 'jwks';
  serial?: string;
  /** The serial of the client certificate presented. */
  clientSerial?: string;
}

interface Record {
  current: string;
  previous?: string;
}

export class StubZts implements ZtsClient {
  readonly url = 'https://zts.stub:4443/zts/v1';
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
  readonly calls: StubCall[] = [];
  readonly records = new Map<string, Record>();
  /** Errors to throw on the next call of an operation. */
  readonly failNext = new Map<StubCall['op'], IdentityError>();
  certLifetimeMs = 7 * 24 * 3600_000;
  /** While set, every call fails with it (an outage), counted in `refusedWhileDown`. */
  down: IdentityError | undefined;
  refusedWhileDown = 0;
  private serial = 1;
  private constructor(
    private readonly caKeys: CryptoKeyPair,
    readonly caCert: X509Certificate,
    private readonly now: () => number,
  ) {}

  static async create(now: () => number): Promise<StubZts> {
    const caKeys = (await crypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
    const caCert = await X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Stub ZTS CA',
      notBefore: new Date(now() - 3600_000),
      notAfter: new Date(now() + 365 * 24 * 3600_000),
      keys: caKeys,
      signingAlgorithm: EC,
      extensions: [new BasicConstraintsExtension(true, undefined, true)],
    });
    return new StubZts(caKeys, caCert, now);
  }

  private fail(op: StubCall['op']): void {
    if (this.down) {
      this.refusedWhileDown++;
      throw this.down;
    }
    const e = this.failNext.get(op);
    if (e) {
      this.failNext.delete(op);
      throw e;
    }
  }

  private async issue(csrPem: string, cn: string, lifetimeMs = this.certLifetimeMs): Promise<string> {
    const csr = new Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new IdentityError('ZTS_CSR_REJECTED', 'CSR signature does not verify');
    const san = csr.getExtension('2.5.29.17') as SubjectAlternativeNameExtension | null;
    const serial = (this.serial++).toString(16).padStart(2, '0');
    const cert = await X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `CN=${cn}`,
      issuer: this.caCert.subject,
      notBefore: new Date(this.now()),
      notAfter: new Date(this.now() + lifetimeMs),
      publicKey: csr.publicKey,
      signingKey: this.caKeys.privateKey,
      signingAlgorithm: EC,
      extensions: san ? [new SubjectAlternativeNameExtension(san.names.toJSON())] : [],
    });
    return `${cert.toString('pem')}\n`;
  }

  private checkServiceCsr(csrPem: string, domain: string, service: string, instanceId: string): void {
    const n = describeCsrPem(csrPem);
    if (n.commonNames.length !== 1 || n.commonNames[0] !== `${domain}.${service}`) {
      throw new IdentityError('ZTS_CSR_REJECTED', 'CSR validation failed - CN mismatch');
    }
    if (n.instanceId !== instanceId || n.spiffeUris.length > 1) {
      throw new IdentityError('ZTS_CSR_REJECTED', 'CSR validation failed - instance id / SPIFFE');
    }
  }

  private clientSerial(tls: ClientTls): string {
    return new X509Certificate(tls.certPem).serialNumber;
  }

  private key(ref: Omit<InstanceRef, 'instanceId'> & { instanceId?: string }): string {
    return `${ref.provider}/${ref.domain}/${ref.service}/${ref.instanceId}`;
  }

  /** The principal of an mTLS client whose cert is some record's current (or previous) serial. */
  private principalOf(tls: ClientTls): string {
    const serial = this.clientSerial(tls);
    const known = [...this.records.values()].some((r) => r.current === serial || r.previous === serial);
    if (!known) throw new IdentityError('ZTS_ERROR', 'unknown client certificate', { status: 401 });
    return parseCertificatePem(tls.certPem).names.commonNames[0] ?? '';
  }

  async register(info: Parameters<ZtsClient['register']>[0]): Promise<InstanceIdentity> {
    this.fail('register');
    const att = JSON.parse(info.attestationData) as { role?: string; access?: string };
    if (att.role !== `${info.domain}.${info.service}` || !att.access) {
      throw new IdentityError('ZTS_ATTESTATION_REJECTED', 'unable to verify attestation data');
    }
    const instanceId = describeCsrPem(info.csr).instanceId ?? '';
    this.checkServiceCsr(info.csr, info.domain, info.service, instanceId);
    const pem = await this.issue(info.csr, `${info.domain}.${info.service}`);
    const serial = new X509Certificate(pem).serialNumber;
    this.records.set(this.key({ ...info, instanceId }), { current: serial });
    this.calls.push({ op: 'register', serial });
    return {
      provider: info.provider,
      name: `${info.domain}.${info.service}`,
      instanceId,
      x509Certificate: pem,
      x509CertificateSigner: `${this.caCert.toString('pem')}\n`,
    };
  }

  async refresh(
    ref: InstanceRef,
    info: Parameters<ZtsClient['refresh']>[1],
    tls: ClientTls,
  ): Promise<InstanceIdentity> {
    this.fail('refresh');
    const clientSerial = this.clientSerial(tls);
    const record = this.records.get(this.key(ref));
    if (!record) throw new IdentityError('ZTS_NOT_FOUND', 'Unable to find certificate record', { status: 403 });
    if (parseCertificatePem(tls.certPem).names.commonNames[0] !== `${ref.domain}.${ref.service}`) {
      throw new IdentityError('ZTS_ERROR', 'Principal mismatch', { status: 403 });
    }
    if (clientSerial !== record.current && clientSerial !== record.previous) {
      this.records.delete(this.key(ref));
      throw new IdentityError('ZTS_REVOKED', 'Certificate revoked', { status: 403 });
    }
    if (!info.attestationData) throw new IdentityError('ZTS_ATTESTATION_REJECTED', 'no attestation');
    this.checkServiceCsr(info.csr, ref.domain, ref.service, ref.instanceId);
    const pem = await this.issue(info.csr, `${ref.domain}.${ref.service}`);
    const serial = new X509Certificate(pem).serialNumber;
    this.records.set(this.key(ref), { current: serial, previous: record.current });
    this.calls.push({ op: 'refresh', serial, clientSerial });
    return {
      provider: ref.provider,
      name: `${ref.domain}.${ref.service}`,
      instanceId: ref.instanceId,
      x509Certificate: pem,
    };
  }

  async deleteInstance(ref: InstanceRef, tls: ClientTls): Promise<void> {
    this.fail('delete');
    this.principalOf(tls);
    this.records.delete(this.key(ref));
    this.calls.push({ op: 'delete', clientSerial: this.clientSerial(tls) });
  }

  async roleCertificate(request: { csr: string }, tls: ClientTls): Promise<{ x509Certificate: string }> {
    this.fail('rolecert');
    const principal = this.principalOf(tls);
    const n = describeCsrPem(request.csr);
    if (!n.uris.includes(`athenz://principal/${principal}`)) {
      throw new IdentityError('ZTS_CSR_REJECTED', 'CSR validation failed - principal');
    }
    const pem = await this.issue(request.csr, n.commonNames[0] ?? '', 24 * 3600_000);
    this.calls.push({
      op: 'rolecert',
      clientSerial: this.clientSerial(tls),
      serial: new X509Certificate(pem).serialNumber,
    });
    return { x509Certificate: pem };
  }

  async accessToken(request: { scope: string; expiresIn?: number }, tls: ClientTls) {
    this.fail('token');
    this.principalOf(tls);
    const clientSerial = this.clientSerial(tls);
    this.calls.push({ op: 'token', clientSerial });
    const n = this.calls.filter((c) => c.op === 'token').length;
    return {
      access_token: `stub-token-${n}-bound-to-${clientSerial}`,
      token_type: 'Bearer',
      expires_in: request.expiresIn ?? 3600,
      scope: request.scope,
    };
  }

  async jwks() {
    this.calls.push({ op: 'jwks' });
    return { keys: [] };
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
