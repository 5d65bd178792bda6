// The Athenz server's own test CSRs (fixtures/athenz-csr, see its MANIFEST.md) through the fake ZTS's validation,
// with the verdicts the Athenz unit tests expect. Pure functions: no server, no signature checks (512-bit keys).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import {
  type RoleCsrExpectations,
  type ServiceCsrExpectations,
  validateRoleCsr,
  validateServiceCsr,
} from '../src/index.js';
import {
  certificateInstanceId,
  parseCsr,
  parseRoleCsr,
  providerSanDnsValid,
  roleCsrFailures,
  serviceCsrFailures,
} from '../src/zts/csr-rules.js';

const fixture = (path: string) => readFileSync(new URL(`./fixtures/athenz-csr/${path}`, import.meta.url), 'utf8');

// The configuration the Athenz tests run with: provider suffix ostk.athenz.cloud, O "Athenz", OU "Testing Domain".
const production: ServiceCsrExpectations = {
  domain: 'athenz',
  service: 'production',
  provider: 'athenz.provider',
  providerDnsSuffixes: ['ostk.athenz.cloud'],
  validSubjectO: ['Athenz'],
  validSubjectOU: ['Testing Domain'],
};

function rules(path: string, exp: ServiceCsrExpectations = production): string[] {
  return serviceCsrFailures(parseCsr(fixture(path)), exp).failures.map((f) => f.rule);
}

describe('Athenz service CSR fixtures', () => {
  it.each([
    'zts/athenz.instanceid.csr',
    'zts/spiffe_service.csr',
    'zts/spiffe_short_service.csr',
    'zts/spiffe_invalid_scheme.csr', // a non-spiffe URI is only logged unless URI enforcement is on
    'zts/athenz.instanceid.restricted.csr', // ":restricted" is stripped from the OU before comparing
  ])('%s is valid for athenz.production', (path) => {
    const v = validateServiceCsr(fixture(path), production);
    expect(v).toMatchObject({ ok: true });
    expect(rules(path)).toEqual([]);
  });

  it('athenz.instanceid.csr: instance id 1001 from the DNS form', () => {
    expect(parseCsr(fixture('zts/athenz.instanceid.csr')).instanceId).toBe('1001');
  });

  it('athenz.instanceid.uri.csr: the URI instance id wins, valid for athenz.api', () => {
    const csr = parseCsr(fixture('zts/athenz.instanceid.uri.csr'));
    expect(csr.instanceId).toBe('id-001');
    const exp = { ...production, service: 'api' };
    expect(serviceCsrFailures(csr, exp).failures).toEqual([]);
    // the AWS provider would refuse it: "production.athenz..." does not carry the service label "api"
    const { providerDnsNames } = serviceCsrFailures(csr, exp);
    expect(providerSanDnsValid(providerDnsNames, csr.uris, 'athenz', 'api', ['ostk.athenz.cloud'])).toBe(false);
  });

  it('athenz.instanceid.uri.csr: a CNAME list needs a hostname, and a resolver the fake does not have', () => {
    const exp = { ...production, service: 'api' };
    expect(
      validateServiceCsr(fixture('zts/athenz.instanceid.uri.csr'), { ...exp, hostCnames: ['a.ostk.athenz.cloud'] }),
    ).toMatchObject({
      ok: false,
      message: 'CSR validation failed - Instance Host CNAME list provided without Hostname',
    });
  });

  it.each([
    ['zts/spiffe_service_mismatch.csr'],
    ['zts/spiffe_service_short_mismatch_domain.csr'],
    ['zts/spiffe_service_short_mismatch_service.csr'],
    ['zts/spiffe_invalid_exc.csr'],
    ['zts/spiffe_invalid_uri.csr'],
  ])('%s is invalid (SPIFFE URI)', (path) => {
    expect(rules(path)).toEqual(['spiffe']);
    expect(validateServiceCsr(fixture(path), production)).toEqual({
      ok: false,
      status: 400,
      message: 'CSR validation failed - Unable to validate Service SPIFFE URI',
    });
  });

  it('athenz.mismatch.cn.csr is invalid (CN)', () => {
    expect(rules('zts/athenz.mismatch.cn.csr')).toEqual(['cn']);
    expect(validateServiceCsr(fixture('zts/athenz.mismatch.cn.csr'), production)).toMatchObject({
      ok: false,
      message: 'CSR validation failed - Unable to validate CSR common name',
    });
  });

  it('athenz.mismatch.dns.csr is invalid (DNS), naming the first failing name as ZTS does', () => {
    expect(validateServiceCsr(fixture('zts/athenz.mismatch.dns.csr'), production)).toEqual({
      ok: false,
      status: 400,
      message:
        'CSR validation failed - 1001.instanceid.athenz.ostk2.athenz.cloud does not end with provider/service configured suffix or hostname',
    });
    // X509ServiceCertRequestTest.testValidateDnsSuffixMismatch: suffix list ["zts.athenz.cloud"]
    expect(
      validateServiceCsr(fixture('zts/athenz.mismatch.dns.csr'), {
        ...production,
        providerDnsSuffixes: ['zts.athenz.cloud'],
      }),
    ).toMatchObject({
      ok: false,
      message:
        'CSR validation failed - production.athenz.ostk.athenz.cloud does not end with provider/service configured suffix or hostname',
    });
  });

  it('sia-util/cert.pem (a ZTS-issued EC2 cert): instance id from the DNS form', () => {
    const cert = new x509.X509Certificate(fixture('sia-util/cert.pem'));
    expect(certificateInstanceId(cert)).toBe('i-03d1ae7035f931a90');
  });

  it('athenz.instanceid.pem vs athenz.mismatch.dns.csr: different instance-id DNS names, same id', () => {
    const cert = new x509.X509Certificate(fixture('zts/athenz.instanceid.pem'));
    expect(certificateInstanceId(cert)).toBe('1001');
  });

  it.each([
    [
      'zts/multiple_cn.csr',
      'unable to parse PKCS10 CSR: Unable to extract CN from CSR:Subject contains multiple values',
    ],
    ['zts/multiple_uri.csr', 'unable to parse PKCS10 CSR: Invalid SPIFFE URI present in CSR'],
    ['auth_core/valid_multiple_uri.csr', 'unable to parse PKCS10 CSR: Invalid SPIFFE URI present in CSR'],
  ])('%s is invalid when parsed', (path, message) => {
    expect(validateServiceCsr(fixture(path), production)).toEqual({ ok: false, status: 400, message });
    expect(() => parseCsr(fixture(path))).toThrow(message.replace('unable to parse PKCS10 CSR: ', ''));
    // the refresh endpoint drops the detail
    expect(validateServiceCsr(fixture(path), { ...production, refreshInstanceId: '1001' })).toMatchObject({
      message: 'unable to parse PKCS10 CSR',
    });
  });

  it('multiple_org.csr is invalid (O); valid_cn_only.csr passes the O rule (absent O)', () => {
    const exp = { ...production, domain: 'domain', service: 'service1' };
    expect(rules('zts/multiple_org.csr', exp)).toContain('o');
    expect(rules('zts/valid_cn_only.csr', exp)).not.toContain('o');
    // neither carries an instance id, which the register endpoint requires first
    expect(validateServiceCsr(fixture('zts/valid_cn_only.csr'), exp)).toMatchObject({
      ok: false,
      message: 'CSR validation failed - InstanceId cannot be empty',
    });
  });

  it('athenz.multiple_ou.csr is invalid (OU) whichever single value is allowed', () => {
    for (const ou of ['Athenz', 'Yahoo']) {
      expect(rules('zts/athenz.multiple_ou.csr', { ...production, validSubjectOU: [ou] })).toEqual(['ou']);
    }
    expect(validateServiceCsr(fixture('zts/athenz.multiple_ou.csr'), production)).toEqual({
      ok: false,
      status: 400,
      message: 'CSR Subject OrgUnit validation failed',
    });
  });

  it('athenz.cert_ou.csr is valid only when its OU is allowed', () => {
    expect(rules('zts/athenz.cert_ou.csr', { ...production, validSubjectOU: [] })).toEqual(['ou']);
    expect(rules('zts/athenz.cert_ou.csr', { ...production, validSubjectOU: ['Athenz'] })).toEqual([]);
  });

  it('valid_provider_refresh.csr refreshes valid_provider_refresh.pem; a different URL id fails', () => {
    const cert = new x509.X509Certificate(fixture('zts/valid_provider_refresh.pem'));
    const exp: ServiceCsrExpectations = {
      ...production,
      service: 'syncer',
      providerDnsSuffixes: ['zts.athenz.cloud'],
      refreshInstanceId: 'v0.syncer.athenz',
      currentCertInstanceId: certificateInstanceId(cert) ?? '',
    };
    expect(certificateInstanceId(cert)).toBe('v0.syncer.athenz');
    expect(rules('zts/valid_provider_refresh.csr', exp)).toEqual([]);
    expect(validateServiceCsr(fixture('zts/valid_provider_refresh.csr'), { ...exp, refreshInstanceId: 'v1' })).toEqual({
      ok: false,
      status: 400,
      message: 'CSR validation failed - instance id mismatch',
    });
  });

  it('spiffe-namespace.csr: the trust-domain form is valid for namespace default (or none), not "test"', () => {
    const exp = { ...production, providerDnsSuffixes: ['zts.athenz.io'] };
    // no instance id in this CSR (the Athenz test checks the SPIFFE rule alone)
    expect(rules('zts/spiffe-namespace.csr', exp)).toEqual(['instanceId']);
    expect(rules('zts/spiffe-namespace.csr', { ...exp, namespace: 'default' })).toEqual(['instanceId']);
    expect(rules('zts/spiffe-namespace.csr', { ...exp, namespace: 'test' })).toEqual(['instanceId', 'spiffe']);
  });

  it('auth_core/valid_single_uri.csr: URIs extracted in SAN order', () => {
    expect(parseCsr(fixture('auth_core/valid_single_uri.csr')).uris).toEqual(['spiffe://athenz/domain1/service1']);
  });
});

describe('Athenz role CSR fixtures', () => {
  const roleExp = (principal: string): RoleCsrExpectations => ({
    principal,
    emailSuffixes: ['zts.athenz.cloud'],
    validSubjectO: ['Athenz'],
    certSubjectOU: 'Testing Domain',
  });

  it.each([
    ['zts/athenz_role_principal_uri.csr', 'athenz.production', 'user-domain', 'readers'],
    ['zts/athenz_role_principal_uri_email.csr', 'athenz.production', 'user-domain', 'readers'],
    ['zts/spiffe_role_trust_domain.csr', 'coretech.backend', 'coretech', 'api'],
    ['zts/spiffe_role.csr', 'sports.api', 'coretech', 'api'],
  ])('%s is valid for %s', (path, principal, roleDomain, role) => {
    const v = validateRoleCsr(fixture(path), roleExp(principal));
    expect(v.ok).toBe(true);
    expect(v.ok && { roleDomain: v.value.roleDomain, role: v.value.role }).toEqual({ roleDomain, role });
  });

  it('athenz_role_principal_uri.csr is invalid for another principal', () => {
    expect(roleCsrFailures(parseRoleCsr(fixture('zts/athenz_role_principal_uri.csr')), roleExp('athenz.api'))).toEqual([
      'principal',
    ]);
    expect(validateRoleCsr(fixture('zts/athenz_role_principal_uri.csr'), roleExp('athenz.api'))).toEqual({
      ok: false,
      status: 400,
      message: 'Unable to validate cert request',
    });
  });

  it('athenz_role_principal_uri_email_mismatch.csr is invalid (email names another principal)', () => {
    const parsed = parseRoleCsr(fixture('zts/athenz_role_principal_uri_email_mismatch.csr'));
    expect(roleCsrFailures(parsed, roleExp('athenz.production'))).toEqual(['principal']);
  });

  it('an email outside the allowed suffixes is invalid', () => {
    const parsed = parseRoleCsr(fixture('zts/athenz_role_principal_uri_email.csr'));
    expect(roleCsrFailures(parsed, { ...roleExp('athenz.production'), emailSuffixes: ['other.cloud'] })).toEqual([
      'principal',
    ]);
  });

  it('spiffe_role.csr names coretech:role.api: its SPIFFE URI does not fit another role', () => {
    const parsed = parseRoleCsr(fixture('zts/spiffe_role.csr'));
    expect(roleCsrFailures({ ...parsed, role: 'backend' }, roleExp('sports.api'))).toEqual(['spiffe']);
  });

  it('a service CSR is not a role CSR', () => {
    expect(validateRoleCsr(fixture('zts/athenz.instanceid.csr'), roleExp('athenz.production'))).toEqual({
      ok: false,
      status: 400,
      message: 'Unable to parse PKCS10 CSR: Role Certificate CN is not a valid role: athenz.production',
    });
  });
});
