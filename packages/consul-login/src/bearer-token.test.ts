import { Sha256 } from '@aws-crypto/sha256-js';
import type { HttpClient, HttpRequest, HttpResponse } from '@ecs-identity/core';
import { IdentityError } from '@ecs-identity/core';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecodedRequest, decodeToken, serverChecks, signedHeaders } from '../test/token-checks.js';
import { buildBearerToken } from './bearer-token.js';

const creds = {
  accessKeyId: 'ASIAEXAMPLEKEYID0001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN//////////wEaCXVzLXdlc3QtMiJHMEUCIQ==',
};
const roleArn = 'arn:aws:iam::123456789012:role/ecs/services/web-task';
const signingDate = new Date('2026-01-02T03:04:05Z');

/** Recomputes a request's Authorization with SignatureV4 directly from what the token says was sent. */
async function recompute(
  r: DecodedRequest,
  region: string,
  service: string,
  c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = creds,
): Promise<string> {
  const url = new URL(r.url);
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of Object.entries(r.headers)) if (k !== 'Authorization') headers[k] = v[0] as string;
  const signer = new SignatureV4({ service, region, credentials: c, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: r.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers,
      body: r.body,
    },
    { signingDate },
  );
  return String(signed.headers.authorization);
}

describe('buildBearerToken: the STS request', () => {
  it('encodes a POST GetCallerIdentity to the regional endpoint with the session token signed', async () => {
    const token = await buildBearerToken({ credentials: creds, region: 'us-west-2', entity: false, signingDate });
    const outer = JSON.parse(token);
    // Exactly the four fields consul-awsauth's BearerToken JSON has.
    const fields = 'iam_http_request_method iam_request_body iam_request_headers iam_request_url';
    expect(Object.keys(outer).sort()).toEqual(fields.split(' '));
    expect(outer.iam_http_request_method).toBe('POST');
    const t = serverChecks(token);
    expect(t.url).toBe('https://sts.us-west-2.amazonaws.com/');
    expect(t.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(Object.keys(t.headers)).toEqual(['Authorization', 'Content-Type', 'X-Amz-Date', 'X-Amz-Security-Token']);
    expect(t.headers['Content-Type']).toEqual(['application/x-www-form-urlencoded; charset=utf-8']);
    expect(t.headers['X-Amz-Date']).toEqual(['20260102T030405Z']);
    expect(t.headers['X-Amz-Security-Token']).toEqual([creds.sessionToken]);
    expect(signedHeaders(t.headers)).toEqual(['content-type', 'host', 'x-amz-date', 'x-amz-security-token']);
    const auth = t.headers.Authorization?.[0] ?? '';
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEYID0001\/20260102\/us-west-2\/sts\/aws4_request, /);
    expect(auth).toBe(await recompute(t, 'us-west-2', 'sts'));
  });

  it('signs without a security token for long-term keys (and sends none)', async () => {
    const { sessionToken: _, ...longTerm } = creds;
    const t = serverChecks(await buildBearerToken({ credentials: longTerm, region: 'eu-west-1', entity: false }));
    expect(t.headers['X-Amz-Security-Token']).toBeUndefined();
    expect(signedHeaders(t.headers)).toEqual(['content-type', 'host', 'x-amz-date']);
  });

  it('never emits a user agent, a content hash, a Host entry, a query string or a non-canonical key', async () => {
    const token = await buildBearerToken({
      credentials: { ...creds, roleArn },
      region: 'us-west-2',
      serverIdHeaderValue: 'vault.example.com',
      signingDate,
    });
    const t = decodeToken(token);
    expect(t.url).not.toContain('?');
    expect(t.entity?.url).not.toContain('?');
    for (const headers of [t.headers, t.entity?.headers ?? {}]) {
      const keys = Object.keys(headers);
      expect(keys.map((k) => k.toLowerCase())).not.toContain('x-amz-user-agent');
      expect(keys.map((k) => k.toLowerCase())).not.toContain('user-agent');
      expect(keys.map((k) => k.toLowerCase())).not.toContain('x-amz-content-sha256');
      expect(keys.map((k) => k.toLowerCase())).not.toContain('host');
      expect(new Set(keys.map((k) => k.toLowerCase())).size).toBe(keys.length);
      for (const k of keys) {
        expect(k).toBe(k.replace(/[^-]+/g, (w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase()));
        expect(headers[k]).toHaveLength(1);
      }
    }
  });

  it('uses an explicit STS endpoint (with port) as the URL and the signed host', async () => {
    const token = await buildBearerToken({
      credentials: creds,
      region: 'us-west-2',
      stsEndpoint: 'http://127.0.0.1:4566',
      entity: false,
      signingDate,
    });
    const t = serverChecks(token, { STSEndpoint: 'http://127.0.0.1:4566' });
    expect(t.url).toBe('http://127.0.0.1:4566/');
    expect(t.headers.Authorization?.[0]).toBe(await recompute(t, 'us-west-2', 'sts'));
    // Without the auth method's STSEndpoint the real server refuses this host.
    expect(() => serverChecks(token)).toThrow('invalid STS hostname: "127.0.0.1"');
  });

  it('signs the global endpoint for us-east-1 and uses .amazonaws.com.cn in China', async () => {
    const global = decodeToken(
      await buildBearerToken({
        credentials: creds,
        region: 'eu-central-1',
        stsEndpoint: 'https://sts.amazonaws.com/',
        entity: false,
        signingDate,
      }),
    );
    expect(global.headers.Authorization?.[0]).toContain('/us-east-1/sts/aws4_request');
    const cn = decodeToken(await buildBearerToken({ credentials: creds, region: 'cn-northwest-1', entity: false }));
    expect(cn.url).toBe('https://sts.cn-northwest-1.amazonaws.com.cn/');
  });
});

describe('buildBearerToken: server ID and entity details', () => {
  it('adds the server ID header, signed, on the STS request', async () => {
    const token = await buildBearerToken({
      credentials: creds,
      region: 'us-west-2',
      entity: false,
      serverIdHeaderValue: 'consul.dc1',
      signingDate,
    });
    const t = serverChecks(token, { ServerIDHeaderValue: 'consul.dc1' });
    expect(t.headers['X-Consul-Iam-Serverid']).toEqual(['consul.dc1']);
    expect(signedHeaders(t.headers)).toContain('x-consul-iam-serverid');
    expect(t.headers.Authorization?.[0]).toBe(await recompute(t, 'us-west-2', 'sts'));
    expect(() => serverChecks(token, { ServerIDHeaderValue: 'other' })).toThrow(
      'expected "other" but got "consul.dc1"',
    );
  });

  it('embeds a signed GetRole for a role with a path, by NAME only, signed for iam/us-east-1', async () => {
    const token = await buildBearerToken({
      credentials: { ...creds, roleArn },
      region: 'us-west-2',
      serverIdHeaderValue: 'consul.dc1',
      signingDate,
    });
    const t = serverChecks(token, { EnableIAMEntityDetails: true, ServerIDHeaderValue: 'consul.dc1' });
    const e = t.entity as DecodedRequest;
    expect(e.method).toBe('POST');
    expect(e.url).toBe('https://iam.amazonaws.com/');
    expect(e.body).toBe('Action=GetRole&RoleName=web-task&Version=2010-05-08');
    expect(Object.keys(e.headers)).toEqual([
      'Authorization',
      'Content-Type',
      'X-Amz-Date',
      'X-Amz-Security-Token',
      'X-Consul-Iam-Serverid',
    ]);
    expect(signedHeaders(e.headers)).toEqual([
      'content-type',
      'host',
      'x-amz-date',
      'x-amz-security-token',
      'x-consul-iam-serverid',
    ]);
    expect(e.headers.Authorization?.[0]).toContain('/20260102/us-east-1/iam/aws4_request');
    expect(e.headers.Authorization?.[0]).toBe(await recompute(e, 'us-east-1', 'iam'));
    // The four entity headers are on the STS request and covered by its signature.
    expect(signedHeaders(t.headers)).toEqual([
      'content-type',
      'host',
      'x-amz-date',
      'x-amz-security-token',
      'x-consul-iam-getentity-body',
      'x-consul-iam-getentity-headers',
      'x-consul-iam-getentity-method',
      'x-consul-iam-getentity-url',
      'x-consul-iam-serverid',
    ]);
    expect(t.headers.Authorization?.[0]).toBe(await recompute(t, 'us-west-2', 'sts'));
  });

  it('takes the role name from an assumed-role ARN and builds GetUser for users', async () => {
    const assumed = decodeToken(
      await buildBearerToken({
        credentials: { ...creds, roleArn: 'arn:aws:sts::123456789012:assumed-role/web-task/abc123' },
        region: 'us-west-2',
      }),
    );
    expect(assumed.entity?.body).toBe('Action=GetRole&RoleName=web-task&Version=2010-05-08');
    const user = serverChecks(
      await buildBearerToken({ credentials: creds, region: 'us-west-2', entity: { userName: 'deploy@ci' } }),
      { EnableIAMEntityDetails: true },
    );
    expect(user.entity?.body).toBe('Action=GetUser&UserName=deploy%40ci&Version=2010-05-08');
  });

  it('works in a partition without built-in endpoints when both are given', async () => {
    const t = decodeToken(
      await buildBearerToken({
        credentials: { ...creds, roleArn: 'arn:aws-iso-b:iam::123456789012:role/web' },
        region: 'us-isob-east-1',
        stsEndpoint: 'https://sts.us-isob-east-1.sc2s.sgov.gov/',
        iamEndpoint: 'https://iam.us-isob-east-1.sc2s.sgov.gov/',
        iamRegion: 'us-isob-east-1',
        signingDate,
      }),
    );
    expect(t.entity?.headers.Authorization?.[0]).toContain('/us-isob-east-1/iam/aws4_request');
    expect(t.headers.Authorization?.[0]).toContain('/us-isob-east-1/sts/aws4_request');
  });

  it('honours explicit IAM endpoint and region', async () => {
    const t = decodeToken(
      await buildBearerToken({
        credentials: { ...creds, roleArn },
        region: 'us-west-2',
        iamEndpoint: 'http://127.0.0.1:9999/',
        iamRegion: 'us-west-2',
        signingDate,
      }),
    );
    expect(t.entity?.url).toBe('http://127.0.0.1:9999/');
    expect(t.entity?.headers.Authorization?.[0]).toBe(await recompute(t.entity as DecodedRequest, 'us-west-2', 'iam'));
  });

  it('passes the server checks for any valid role name and server ID (property)', async () => {
    const name = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
    const serverId = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}[\x21-\x7e]$/);
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.string({ maxLength: 30 }).map((p) => p.replace(/[^a-z/]/g, '')),
        serverId,
        async (role, path, sid) => {
          const arnPath = `/${path}/`.replace(/\/+/g, '/');
          const token = await buildBearerToken({
            credentials: { ...creds, roleArn: `arn:aws:iam::123456789012:role${arnPath}${role}` },
            region: 'ap-southeast-2',
            serverIdHeaderValue: sid,
            signingDate,
          });
          const t = serverChecks(token, { EnableIAMEntityDetails: true, ServerIDHeaderValue: sid });
          expect(new URLSearchParams(t.entity?.body).get('RoleName')).toBe(role);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('buildBearerToken: freshness', () => {
  it('signs afresh on every call: new date, new credentials, new signature', async () => {
    const a = decodeToken(
      await buildBearerToken({ credentials: creds, region: 'us-west-2', entity: false, signingDate }),
    );
    const b = decodeToken(
      await buildBearerToken({
        credentials: creds,
        region: 'us-west-2',
        entity: false,
        signingDate: new Date(signingDate.getTime() + 1000),
      }),
    );
    expect(a.headers.Authorization).not.toEqual(b.headers.Authorization);
    const other = { accessKeyId: 'ASIAOTHERKEYID000002', secretAccessKey: 'another/secret/key', sessionToken: 'tok2' };
    const c = decodeToken(
      await buildBearerToken({ credentials: other, region: 'us-west-2', entity: false, signingDate }),
    );
    expect(c.headers.Authorization?.[0]).toContain('Credential=ASIAOTHERKEYID000002/');
    expect(c.headers['X-Amz-Security-Token']).toEqual(['tok2']);
    expect(c.headers.Authorization?.[0]).toBe(await recompute(c, 'us-west-2', 'sts', other));
  });
});

describe('buildBearerToken: bad input', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no credentials', { region: 'us-west-2' }, /credentials must be an object/],
    ['empty key id', { credentials: { ...creds, accessKeyId: '' }, region: 'us-west-2' }, /credentials\.accessKeyId/],
    ['no secret', { credentials: { accessKeyId: 'A' }, region: 'us-west-2' }, /credentials\.secretAccessKey/],
    ['bad region', { credentials: creds, region: 'US West' }, /region must be an AWS region/],
    [
      'query string',
      { credentials: creds, region: 'us-west-2', stsEndpoint: 'https://sts.us-west-2.amazonaws.com/?Action=x' },
      /stsEndpoint .* query string/,
    ],
    ['not a URL', { credentials: creds, region: 'us-west-2', stsEndpoint: 'sts' }, /stsEndpoint must be an absolute/],
    [
      'ftp',
      { credentials: creds, region: 'us-west-2', iamEndpoint: 'ftp://iam.amazonaws.com/' },
      /iamEndpoint .* https/,
    ],
    [
      'newline in server ID',
      { credentials: creds, region: 'us-west-2', serverIdHeaderValue: 'a\r\nX-Amz-Foo: 1' },
      /serverIdHeaderValue/,
    ],
    ['bad entity', { credentials: creds, region: 'us-west-2', entity: { roleName: 'a/b' } }, /entity must be/],
    ['entity string', { credentials: creds, region: 'us-west-2', entity: 'web' }, /entity must be/],
    [
      'role and user',
      { credentials: creds, region: 'us-west-2', entity: { roleName: 'a', userName: 'b' } },
      /entity must be/,
    ],
    ['bad date', { credentials: creds, region: 'us-west-2', signingDate: new Date('x') }, /signingDate/],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with INVALID_ARGUMENT, leaking no secret`, async () => {
      const error = await buildBearerToken(options as never).catch((e: unknown) => e);
      expect(IdentityError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(creds.secretAccessKey);
      expect((error as Error).message).not.toContain(creds.sessionToken);
    });
  }

  it('rejects a role ARN that names no IAM entity with INVALID_ARN', async () => {
    const error = await buildBearerToken({
      credentials: { ...creds, roleArn: 'arn:aws:sts::123456789012:federated-user/bob' },
      region: 'us-west-2',
    }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'INVALID_ARN')).toBe(true);
  });
});

/** An in-memory HttpClient standing in for STS, recording what it was sent. */
function fakeSts(answer: (req: HttpRequest) => { status: number; body: string }): HttpClient & { sent: HttpRequest[] } {
  const sent: HttpRequest[] = [];
  return {
    sent,
    async request(req) {
      sent.push(req);
      const { status, body } = answer(req);
      if (status >= 300) {
        throw Object.assign(new IdentityError('HTTP_STATUS', `POST ${String(req.url)}: HTTP ${status}`, { status }), {
          responseText: body,
        });
      }
      const bytes = new TextEncoder().encode(body);
      const response: HttpResponse = {
        status,
        headers: new Headers({ 'content-type': 'text/xml' }),
        url: String(req.url),
        body: bytes,
        text: () => body,
        json: () => JSON.parse(body),
      };
      return response;
    },
  };
}

describe('buildBearerToken: entity without a known role ARN', () => {
  it('asks STS who it is with a signed GetCallerIdentity, then embeds GetRole for that role', async () => {
    const http = fakeSts(() => ({
      status: 200,
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::012345678901:assumed-role/api-role/7f3a</Arn>
    <UserId>AROAEXAMPLEID:7f3a</UserId>
    <Account>012345678901</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`,
    }));
    const token = await buildBearerToken({ credentials: creds, region: 'us-west-2', http, signingDate });
    expect(http.sent).toHaveLength(1);
    const req = http.sent[0] as HttpRequest;
    expect(req.method).toBe('POST');
    expect(String(req.url)).toBe('https://sts.us-west-2.amazonaws.com/');
    expect(req.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(req.timeoutMs).toBe(5000);
    const headers = req.headers ?? {};
    expect(Object.keys(headers).sort()).toEqual([
      'authorization',
      'content-type',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(headers.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token');
    const sent: DecodedRequest = {
      method: 'POST',
      url: String(req.url),
      body: String(req.body),
      headers: Object.fromEntries(
        Object.entries(headers).map(([k, v]) => [k === 'authorization' ? 'Authorization' : k, [v]]),
      ),
    };
    expect(headers.authorization).toBe(await recompute(sent, 'us-west-2', 'sts'));
    expect(decodeToken(token).entity?.body).toBe('Action=GetRole&RoleName=api-role&Version=2010-05-08');
  });

  it('maps an AWS ErrorResponse to INVALID_CREDENTIALS with the AWS code and message', async () => {
    const http = fakeSts(() => ({
      status: 403,
      body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>x</RequestId></ErrorResponse>`,
    }));
    const error = await buildBearerToken({ credentials: creds, region: 'us-west-2', http }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'INVALID_CREDENTIALS')).toBe(true);
    expect((error as IdentityError).retryable).toBe(true);
    expect((error as IdentityError).status).toBe(403);
    expect((error as Error).message).toBe(
      'sts:GetCallerIdentity at https://sts.us-west-2.amazonaws.com/ failed: ExpiredToken: The security token included in the request is expired',
    );
  });

  it('rejects a response without an Arn as INVALID_RESPONSE', async () => {
    const http = fakeSts(() => ({
      status: 200,
      body: '<GetCallerIdentityResponse><Other/></GetCallerIdentityResponse>',
    }));
    const error = await buildBearerToken({ credentials: creds, region: 'us-west-2', http }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'INVALID_RESPONSE')).toBe(true);
  });
});
