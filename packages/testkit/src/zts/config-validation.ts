/**
 * Checks {@link ZtsOptions} before the fake starts, so a typo in a test's configuration fails loudly with the field
 * named, instead of as a puzzling 403 later.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';
import type { ZtsOptions } from './config.js';
import { isDomainName, isSimpleName } from './names.js';

function invalid(field: string, why: string): IdentityError {
  return new IdentityError('INVALID_ARGUMENT', `startZts: ${field} ${why}`);
}

const DNS_SUFFIX = /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

function checkSuffixes(field: string, value: readonly string[]): void {
  if (value.length === 0) throw invalid(field, 'is empty');
  value.forEach((s, i) => {
    if (!DNS_SUFFIX.test(s)) throw invalid(`${field}[${i}]`, `${JSON.stringify(s)} is not a DNS suffix`);
  });
}

function checkPositive(field: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw invalid(field, `must be a positive integer (got ${value})`);
  }
}

/** Throws an `INVALID_ARGUMENT` {@link IdentityError} naming the first bad field. @internal */
export function validateZtsOptions(opts: ZtsOptions): void {
  if (typeof opts !== 'object' || opts === null) throw invalid('options', 'must be an object');
  if (!Array.isArray(opts.providers)) throw invalid('providers', 'must be an array');
  if (!Array.isArray(opts.domains)) throw invalid('domains', 'must be an array');
  if (opts.dnsSuffix !== undefined) checkSuffixes('dnsSuffix', [opts.dnsSuffix].flat());
  if (opts.emailSuffixes !== undefined) checkSuffixes('emailSuffixes', opts.emailSuffixes);
  opts.providers.forEach((p, i) => {
    const name = typeof p === 'string' ? p : p?.name;
    if (typeof name !== 'string' || !isDomainName(name)) {
      throw invalid(`providers[${i}]`, `${JSON.stringify(name)} is not a ZTS service name`);
    }
    if (typeof p !== 'string' && p.dnsSuffixes !== undefined)
      checkSuffixes(`providers[${i}].dnsSuffixes`, p.dnsSuffixes);
    if (typeof p !== 'string' && p.hostnameSuffixes !== undefined)
      checkSuffixes(`providers[${i}].hostnameSuffixes`, p.hostnameSuffixes);
  });
  const providerNames = new Set(opts.providers.map((p) => (typeof p === 'string' ? p : p.name).toLowerCase()));
  opts.domains.forEach((d, i) => {
    const at = `domains[${i}]`;
    if (typeof d?.name !== 'string' || !isDomainName(d.name)) {
      throw invalid(`${at}.name`, `${JSON.stringify(d?.name)} is not a ZTS domain name`);
    }
    if (d.awsAccount !== undefined && !/^\d{12}$/.test(d.awsAccount)) {
      throw invalid(`${at}.awsAccount`, `must be 12 digits (got ${JSON.stringify(d.awsAccount)})`);
    }
    if (!Array.isArray(d.services)) throw invalid(`${at}.services`, 'must be an array');
    d.services.forEach((s, j) => {
      const name = typeof s === 'string' ? s : s?.name;
      if (typeof name !== 'string' || !isSimpleName(name)) {
        throw invalid(`${at}.services[${j}]`, `${JSON.stringify(name)} is not a ZTS service name`);
      }
      if (typeof s !== 'string') {
        for (const p of s.providers ?? []) {
          if (!providerNames.has(p.toLowerCase())) {
            throw invalid(`${at}.services[${j}].providers`, `names ${JSON.stringify(p)}, which is not in providers`);
          }
        }
      }
    });
    for (const role of Object.keys(d.roles ?? {})) {
      if (!isDomainName(role)) throw invalid(`${at}.roles`, `has ${JSON.stringify(role)}, not a ZTS role name`);
    }
  });
  checkPositive('certLifetimeMinutes', opts.certLifetimeMinutes);
  checkPositive('roleCertLifetimeMinutes', opts.roleCertLifetimeMinutes);
  checkPositive('accessTokenDefaultSeconds', opts.accessTokenDefaultSeconds);
  checkPositive('accessTokenMaxSeconds', opts.accessTokenMaxSeconds);
  checkPositive('idTokenMaxSeconds', opts.idTokenMaxSeconds);
  if (opts.caKeyAlgorithm !== undefined && opts.caKeyAlgorithm !== 'P-256' && opts.caKeyAlgorithm !== 'RSA') {
    throw invalid('caKeyAlgorithm', `must be 'P-256' or 'RSA' (got ${JSON.stringify(opts.caKeyAlgorithm)})`);
  }
  if (opts.partition !== undefined) {
    const list = [opts.partition].flat();
    if (list.length === 0) throw invalid('partition', 'is empty');
    for (const p of list) {
      if (typeof p !== 'string' || !/^[a-z][a-z0-9-]*$/.test(p)) {
        throw invalid('partition', `${JSON.stringify(p)} is not an ARN partition (aws, aws-cn, aws-us-gov, ...)`);
      }
    }
  }
  if (opts.aws !== undefined && !/^https?:\/\//.test(opts.aws.url ?? '')) {
    throw invalid('aws.url', 'must be an http(s) URL');
  }
}
