import { goDuration } from './go-compat.js';

/**
 * The `Config` of a Consul `aws-iam` auth method, with Consul's own field names.
 * @public
 */
export interface AwsIamAuthMethodConfig {
  /** Trusted principal ARNs; a single trailing `*` is allowed with `EnableIAMEntityDetails`. */
  BoundIAMPrincipalARNs: string[];
  /** Require and use the embedded `iam:GetRole` / `iam:GetUser` request (path, tags). */
  EnableIAMEntityDetails?: boolean;
  /** Tags of the IAM entity exposed to binding rules as `entity_tags.<tag>`. */
  IAMEntityTags?: string[];
  /** Required value of the signed `X-Consul-IAM-ServerID` header on both requests. */
  ServerIDHeaderValue?: string;
  /** Retries of the AWS calls on 429 / 5xx / connection errors. Default 0. */
  MaxRetries?: number;
  /** Where the IAM request is sent (its Host header is kept); lifts the `iam.*.amazonaws.com` host rule. */
  IAMEndpoint?: string;
  /** Where the STS request is sent (its Host header is kept); lifts the `sts.*.amazonaws.com` host rule. */
  STSEndpoint?: string;
  STSRegion?: string;
  /** Extra `X-Amz-*` headers allowed on the STS request. */
  AllowedSTSHeaderValues?: string[];
}

/** @public */
export interface AuthMethodSpec {
  name: string;
  /** Only `aws-iam` is emulated. */
  type?: 'aws-iam';
  config: AwsIamAuthMethodConfig;
  /** Tokens from this method expire after this long (Consul's `MaxTokenTTL`, 1m..24h). */
  maxTokenTtlMs?: number;
  /** `local` (default) or `global`. */
  tokenLocality?: 'local' | 'global';
}

/** Consul's `ACLTokenMinExpirationTTL` / `ACLTokenMaxExpirationTTL` defaults. */
const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 24 * 3_600_000;

function checkUrl(url: string, field: string): void {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (u === undefined || u.protocol === '' || u.host === '') {
    throw new TypeError(`Invalid Auth Method: ${field} is invalid: url is invalid: ${JSON.stringify(url)}`);
  }
}

/** Consul's (and consul-awsauth's) checks when an auth method is written, with their messages. */
export function validateAuthMethod(spec: AuthMethodSpec): void {
  const c = spec.config;
  if (spec.type !== undefined && spec.type !== 'aws-iam') {
    throw new TypeError(`auth method ${spec.name}: only the aws-iam type is emulated`);
  }
  if (!Array.isArray(c.BoundIAMPrincipalARNs) || c.BoundIAMPrincipalARNs.length === 0) {
    throw new TypeError('Invalid Auth Method: BoundIAMPrincipalARNs is required and must have at least 1 entry');
  }
  for (const arn of c.BoundIAMPrincipalARNs) {
    const stars = arn.split('*').length - 1;
    if (stars > 0) {
      if (!c.EnableIAMEntityDetails) {
        throw new TypeError(
          'Invalid Auth Method: Must set EnableIAMEntityDetails=true to use wildcards in BoundIAMPrincipalARNs',
        );
      }
      if (stars !== 1 || !arn.endsWith('*')) {
        throw new TypeError(
          'Invalid Auth Method: Only one wildcard is allowed at the end of the bound IAM principal ARN',
        );
      }
    }
    const parts = arn.split(':');
    if (parts.length < 6 || parts[0] !== 'arn' || (parts[2] !== 'iam' && parts[2] !== 'sts')) {
      throw new TypeError(`Invalid Auth Method: Invalid principal ARN: ${JSON.stringify(arn)}`);
    }
  }
  if ((c.IAMEntityTags?.length ?? 0) > 0 && !c.EnableIAMEntityDetails) {
    throw new TypeError('Invalid Auth Method: Must set EnableIAMEntityDetails=true to use IAMEntityTags');
  }
  if (c.STSEndpoint) checkUrl(c.STSEndpoint, 'STSEndpoint');
  if (c.IAMEndpoint) checkUrl(c.IAMEndpoint, 'IAMEndpoint');
  const ttl = spec.maxTokenTtlMs;
  if (ttl !== undefined && ttl !== 0) {
    if (ttl > MAX_TTL_MS) {
      throw new TypeError(`MaxTokenTTL ${goDuration(ttl)} cannot be more than ${goDuration(MAX_TTL_MS)}`);
    }
    if (ttl < MIN_TTL_MS) {
      throw new TypeError(`MaxTokenTTL ${goDuration(ttl)} cannot be less than ${goDuration(MIN_TTL_MS)}`);
    }
  }
}
