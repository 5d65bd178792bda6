/**
 * Default STS and IAM endpoints for a region, per AWS partition.
 * @packageDocumentation
 */
import { ConsulError } from './errors.js';

/** Where a signed request goes and the region it is signed for. @public */
export interface SigningEndpoint {
  /** Absolute URL with a path (`https://sts.us-west-2.amazonaws.com/`); never a query string. */
  url: string;
  /** SigV4 signing region. */
  region: string;
}

// us-west-2, cn-north-1, us-gov-west-1, us-isob-east-1, eu-isoe-west-1...
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]+$/;

type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  // The isolated and sovereign partitions use other DNS suffixes we cannot guess safely.
  if (/^[a-z]+-iso[a-z]*-/.test(region) || region.startsWith('eusc-')) {
    throw new ConsulError(
      'INVALID_ARGUMENT',
      `region ${JSON.stringify(region)} is in a partition without built-in endpoints: pass stsEndpoint and iamEndpoint`,
    );
  }
  return 'aws';
}

/** Throws INVALID_ARGUMENT naming `field` unless `region` looks like an AWS region. @internal */
export function checkRegion(region: unknown, field: string): string {
  if (typeof region !== 'string' || !REGION.test(region)) {
    const shown = typeof region === 'string' ? JSON.stringify(region.slice(0, 40)) : typeof region;
    throw new ConsulError('INVALID_ARGUMENT', `${field} must be an AWS region like "us-west-2", got ${shown}`);
  }
  return region;
}

/**
 * The regional STS host (`sts.<region>.amazonaws.com`, `.amazonaws.com.cn` in China) of a region that already passed
 * `checkRegion`. Throws INVALID_ARGUMENT in partitions without built-in endpoints.
 * @internal
 */
export function defaultStsHost(region: string): string {
  return `sts.${region}.${partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** IAM is global per partition: one host and one signing region each. */
const IAM_HOSTS: Readonly<Record<Partition, { readonly host: string; readonly region: string }>> = {
  aws: { host: 'iam.amazonaws.com', region: 'us-east-1' },
  'aws-cn': { host: 'iam.cn-north-1.amazonaws.com.cn', region: 'cn-north-1' },
  'aws-us-gov': { host: 'iam.us-gov.amazonaws.com', region: 'us-gov-west-1' },
};

/**
 * The IAM host and signing region of the partition of a region that already passed `checkRegion`. Throws
 * INVALID_ARGUMENT in partitions without built-in endpoints.
 * @internal
 */
export function defaultIamHost(region: string): { readonly host: string; readonly region: string } {
  return IAM_HOSTS[partitionOf(region)];
}

/**
 * The regional STS endpoint (`https://sts.<region>.amazonaws.com/`, `.amazonaws.com.cn` in China), signed for
 * `region`.
 * @public
 */
export function defaultStsEndpoint(region: string): SigningEndpoint {
  checkRegion(region, 'region');
  return { url: `https://${defaultStsHost(region)}/`, region };
}

/**
 * The IAM endpoint of the region's partition. IAM is global per partition: `https://iam.amazonaws.com/` signed for
 * us-east-1 in `aws` (what the Go SDK signs the embedded GetRole for), and the partition's own host elsewhere.
 * @public
 */
export function defaultIamEndpoint(region: string): SigningEndpoint {
  checkRegion(region, 'region');
  const iam = defaultIamHost(region);
  return { url: `https://${iam.host}/`, region: iam.region };
}

/**
 * Checks a caller-given endpoint URL: http(s), a host, no userinfo, query string or fragment (the Consul server
 * rejects a token URL with a query). A bare origin gets the path `/`.
 * @internal
 */
export function checkEndpointUrl(value: unknown, field: string): URL {
  let url: URL;
  try {
    if (typeof value !== 'string' && !(value instanceof URL)) throw new TypeError('not a string');
    url = new URL(String(value));
  } catch {
    throw new ConsulError('INVALID_ARGUMENT', `${field} must be an absolute http(s) URL`);
  }
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConsulError('INVALID_ARGUMENT', `${field} ${shown} must use https (or http for a local test server)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConsulError('INVALID_ARGUMENT', `${field} ${shown} must not contain a user name or password`);
  }
  if (url.search !== '' || String(value).includes('?')) {
    throw new ConsulError('INVALID_ARGUMENT', `${field} ${shown} must not have a query string (the server rejects it)`);
  }
  if (url.hash !== '' || String(value).includes('#')) {
    throw new ConsulError('INVALID_ARGUMENT', `${field} ${shown} must not have a fragment`);
  }
  return url;
}
