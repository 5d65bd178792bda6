import { Sha256 } from '@aws-crypto/sha256-js';
import { formEncode } from '@ecs-identity/core/internal';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { type BearerTokenOptions, buildBearerToken } from './bearer-token.js';

/**
 * Pins the token's exact bytes for fixed inputs and signing date. The expected token is assembled here from
 * `SignatureV4.sign` on the requests written out by hand (the wire layout of PROTOCOLS.md: Go-canonical header keys in
 * sorted order, one-element arrays, no Host, standard base64, the four fields in the order the Go client writes
 * them), so a change in the builder that alters any byte fails — including ones a server might tolerate.
 */

const sessionCreds = {
  accessKeyId: 'ASIAPINNEDEXAMPLE001',
  secretAccessKey: 'pinned/secret/access/key/EXAMPLE0000000001',
  sessionToken: `IQoJb3JpZ2luX2Vj${'Z'.repeat(120)}//+==`,
};
const signingDate = new Date('2026-05-06T07:08:09Z');
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

interface Plain {
  url: string;
  service: string;
  region: string;
  body: string;
  /** Extra signed headers, lower-case. */
  extra: Record<string, string>;
}

async function sign(r: Plain, creds: Creds): Promise<Record<string, string>> {
  const url = new URL(r.url);
  const signer = new SignatureV4({
    service: r.service,
    region: r.region,
    credentials: creds,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': FORM, ...r.extra },
      body: r.body,
    },
    { signingDate },
  );
  return signed.headers as Record<string, string>;
}

/** `json.Marshal(http.Header)` of the signed headers, keys written out in Go's canonical form and sorted. */
function goHeaderJson(h: Record<string, string>, extraKeys: [string, string][]): string {
  const entries: [string, string][] = [
    ['Authorization', h.authorization as string],
    ['Content-Type', h['content-type'] as string],
    ['X-Amz-Date', h['x-amz-date'] as string],
  ];
  if (h['x-amz-security-token'] !== undefined) entries.push(['X-Amz-Security-Token', h['x-amz-security-token']]);
  for (const [canonical, lower] of extraKeys) entries.push([canonical, h[lower] as string]);
  entries.sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:[${JSON.stringify(v)}]`).join(',')}}`;
}

interface Case {
  name: string;
  options: BearerTokenOptions;
  creds: Creds;
  sts: { url: string; region: string };
  serverId?: string;
  entity?: { url: string; region: string; body: string };
}

async function expectedToken(c: Case): Promise<string> {
  const serverId: Record<string, string> = c.serverId === undefined ? {} : { 'x-consul-iam-serverid': c.serverId };
  const serverIdKey: [string, string][] =
    c.serverId === undefined ? [] : [['X-Consul-Iam-Serverid', 'x-consul-iam-serverid']];
  const stsExtra: Record<string, string> = { ...serverId };
  const stsExtraKeys = [...serverIdKey];
  if (c.entity !== undefined) {
    const iam = await sign({ ...c.entity, service: 'iam', extra: serverId }, c.creds);
    stsExtra['x-consul-iam-getentity-method'] = 'POST';
    stsExtra['x-consul-iam-getentity-url'] = c.entity.url;
    stsExtra['x-consul-iam-getentity-headers'] = goHeaderJson(iam, serverIdKey);
    stsExtra['x-consul-iam-getentity-body'] = c.entity.body;
    stsExtraKeys.push(
      ['X-Consul-Iam-Getentity-Body', 'x-consul-iam-getentity-body'],
      ['X-Consul-Iam-Getentity-Headers', 'x-consul-iam-getentity-headers'],
      ['X-Consul-Iam-Getentity-Method', 'x-consul-iam-getentity-method'],
      ['X-Consul-Iam-Getentity-Url', 'x-consul-iam-getentity-url'],
    );
  }
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const sts = await sign({ ...c.sts, service: 'sts', body, extra: stsExtra }, c.creds);
  return (
    `{"iam_http_request_method":"POST","iam_request_url":"${b64(c.sts.url)}",` +
    `"iam_request_body":"${b64(body)}","iam_request_headers":"${b64(goHeaderJson(sts, stsExtraKeys))}"}`
  );
}

const { sessionToken: _, ...longTerm } = sessionCreds;

const cases: Case[] = [
  {
    name: 'role ARN with a path, server ID, session token (the login path)',
    options: {
      credentials: { ...sessionCreds, roleArn: 'arn:aws:iam::123456789012:role/ecs/services/web-task' },
      region: 'us-west-2',
      serverIdHeaderValue: 'consul.example.com',
      signingDate,
    },
    creds: sessionCreds,
    sts: { url: 'https://sts.us-west-2.amazonaws.com/', region: 'us-west-2' },
    serverId: 'consul.example.com',
    entity: {
      url: 'https://iam.amazonaws.com/',
      region: 'us-east-1',
      body: 'Action=GetRole&RoleName=web-task&Version=2010-05-08',
    },
  },
  {
    name: 'no entity, no server ID, long-term keys',
    options: { credentials: longTerm, region: 'eu-central-1', entity: false, signingDate },
    creds: longTerm,
    sts: { url: 'https://sts.eu-central-1.amazonaws.com/', region: 'eu-central-1' },
  },
  {
    name: 'user entity with characters form encoding escapes, China partition',
    options: {
      credentials: sessionCreds,
      region: 'cn-northwest-1',
      entity: { userName: 'deploy+ci=x,y@corp.example' },
      serverIdHeaderValue: 'a "quoted" id, with spaces',
      signingDate,
    },
    creds: sessionCreds,
    sts: { url: 'https://sts.cn-northwest-1.amazonaws.com.cn/', region: 'cn-northwest-1' },
    serverId: 'a "quoted" id, with spaces',
    entity: {
      url: 'https://iam.cn-north-1.amazonaws.com.cn/',
      region: 'cn-north-1',
      body: 'Action=GetUser&UserName=deploy%2Bci%3Dx%2Cy%40corp.example&Version=2010-05-08',
    },
  },
  {
    name: 'explicit endpoints with ports and paths, assumed-role ARN, global STS endpoint',
    options: {
      credentials: { ...sessionCreds, roleArn: 'arn:aws:sts::123456789012:assumed-role/api_role.v2/session-1' },
      region: 'ap-southeast-2',
      stsEndpoint: 'https://sts.amazonaws.com',
      iamEndpoint: new URL('http://127.0.0.1:4566/iam/'),
      iamRegion: 'us-west-1',
      serverIdHeaderValue: 'dc1',
      signingDate,
    },
    creds: sessionCreds,
    sts: { url: 'https://sts.amazonaws.com/', region: 'us-east-1' },
    serverId: 'dc1',
    entity: {
      url: 'http://127.0.0.1:4566/iam/',
      region: 'us-west-1',
      body: 'Action=GetRole&RoleName=api_role.v2&Version=2010-05-08',
    },
  },
  {
    name: 'credentials with JSON-special characters (quotes, backslashes)',
    options: {
      credentials: {
        accessKeyId: 'ASIA"QUOTED\\KEY0001',
        secretAccessKey: 'secret"with\\specials',
        sessionToken: 'tok"en\\with/"both"\\',
        roleArn: 'arn:aws:iam::123456789012:role/web',
      },
      region: 'us-east-2',
      serverIdHeaderValue: 'id\\with"specials',
      signingDate,
    },
    creds: {
      accessKeyId: 'ASIA"QUOTED\\KEY0001',
      secretAccessKey: 'secret"with\\specials',
      sessionToken: 'tok"en\\with/"both"\\',
    },
    sts: { url: 'https://sts.us-east-2.amazonaws.com/', region: 'us-east-2' },
    serverId: 'id\\with"specials',
    entity: {
      url: 'https://iam.amazonaws.com/',
      region: 'us-east-1',
      body: 'Action=GetRole&RoleName=web&Version=2010-05-08',
    },
  },
  {
    name: 'a session token beyond ASCII and with a control character (UTF-8 in base64, JSON escapes)',
    options: {
      credentials: { ...sessionCreds, sessionToken: 'tök€n\u0001✓' },
      region: 'eu-west-1',
      entity: { roleName: 'web' },
      signingDate,
    },
    creds: { ...sessionCreds, sessionToken: 'tök€n\u0001✓' },
    sts: { url: 'https://sts.eu-west-1.amazonaws.com/', region: 'eu-west-1' },
    entity: {
      url: 'https://iam.amazonaws.com/',
      region: 'us-east-1',
      body: 'Action=GetRole&RoleName=web&Version=2010-05-08',
    },
  },
];

describe('buildBearerToken: exact token bytes', () => {
  for (const c of cases) {
    it(`matches the token assembled from SignatureV4 directly: ${c.name}`, async () => {
      const expected = await expectedToken(c);
      expect(JSON.parse(expected)).toBeTypeOf('object');
      expect(await buildBearerToken(c.options)).toBe(expected);
      // Nothing is carried from one call to the next: the same inputs give the same bytes again.
      expect(await buildBearerToken(c.options)).toBe(expected);
    });
  }
});

it('form-encodes every character IAM allows in a name exactly as formEncode does', async () => {
  const name = 'Az09_+=,.@-';
  const token = await buildBearerToken({
    credentials: sessionCreds,
    region: 'us-west-2',
    entity: { roleName: name },
    signingDate,
  });
  const headers = JSON.parse(atob(JSON.parse(token).iam_request_headers)) as Record<string, string[]>;
  expect(headers['X-Consul-Iam-Getentity-Body']).toEqual([
    formEncode([
      ['Action', 'GetRole'],
      ['RoleName', name],
      ['Version', '2010-05-08'],
    ]),
  ]);
});
