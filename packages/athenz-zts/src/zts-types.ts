/**
 * The ZTS v1 request and response bodies this SDK uses (field names as on the wire; PROTOCOLS.md §3).
 * @packageDocumentation
 */
import type { JWK } from 'jose';

/** Body of `POST /instance`. @public */
export interface InstanceRegisterInformation {
  provider: string;
  domain: string;
  service: string;
  /** The attestation JSON string (holds AWS credentials). */
  attestationData: string;
  /** PEM CSR. */
  csr: string;
  /** Requested lifetime in minutes; the server can only lower it. */
  expiryTime?: number;
  hostname?: string;
  hostCnames?: string[];
  athenzJWK?: boolean;
  athenzJWKModified?: string;
  namespace?: string;
  cloud?: string;
  token?: boolean;
}

/** Body of `POST /instance/{provider}/{domain}/{service}/{instanceId}`. @public */
export interface InstanceRefreshInformation {
  attestationData?: string;
  csr: string;
  expiryTime?: number;
  hostname?: string;
  hostCnames?: string[];
  athenzJWK?: boolean;
  athenzJWKModified?: string;
  namespace?: string;
  cloud?: string;
  token?: boolean;
}

/** ZTS's answer to register and refresh. @public */
export interface InstanceIdentity {
  provider: string;
  /** `<domain>.<service>`. */
  name: string;
  instanceId: string;
  x509Certificate?: string;
  /** The CA chain; may be null. */
  x509CertificateSigner?: string | null;
  serviceToken?: string;
  attributes?: Record<string, string>;
  athenzJWK?: unknown;
}

/** Path of an instance record. @public */
export interface InstanceRef {
  provider: string;
  domain: string;
  service: string;
  instanceId: string;
}

/** Body of `POST /rolecert`. @public */
export interface RoleCertificateRequest {
  csr: string;
  /** Minutes; 0 = server default. */
  expiryTime?: number | undefined;
  proxyForPrincipal?: string | undefined;
  prevCertNotBefore?: string | undefined;
  prevCertNotAfter?: string | undefined;
}

/** Answer of `POST /rolecert`. @public */
export interface RoleCertificateResponse {
  x509Certificate: string;
}

/** Answer of `POST /oauth2/token`. @public */
export interface AccessTokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  id_token?: string;
  refresh_token?: string;
}

/** Answer of `GET /oauth2/keys?rfc=true`. @public */
export interface JwkSet {
  keys: JWK[];
}

/** The error body ZTS sends (`ResourceError`). @public */
export interface ZtsErrorBody {
  code: number;
  message: string;
}
