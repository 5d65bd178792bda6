// Every public parser of this package on hostile input: only IdentityError may come out. Server answers (ACL tokens,
// Consul's error texts, STS XML) reach the parsers through core's real transport, fed by an injected fetch.
import { consulAclClient } from '@ecs-identity/consul-login';
import { createHttpClient } from '@ecs-identity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesText,
  fuzz,
  fuzzAsync,
  hostileText,
  jsonText,
  jsonValue,
  mutated,
  recordOf,
  reportFuzzCounts,
} from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { getCallerIdentity } from '../src/caller-identity.js';
import { canonicalHeaderKey } from '../src/canonical-header.js';
import { consulAddress } from '../src/consul-address.js';
import { parseConsulToken } from '../src/consul-token.js';
import { entityFromArn } from '../src/iam-entity.js';
import { parseXml } from '../src/xml.js';

reportFuzzCounts('consul-login');

const TOKEN_FIELDS = [
  'AccessorID',
  'SecretID',
  'Description',
  'Policies',
  'Roles',
  'ServiceIdentities',
  'Local',
  'AuthMethod',
  'ExpirationTime',
  'CreateTime',
  'Namespace',
  'Partition',
] as const;
const validToken = {
  AccessorID: '6a1253d2-1785-24fd-91c2-f8e78c745511',
  SecretID: '45a3bd52-07c7-47a4-52fd-0745e0cfe967',
  ServiceIdentities: [{ ServiceName: 'api', Datacenters: ['dc1'] }],
  ExpirationTime: '2099-01-01T00:00:00Z',
  CreateTime: '2026-01-01T00:00:00Z',
};
const tokenDocument = fc.oneof(
  jsonValue(),
  recordOf(TOKEN_FIELDS),
  recordOf(TOKEN_FIELDS).map((over) => ({ ...validToken, ...over })),
);

/** An HttpClient on core's transport whose "network" answers `status` and `body`. */
function answering(status: number, body: string) {
  return createHttpClient({
    fetch: (async () =>
      new Response(body, { status, headers: { 'content-type': 'application/json' } })) as typeof fetch,
  });
}
const status = fc.oneof(
  fc.constantFrom(200, 201, 400, 401, 403, 404, 429, 500, 503),
  fc.integer({ min: 200, max: 599 }),
);
const answerBody = fc.oneof(
  jsonText(),
  tokenDocument.map((d) => JSON.stringify(d)),
  mutated(JSON.stringify(validToken), 5),
  hostileText(),
  fc.constantFrom('ACL not found', 'rpc error making call: Permission denied', 'ACL support disabled'),
  hostileText().map((t) => `rpc error making call: ${t}`),
);

describe('Consul answers', () => {
  it('parseXml (the AWS XML answers) on any text', async () => {
    const xml = fc.oneof(
      hostileText(),
      bytesText(),
      mutated(
        '<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>',
        5,
      ),
    );
    expect(await fuzzAsync('parseXml', xml, (t) => parseXml(t), 8000)).toBe(scaled(8000));
  });

  it('parseConsulToken on any value', () => {
    expect(fuzz('parseConsulToken', tokenDocument, (d) => parseConsulToken(d), 10_000)).toBe(scaled(10_000));
  });

  it('login, self-read and logout answers of any status and body', async () => {
    const answer = fc.tuple(status, answerBody);
    const call =
      (which: 'login' | 'readSelf' | 'logout') =>
      async ([s, body]: [number, string]) => {
        const acl = consulAclClient({ address: 'http://127.0.0.1:8500', http: answering(s, body) });
        if (which === 'login') await acl.login({ authMethod: 'iam-ecs-service-token', bearerToken: '{}' });
        else if (which === 'readSelf') await acl.readSelf('45a3bd52-07c7-47a4-52fd-0745e0cfe967', { stale: true });
        else await acl.logout('45a3bd52-07c7-47a4-52fd-0745e0cfe967');
      };
    const n =
      (await fuzzAsync('acl.login answers', answer, call('login'), 2500)) +
      (await fuzzAsync('acl.readSelf answers', answer, call('readSelf'), 2500)) +
      (await fuzzAsync('acl.logout answers', answer, call('logout'), 1500));
    expect(n).toBe(scaled(6500));
  });
});

const GCI_OK =
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
  '<Arn>arn:aws:sts::123456789012:assumed-role/sports.api-service/task</Arn><UserId>AROAEXAMPLE:task</UserId>' +
  '<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>';
const AWS_ERROR =
  '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
  '<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>' +
  '<RequestId>1</RequestId></ErrorResponse>';

describe('STS answers', () => {
  it('getCallerIdentity on any XML-ish answer', async () => {
    const xml = fc.oneof(
      mutated(GCI_OK, 6),
      mutated(AWS_ERROR, 6),
      hostileText(),
      bytesText(),
      fc
        .tuple(hostileText(30), hostileText(30), hostileText(30))
        .map(([a, u, acct]) =>
          GCI_OK.replace('arn:aws:sts::123456789012:assumed-role/sports.api-service/task', a)
            .replace('AROAEXAMPLE:task', u)
            .replace('<Account>123456789012', `<Account>${acct}`),
        ),
    );
    const n = await fuzzAsync(
      'getCallerIdentity answers',
      fc.tuple(status, xml),
      ([s, body]) =>
        getCallerIdentity({
          credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret-key-0123456789', sessionToken: 'tok' },
          endpoint: { url: 'https://sts.us-west-2.amazonaws.com/', region: 'us-west-2' },
          http: answering(s, body),
          signingDate: new Date('2026-01-01T00:00:00Z'),
        }),
      3000,
    );
    expect(n).toBe(scaled(3000));
  });
});

describe('names and addresses', () => {
  it('consulAddress, entityFromArn, canonicalHeaderKey', () => {
    const env = fc.record(
      {
        CONSUL_HTTP_ADDR: fc.oneof(hostileText(), mutated('consul.service:8501', 3)),
        CONSUL_HTTP_SSL: hostileText(10),
      },
      { requiredKeys: [] },
    );
    const n =
      fuzz(
        'consulAddress',
        fc.tuple(
          fc.option(fc.oneof(hostileText(), mutated('https://consul.example:8501', 4)), { nil: undefined }),
          env,
        ),
        ([address, e]) => consulAddress(address, e),
        10_000,
      ) +
      fuzz(
        'entityFromArn',
        fc.oneof(
          hostileText(),
          mutated('arn:aws:sts::123456789012:assumed-role/sports.api-service/session', 4),
          mutated('arn:aws:iam::123456789012:user/path/alice', 4),
        ),
        (arn) => entityFromArn(arn),
        10_000,
      ) +
      fuzz('canonicalHeaderKey', hostileText(), (k) => canonicalHeaderKey(k), 5000);
    expect(n).toBe(scaled(25_000));
  });
});
