// "The builders never produce a CSR the server would reject": whatever valid names they are given, the service and
// role CSRs pass the testkit ZTS's CSR rules (the same functions its HTTPS handlers run).
import { buildRoleCsr, buildServiceCsr, generateKeyPair, type SpiffeOptions } from '@ecs-identity/athenz-zts';
import { validateRoleCsr, validateServiceCsr } from '@ecs-identity/testkit';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { spiffeNamespace } from '../src/csr.js';

let keys: CryptoKeyPair;
beforeAll(async () => {
  keys = await generateKeyPair({ type: 'ec' });
});

const label = fc.stringMatching(/^[a-z0-9_][a-z0-9_-]{0,10}$/);
// domains and roles are dotted names; a service is a SimpleName
const name = fc.array(label, { minLength: 1, maxLength: 3 }).map((p) => p.join('.'));
const instanceId = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._~=+@$,:-]{0,35}$/);
const suffix = fc.constantFrom('aws.athenz.cloud', 'us-west-2.aws.example.com', 'athenz.io');
const PROVIDER = 'athenz.aws-ecs.us-west-2';

it('service CSRs pass the server rules (basic and trust-domain SPIFFE with the namespace sent, wildcard, several suffixes)', async () => {
  await fc.assert(
    fc.asyncProperty(
      name,
      label,
      instanceId,
      fc.uniqueArray(suffix, { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      fc.constantFrom<'basic' | 'trust-domain' | 'none'>('basic', 'trust-domain', 'none'),
      fc.option(label, { nil: undefined }),
      async (domain, service, id, dnsSuffixes, wildcard, spiffeForm, ns) => {
        const spiffe: SpiffeOptions | false =
          spiffeForm === 'none'
            ? false
            : spiffeForm === 'trust-domain'
              ? { trustDomain: 'athenz.io', ...(ns === undefined ? {} : { namespace: ns }) }
              : {};
        const { pem } = await buildServiceCsr({
          keys,
          domain,
          service,
          provider: PROVIDER,
          instanceId: id,
          dnsSuffixes,
          wildcard,
          spiffe,
        });
        // the namespace the identity provider sends with this CSR (register and refresh)
        const namespace = spiffeNamespace(spiffe);
        const verdict = validateServiceCsr(pem, {
          domain,
          service,
          provider: PROVIDER,
          providerDnsSuffixes: dnsSuffixes,
          ...(namespace === undefined ? {} : { namespace }),
        });
        expect(verdict).toMatchObject({ ok: true });
        if (verdict.ok) expect(verdict.value.instanceId).toBe(id);
        // and on refresh, with the same instance id in the URL and the current certificate
        const refresh = validateServiceCsr(pem, {
          domain,
          service,
          provider: PROVIDER,
          providerDnsSuffixes: dnsSuffixes,
          ...(namespace === undefined ? {} : { namespace }),
          refreshInstanceId: id,
          currentCertInstanceId: id,
        });
        expect(refresh.ok).toBe(true);
      },
    ),
    { numRuns: 40 },
  );
});

it('the server rejects what our builders refuse to make: a CSR for another service or instance', async () => {
  const { pem } = await buildServiceCsr({
    keys,
    domain: 'sports',
    service: 'api',
    provider: PROVIDER,
    instanceId: 'task-1',
    dnsSuffixes: ['aws.athenz.cloud'],
  });
  const base = { domain: 'sports', service: 'api', provider: PROVIDER, providerDnsSuffixes: ['aws.athenz.cloud'] };
  expect(validateServiceCsr(pem, { ...base, service: 'web' }).ok).toBe(false);
  expect(validateServiceCsr(pem, { ...base, providerDnsSuffixes: ['other.cloud'] }).ok).toBe(false);
  expect(validateServiceCsr(pem, { ...base, refreshInstanceId: 'task-2', currentCertInstanceId: 'task-2' }).ok).toBe(
    false,
  );
});

it('role CSRs pass the server rules for the principal that asks (with and without email)', async () => {
  await fc.assert(
    fc.asyncProperty(
      name,
      label,
      name,
      name,
      instanceId,
      fc.boolean(),
      async (domain, service, roleDomain, role, id, email) => {
        const { pem } = await buildRoleCsr({
          keys,
          domain,
          service,
          roleDomain,
          role,
          provider: PROVIDER,
          instanceId: id,
          ...(email ? { emailDomain: 'zts.athenz.cloud' } : {}),
        });
        const verdict = validateRoleCsr(pem, {
          principal: `${domain}.${service}`,
          emailSuffixes: ['zts.athenz.cloud'],
          certSubjectOU: PROVIDER,
          certInstanceId: id,
        });
        expect(verdict).toMatchObject({ ok: true });
        if (verdict.ok) expect([verdict.value.roleDomain, verdict.value.role]).toEqual([roleDomain, role]);
        // another principal may not use it
        expect(
          validateRoleCsr(pem, {
            principal: 'other.svc',
            emailSuffixes: ['zts.athenz.cloud'],
            certSubjectOU: PROVIDER,
            certInstanceId: id,
          }).ok,
        ).toBe(false);
      },
    ),
    { numRuns: 40 },
  );
});
