/**
 * Role certificates (`siad -cmd rolecert`) for a list of roles, over mTLS with the current service identity,
 * refreshed when the identity rotates or ahead of their own expiry.
 * @packageDocumentation
 */
import { type Credential, defineSecrets, type RefreshingProvider, safeLogger, systemClock } from '@ecs-identity/core';
import type { RoleCertificate, X509Identity } from './credentials.js';
import { certificateMatchesKey } from './credentials.js';
import { buildRoleCsr, type CsrSubject, type SpiffeOptions } from './csr.js';
import { AthenzError } from './errors.js';
import { type IdentityBoundOptions, identityBoundProvider } from './identity-bound.js';
import type { IdentitySink } from './identity-sink.js';
import type { CryptoOption } from './keys.js';
import { validateDomain, validateRole } from './names.js';
import { athenzRefreshDefaults } from './refresh-defaults.js';
import { parseCertificate } from './x509-info.js';
import type { ZtsClient } from './zts-client.js';

/** A role: `<domain>:role.<role>` or its parts. @public */
export type RoleRef = string | { domain: string; role: string };

/** The role certificates for the requested roles, keyed by `<domain>:role.<role>`. @public */
export interface RoleCertificateSet extends Credential {
  readonly certificates: Readonly<Record<string, RoleCertificate>>;
  /** The earliest expiry among them. */
  readonly expiresAt: Date;
  readonly identitySerial: string;
}

/** @public */
/** What goes into a role certificate request. @public */
export interface RoleCsrSettings {
  /** Requested lifetime in minutes. Default: the server's. */
  expiryMinutes?: number | undefined;
  /** Adds the email SAN `<domain>.<service>@<emailDomain>`. */
  emailDomain?: string | undefined;
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
}

/** @public */
export interface RoleCertificateOptions extends CryptoOption, IdentityBoundOptions {
  zts: ZtsClient;
  /** The role CSRs are signed with the service identity's key. */
  roles: RoleRef[];
  /** What the requests hold: `expiryMinutes`, `emailDomain`, `spiffe`, `subject`. */
  csr?: RoleCsrSettings | undefined;
  /** Saves each role certificate (siad: `certs/<domain>:role.<role>.cert.pem`). */
  sink?: IdentitySink | undefined;
}

/** Parses `<domain>:role.<role>` (or the parts) into the canonical name and its parts. @public */
export function parseRoleRef(ref: RoleRef): { domain: string; role: string; name: string } {
  let domain: string;
  let role: string;
  if (typeof ref === 'string') {
    const at = ref.indexOf(':role.');
    if (at <= 0) throw new AthenzError('INVALID_NAME', `role ${JSON.stringify(ref)} is not <domain>:role.<role>`);
    domain = validateDomain(ref.slice(0, at), 'roles[] domain');
    role = validateRole(ref.slice(at + ':role.'.length), 'roles[] role');
  } else {
    domain = validateDomain(ref?.domain, 'roles[].domain');
    role = validateRole(ref?.role, 'roles[].role');
  }
  return { domain, role, name: `${domain}:role.${role}` };
}

/**
 * Creates the role certificate provider.
 * @example
 * ```ts
 * const roleCerts = roleCertificateProvider({ zts, identity, roles: ['weather:role.readers'] });
 * const { certificates } = await roleCerts.get();
 * const readers = certificates['weather:role.readers'];
 * ```
 * @public
 */
export function roleCertificateProvider(options: RoleCertificateOptions): RefreshingProvider<RoleCertificateSet> {
  if (!options?.zts || !options.identity) {
    throw new AthenzError('INVALID_ARGUMENT', 'roleCertificateProvider: zts and identity are required');
  }
  if (!Array.isArray(options.roles) || options.roles.length === 0) {
    throw new AthenzError('INVALID_ARGUMENT', 'roleCertificateProvider: roles must list at least one role');
  }
  const roles = options.roles.map(parseRoleRef);
  const logger = safeLogger(options.logger);

  async function one(id: X509Identity, r: (typeof roles)[number], signal: AbortSignal): Promise<RoleCertificate> {
    const csr = await buildRoleCsr({
      keys: { privateKey: id.privateKey, publicKey: id.publicKey },
      domain: id.domain,
      service: id.service,
      roleDomain: r.domain,
      role: r.role,
      provider: id.provider,
      instanceId: id.instanceId,
      emailDomain: options.csr?.emailDomain,
      spiffe: options.csr?.spiffe,
      subject: options.csr?.subject,
      crypto: options.crypto,
    });
    const res = await options.zts.roleCertificate(
      { csr: csr.pem, expiryTime: options.csr?.expiryMinutes ?? 0 },
      { keyPem: id.privateKeyPem, certPem: id.certificatePem },
      { signal },
    );
    const certificate = await parseCertificate(res.x509Certificate);
    const { names } = certificate;
    if (names.commonNames[0] !== r.name || !(await certificateMatchesKey(certificate, id.publicKey, options))) {
      throw new AthenzError('INVALID_RESPONSE', `ZTS returned a role certificate that is not ${r.name} for our key`);
    }
    await options.sink?.saveRoleCertificate?.(r.name, res.x509Certificate);
    return defineSecrets(
      {
        roleName: r.name,
        certificatePem: res.x509Certificate,
        certificate,
        privateKey: id.privateKey,
        privateKeyPem: id.privateKeyPem,
        ...(names.spiffeUris[0] ? { spiffeId: names.spiffeUris[0] } : {}),
        notBefore: certificate.notBefore,
        expiresAt: certificate.notAfter,
        identitySerial: id.serialNumber,
      },
      ['privateKeyPem'],
    );
  }

  return identityBoundProvider<RoleCertificateSet>({
    name: 'athenz role certificates',
    label: 'athenz role certificates',
    options,
    defaults: athenzRefreshDefaults.roleCertificates,
    logger,
    clock: options.clock ?? systemClock,
    fetch: async (id, signal) => {
      const certs = await Promise.all(roles.map((r) => one(id, r, signal)));
      const certificates = Object.fromEntries(certs.map((c) => [c.roleName, c]));
      const expiresAt = new Date(Math.min(...certs.map((c) => c.expiresAt.getTime())));
      logger.info(
        { roles: Object.keys(certificates), expiresAt: expiresAt.toISOString() },
        'athenz role certificates issued',
      );
      return { certificates, expiresAt, identitySerial: id.serialNumber };
    },
  });
}
