// The fake Consul's bearer-token parser (consul-awsauth's token.go rules) on hostile tokens: it may only refuse with
// TokenRejected (the validator's own error, which the fake answers with as Consul does), never with anything else.
import { buildBearerToken } from '@ecs-identity/consul-login';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzz, hostileText, jsonText, mutated, reportFuzzCounts } from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { parseBearerToken, TokenRejected } from '../src/consul/bearer-token.js';
import type { AwsIamAuthMethodConfig } from '../src/index.js';

reportFuzzCounts('testkit');

let valid: string;
beforeAll(async () => {
  valid = await buildBearerToken({
    credentials: {
      accessKeyId: 'ASIAEXAMPLEEXAMPLE00',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
      roleArn: 'arn:aws:iam::123456789012:role/ecs/sports.api-service',
    },
    region: 'us-west-2',
    serverIdHeaderValue: 'consul.dc1.example',
    signingDate: new Date('2026-01-01T00:00:00Z'),
  });
});

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const headerJson = fc
  .dictionary(
    fc.oneof(
      hostileText(20),
      fc.constantFrom(
        'Authorization',
        'X-Amz-Date',
        'X-Amz-Security-Token',
        'X-Consul-Iam-Getentity-Method',
        'X-Consul-Iam-Getentity-Url',
        'X-Consul-Iam-Getentity-Headers',
        'X-Consul-Iam-Getentity-Body',
        'X-Consul-Iam-Serverid',
      ),
    ),
    fc.oneof(fc.array(hostileText(40), { maxLength: 2 }), hostileText(20), fc.jsonValue({ maxDepth: 2 })),
    { maxKeys: 6 },
  )
  .map((h) => JSON.stringify(h));
const tokenObject = fc
  .record(
    {
      iam_http_request_method: fc.oneof(fc.constant('POST'), hostileText(8)),
      iam_request_url: fc.oneof(hostileText(40), mutated('https://sts.us-west-2.amazonaws.com/', 3)).map(b64),
      iam_request_headers: fc.oneof(headerJson, jsonText()).map(b64),
      iam_request_body: fc.oneof(hostileText(40), mutated('Action=GetCallerIdentity&Version=2011-06-15', 3)).map(b64),
    },
    { requiredKeys: [] },
  )
  .map((t) => JSON.stringify(t));
const config = fc.record(
  {
    BoundIAMPrincipalARNs: fc.constant(['arn:aws:iam::123456789012:role/ecs/*']),
    EnableIAMEntityDetails: fc.boolean(),
    ServerIDHeaderValue: fc.constantFrom('consul.dc1.example', ''),
    STSEndpoint: fc.constantFrom('', 'https://sts.us-west-2.amazonaws.com'),
    IAMEndpoint: fc.constantFrom('', 'https://iam.amazonaws.com'),
  },
  { requiredKeys: ['BoundIAMPrincipalARNs'] },
) as fc.Arbitrary<AwsIamAuthMethodConfig>;

describe('parseBearerToken', () => {
  it('refuses hostile tokens with TokenRejected only', () => {
    const token = fc.oneof(
      hostileText(),
      jsonText(),
      tokenObject,
      fc.constant(null).map(() => valid),
    );
    const n =
      fuzz(
        'parseBearerToken',
        fc.tuple(token, config),
        ([t, c]) => parseBearerToken(t, c),
        8000,
        (e) => e instanceof TokenRejected,
      ) +
      fuzz(
        'parseBearerToken (mutated real token)',
        fc.tuple(fc.nat(), config),
        ([seed, c]) => {
          // a few characters of a real token changed: the base64 and JSON inside break in every way
          const i = seed % valid.length;
          const t = valid.slice(0, i) + String.fromCharCode(seed % 0x10000) + valid.slice(i + 1);
          return parseBearerToken(t, c);
        },
        4000,
        (e) => e instanceof TokenRejected,
      );
    expect(n).toBe(scaled(12_000));
  });
});
