import { request as httpRequest } from 'node:http';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsEmulator, type FakeRole, type IssuedCredentials, startAws } from '../src/index.js';
import { awsError, type SignOptions, sendRaw, sendSigned, signQuery, xml } from './aws-signing.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
let now = T0;
const clock = { now: () => now };

let aws: AwsEmulator;
let taskRole: FakeRole;
let serviceRole: FakeRole;
let taskCreds: IssuedCredentials;

const GCI = { Action: 'GetCallerIdentity', Version: '2011-06-15' };

function sts(
  credentials: SignOptions['credentials'],
  params: SignOptions['params'] = GCI,
  extra: Partial<SignOptions> = {},
) {
  return signQuery({
    credentials,
    region: 'us-west-2',
    service: 'sts',
    url: `${aws.url}/`,
    params,
    date: new Date(now),
    ...extra,
  });
}

beforeAll(async () => {
  aws = await startAws({ region: 'us-west-2', accountId: '111122223333', clock });
  taskRole = aws.addRole({ name: 'web-task', path: '/ecs/tasks/', tags: { team: 'edge' } });
  serviceRole = aws.addRole({
    name: 'sports.api',
    path: '/athenz/',
    tags: { 'consul.hashicorp.com.service-name': 'api' },
    trust: [taskRole.arn],
    maxSessionDurationSeconds: 7200,
  });
  taskCreds = aws.issueRoleCredentials(taskRole.arn, { sessionName: 'abc123' });
});
afterAll(() => aws.close());
beforeEach(() => {
  now = T0;
  aws.setFault(undefined);
});

describe('fake AWS: authentication', () => {
  it('answers GetCallerIdentity for the static user as AWS-shaped XML', async () => {
    const res = await sendSigned(aws.url, await sts(aws.staticCredentials));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    const doc = xml(res.text) as { GetCallerIdentityResponse: Record<string, Record<string, string>> };
    expect(doc.GetCallerIdentityResponse.GetCallerIdentityResult).toEqual({
      Arn: 'arn:aws:iam::111122223333:user/testkit-admin',
      UserId: aws.staticUser.userId,
      Account: '111122223333',
    });
    expect(doc.GetCallerIdentityResponse.ResponseMetadata?.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(aws.staticUser.userId).toMatch(/^AIDA[A-Z2-7]{17}$/);
  });

  it('answers GetCallerIdentity for issued role credentials with the assumed-role ARN (no path)', async () => {
    expect(taskCreds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(taskCreds.roleArn).toBe('arn:aws:iam::111122223333:role/ecs/tasks/web-task');
    const res = await sendSigned(aws.url, await sts(taskCreds));
    const r = (xml(res.text) as { GetCallerIdentityResponse: { GetCallerIdentityResult: Record<string, string> } })
      .GetCallerIdentityResponse.GetCallerIdentityResult;
    expect(r.Arn).toBe('arn:aws:sts::111122223333:assumed-role/web-task/abc123');
    expect(r.UserId).toBe(`${taskRole.roleId}:abc123`);
    expect(taskRole.roleId).toMatch(/^AROA[A-Z2-7]{17}$/);
  });

  it('rejects a body changed after signing', async () => {
    const signed = await sts(aws.staticCredentials);
    const res = await sendSigned(aws.url, { ...signed, body: 'Action=GetCallerIdentity&Version=2011-06-15&X=1' });
    expect(res.status).toBe(403);
    expect(awsError(res.text)).toEqual({
      Type: 'Sender',
      Code: 'SignatureDoesNotMatch',
      Message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access ' +
        'Key and signing method. Consult the service documentation for details.',
    });
  });

  it('rejects a signed header changed after signing', async () => {
    const signed = await sts(aws.staticCredentials);
    const headers = { ...signed.headers, 'content-type': 'application/x-www-form-urlencoded' };
    const res = await sendSigned(aws.url, { ...signed, headers });
    expect(res.status).toBe(403);
    expect(awsError(res.text).Code).toBe('SignatureDoesNotMatch');
  });

  it('rejects an X-Amz-Date changed after signing', async () => {
    const signed = await sts(aws.staticCredentials);
    const later = new Date(now + 1000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const res = await sendSigned(aws.url, { ...signed, headers: { ...signed.headers, 'x-amz-date': later } });
    expect(res.status).toBe(403);
    expect(awsError(res.text).Code).toBe('SignatureDoesNotMatch');
  });

  it('accepts unsigned extra headers (like the SDK user-agent) but rejects an unsigned X-Amz-Date', async () => {
    const signed = await sts(aws.staticCredentials);
    const ok = await sendSigned(aws.url, {
      ...signed,
      headers: { ...signed.headers, 'user-agent': 'x/1', 'x-extra': '1' },
    });
    expect(ok.status).toBe(200);
    const auth = signed.headers.authorization!.replace(
      'SignedHeaders=content-type;host;x-amz-date',
      'SignedHeaders=content-type;host',
    );
    expect(auth).not.toBe(signed.headers.authorization);
    const bad = await sendSigned(aws.url, { ...signed, headers: { ...signed.headers, authorization: auth } });
    expect(awsError(bad.text).Code).toBe('SignatureDoesNotMatch');
  });

  it('rejects an unknown access key with InvalidClientTokenId', async () => {
    const res = await sendSigned(aws.url, await sts({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }));
    expect(res.status).toBe(403);
    expect(awsError(res.text)).toMatchObject({
      Code: 'InvalidClientTokenId',
      Message: 'The security token included in the request is invalid.',
    });
  });

  it('rejects a session key with another session token, or with none', async () => {
    const other = aws.issueRoleCredentials(taskRole.arn);
    const wrong = await sendSigned(aws.url, await sts({ ...taskCreds, sessionToken: other.sessionToken! }));
    expect(wrong.status).toBe(403);
    expect(awsError(wrong.text).Code).toBe('InvalidClientTokenId');
    const none = await sendSigned(
      aws.url,
      await sts({ accessKeyId: taskCreds.accessKeyId, secretAccessKey: taskCreds.secretAccessKey }),
    );
    expect(awsError(none.text).Code).toBe('InvalidClientTokenId');
  });

  it('rejects an expired session with ExpiredToken (400)', async () => {
    const short = aws.issueRoleCredentials(taskRole.arn, { lifetimeMs: 900_000 });
    now = T0 + 900_000;
    const res = await sendSigned(aws.url, await sts(short));
    expect(res.status).toBe(400);
    expect(awsError(res.text)).toMatchObject({
      Code: 'ExpiredToken',
      Message: 'The security token included in the request is expired',
    });
  });

  it('rejects a request signed 16 minutes ago, accepts one signed 14 minutes ago', async () => {
    const stale = await sts(aws.staticCredentials, GCI, { date: new Date(now - 16 * 60_000) });
    const res = await sendSigned(aws.url, stale);
    expect(res.status).toBe(403);
    expect(awsError(res.text)).toMatchObject({
      Code: 'SignatureDoesNotMatch',
      Message: 'Signature expired: 20260301T094400Z is now earlier than 20260301T094500Z (20260301T100000Z - 15 min.)',
    });
    const recent = await sts(aws.staticCredentials, GCI, { date: new Date(now - 14 * 60_000) });
    expect((await sendSigned(aws.url, recent)).status).toBe(200);
  });

  it('rejects a revoked key', async () => {
    const c = aws.issueRoleCredentials(taskRole.arn);
    aws.revokeCredentials(c.accessKeyId);
    expect(awsError((await sendSigned(aws.url, await sts(c))).text).Code).toBe('InvalidClientTokenId');
  });

  it('requires the scope to name the endpoint: its own region for STS, us-east-1 + iam for IAM', async () => {
    const wrongRegion = await sendSigned(aws.url, await sts(aws.staticCredentials, GCI, { region: 'eu-west-1' }));
    expect(awsError(wrongRegion.text)).toMatchObject({
      Code: 'SignatureDoesNotMatch',
      Message: 'Credential should be scoped to a valid region. ',
    });
    const getRole = { Action: 'GetRole', RoleName: 'web-task', Version: '2010-05-08' };
    const iamInRegion = await sendSigned(aws.url, await sts(taskCreds, getRole, { service: 'iam' }));
    expect(awsError(iamInRegion.text).Code).toBe('SignatureDoesNotMatch');
    const iamAsSts = await sendSigned(aws.url, await sts(taskCreds, getRole, { service: 'sts', region: 'us-east-1' }));
    expect(awsError(iamAsSts.text).Message).toBe("Credential should be scoped to correct service: 'iam'. ");
  });

  it('answers as the AWS endpoint named by the Host header (requests forwarded by Consul)', async () => {
    const url = 'https://sts.eu-central-1.amazonaws.com/';
    const signed = await signQuery({
      credentials: taskCreds,
      region: 'eu-central-1',
      service: 'sts',
      url,
      params: GCI,
      date: new Date(now),
    });
    expect(signed.headers.host).toBe('sts.eu-central-1.amazonaws.com');
    expect((await sendSigned(aws.url, signed)).status).toBe(200);
    const misScoped = await signQuery({
      credentials: taskCreds,
      region: 'us-west-2',
      service: 'sts',
      url,
      params: GCI,
      date: new Date(now),
    });
    expect(awsError((await sendSigned(aws.url, misScoped)).text).Code).toBe('SignatureDoesNotMatch');
    const global = await signQuery({
      credentials: taskCreds,
      region: 'us-east-1',
      service: 'sts',
      url: 'https://sts.amazonaws.com/',
      params: GCI,
      date: new Date(now),
    });
    expect((await sendSigned(aws.url, global)).status).toBe(200);
  });

  it('refuses an unsigned request', async () => {
    const res = await sendRaw(aws.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    expect(awsError(res.text).Code).toBe('MissingAuthenticationToken');
  });

  it('rejects an action of the wrong service or version', async () => {
    const res = await sendSigned(aws.url, await sts(taskCreds, { Action: 'GetCallerIdentity', Version: '2010-05-08' }));
    expect(res.status).toBe(400);
    expect(awsError(res.text)).toMatchObject({
      Code: 'InvalidAction',
      Message: 'Could not find operation GetCallerIdentity for version 2010-05-08',
    });
    const session = await sendSigned(
      aws.url,
      await sts(taskCreds, { Action: 'GetSessionToken', Version: '2011-06-15' }),
    );
    expect(awsError(session.text).Code).toBe('InvalidAction');
  });
});

describe('fake AWS: AssumeRole', () => {
  const assume = (params: Record<string, string>) =>
    sts(taskCreds, { Action: 'AssumeRole', Version: '2011-06-15', ...params });

  it('works through @aws-sdk/client-sts (real XML parsing, SDK headers accepted)', async () => {
    now = Date.now(); // the SDK signs with the real time
    const fresh = aws.issueRoleCredentials(taskRole.arn);
    const client = new STSClient({ region: 'us-west-2', endpoint: aws.url, credentials: fresh, maxAttempts: 1 });
    const out = await client.send(
      new AssumeRoleCommand({ RoleArn: serviceRole.arn, RoleSessionName: 'sports.api', DurationSeconds: 900 }),
    );
    expect(out.AssumedRoleUser).toEqual({
      Arn: 'arn:aws:sts::111122223333:assumed-role/sports.api/sports.api',
      AssumedRoleId: `${serviceRole.roleId}:sports.api`,
    });
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(out.Credentials?.Expiration?.getTime()).toBe(Math.floor((now + 900_000) / 1000) * 1000);
    const c = out.Credentials!;
    const assumed = new STSClient({
      region: 'us-west-2',
      endpoint: aws.url,
      maxAttempts: 1,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
    const who = await assumed.send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({
      Arn: 'arn:aws:sts::111122223333:assumed-role/sports.api/sports.api',
      UserId: `${serviceRole.roleId}:sports.api`,
      Account: '111122223333',
    });
    const denied = client.send(new AssumeRoleCommand({ RoleArn: taskRole.arn, RoleSessionName: 'x1' }));
    await expect(denied).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('denies a principal the role does not trust, and a role that does not exist, alike', async () => {
    const untrusted = await sendSigned(
      aws.url,
      await sts(aws.staticCredentials, {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: serviceRole.arn,
        RoleSessionName: 's1',
      }),
    );
    expect(untrusted.status).toBe(403);
    expect(awsError(untrusted.text)).toEqual({
      Type: 'Sender',
      Code: 'AccessDenied',
      Message: `User: ${aws.staticUser.arn} is not authorized to perform: sts:AssumeRole on resource: ${serviceRole.arn}`,
    });
    const missing = await sendSigned(
      aws.url,
      await assume({ RoleArn: 'arn:aws:iam::111122223333:role/nope', RoleSessionName: 's1' }),
    );
    expect(awsError(missing.text).Code).toBe('AccessDenied');
    // The role ARN must carry the role's path.
    const noPath = await sendSigned(
      aws.url,
      await assume({ RoleArn: 'arn:aws:iam::111122223333:role/sports.api', RoleSessionName: 's1' }),
    );
    expect(awsError(noPath.text).Code).toBe('AccessDenied');
  });

  it('validates RoleSessionName like STS', async () => {
    const short = await sendSigned(aws.url, await assume({ RoleArn: serviceRole.arn, RoleSessionName: 'x' }));
    expect(short.status).toBe(400);
    expect(awsError(short.text)).toMatchObject({
      Code: 'ValidationError',
      Message:
        "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    });
    const long = await sendSigned(aws.url, await assume({ RoleArn: serviceRole.arn, RoleSessionName: 'a'.repeat(65) }));
    expect(awsError(long.text).Message).toContain('Member must have length less than or equal to 64');
    const bad = await sendSigned(aws.url, await assume({ RoleArn: serviceRole.arn, RoleSessionName: 'a b' }));
    expect(awsError(bad.text).Message).toContain('Member must satisfy regular expression pattern: [\\w+=,.@-]*');
    const missing = await sendSigned(aws.url, await assume({ RoleArn: serviceRole.arn }));
    expect(awsError(missing.text).Message).toBe(
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
    const ok = await sendSigned(aws.url, await assume({ RoleArn: serviceRole.arn, RoleSessionName: 'a'.repeat(64) }));
    expect(ok.status).toBe(200);
  });

  it('validates DurationSeconds: bounds, role maximum and the role-chaining hour', async () => {
    const tooShort = await sendSigned(
      aws.url,
      await assume({ RoleArn: serviceRole.arn, RoleSessionName: 's1', DurationSeconds: '899' }),
    );
    expect(awsError(tooShort.text).Message).toContain("Value '899' at 'durationSeconds'");
    const chained = await sendSigned(
      aws.url,
      await assume({ RoleArn: serviceRole.arn, RoleSessionName: 's1', DurationSeconds: '3601' }),
    );
    expect(awsError(chained.text)).toMatchObject({
      Code: 'ValidationError',
      Message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    });
    const user = aws.addUser({ name: 'deployer' });
    const trusting = aws.addRole({ name: 'deploy', trust: [user.user.arn] });
    const overMax = await sendSigned(
      aws.url,
      await sts(user.credentials, {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: trusting.arn,
        RoleSessionName: 's1',
        DurationSeconds: '3601',
      }),
    );
    expect(awsError(overMax.text).Message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  });

  it('issues sessions that expire on the fake clock', async () => {
    const res = await sendSigned(
      aws.url,
      await assume({ RoleArn: serviceRole.arn, RoleSessionName: 'sess', DurationSeconds: '900' }),
    );
    const c = (xml(res.text) as { AssumeRoleResponse: { AssumeRoleResult: { Credentials: Record<string, string> } } })
      .AssumeRoleResponse.AssumeRoleResult.Credentials;
    expect(c.Expiration).toBe('2026-03-01T10:15:00Z');
    const creds = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    expect((await sendSigned(aws.url, await sts(creds))).status).toBe(200);
    now = T0 + 900_000;
    expect(awsError((await sendSigned(aws.url, await sts(creds))).text).Code).toBe('ExpiredToken');
  });
});

describe('fake AWS: IAM', () => {
  const iam = (credentials: SignOptions['credentials'], params: Record<string, string>) =>
    signQuery({
      credentials,
      region: 'us-east-1',
      service: 'iam',
      url: 'https://iam.amazonaws.com/',
      params: { ...params, Version: '2010-05-08' },
      date: new Date(now),
    });

  it('GetRole returns path, ARN, RoleId and tags', async () => {
    const res = await sendSigned(aws.url, await iam(taskCreds, { Action: 'GetRole', RoleName: 'sports.api' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    const role = (xml(res.text) as { GetRoleResponse: { GetRoleResult: { Role: Record<string, unknown> } } })
      .GetRoleResponse.GetRoleResult.Role;
    expect(role).toMatchObject({
      Path: '/athenz/',
      Arn: 'arn:aws:iam::111122223333:role/athenz/sports.api',
      RoleName: 'sports.api',
      RoleId: serviceRole.roleId,
      MaxSessionDuration: '7200',
      Tags: { member: { Key: 'consul.hashicorp.com.service-name', Value: 'api' } },
    });
  });

  it('GetRole on a missing role: NoSuchEntity 404; denied by policy: AccessDenied', async () => {
    const res = await sendSigned(aws.url, await iam(taskCreds, { Action: 'GetRole', RoleName: 'ghost' }));
    expect(res.status).toBe(404);
    expect(awsError(res.text)).toMatchObject({
      Code: 'NoSuchEntity',
      Message: 'The role with name ghost cannot be found.',
    });
    const strict = await startAws({ iamAccess: () => false });
    try {
      const r = strict.addRole({ name: 'r' });
      const c = strict.issueRoleCredentials(r.arn);
      const denied = await sendSigned(
        strict.url,
        await signQuery({
          credentials: c,
          region: 'us-east-1',
          service: 'iam',
          url: `${strict.url}/`,
          params: { Action: 'GetRole', RoleName: 'r', Version: '2010-05-08' },
          date: new Date(),
        }),
      );
      expect(denied.status).toBe(403);
      expect(awsError(denied.text).Code).toBe('AccessDenied');
    } finally {
      await strict.close();
    }
  });

  it('GetUser: named, self, and "non-User credentials" for a role session', async () => {
    const u = aws.addUser({
      name: 'alice',
      path: '/people/',
      tags: { 'consul.hashicorp.com.service-name': 'alice-svc' },
    });
    const named = await sendSigned(aws.url, await iam(taskCreds, { Action: 'GetUser', UserName: 'alice' }));
    const user = (xml(named.text) as { GetUserResponse: { GetUserResult: { User: Record<string, unknown> } } })
      .GetUserResponse.GetUserResult.User;
    expect(user).toMatchObject({
      Path: '/people/',
      UserName: 'alice',
      UserId: u.user.userId,
      Arn: 'arn:aws:iam::111122223333:user/people/alice',
    });
    const self = await sendSigned(aws.url, await iam(u.credentials, { Action: 'GetUser' }));
    expect(self.text).toContain('<UserName>alice</UserName>');
    const roleSelf = await sendSigned(aws.url, await iam(taskCreds, { Action: 'GetUser' }));
    expect(awsError(roleSelf.text)).toMatchObject({
      Code: 'ValidationError',
      Message: 'Must specify userName when calling with non-User credentials',
    });
  });
});

describe('fake AWS: faults, log, lifecycle', () => {
  it('injects statuses, content types, resets, limited by times', async () => {
    aws.setFault({ match: 'GetCallerIdentity', status: 503, times: 1 });
    const failed = await sendSigned(aws.url, await sts(aws.staticCredentials));
    expect(failed.status).toBe(503);
    expect(awsError(failed.text).Code).toBe('ServiceUnavailable');
    expect((await sendSigned(aws.url, await sts(aws.staticCredentials))).status).toBe(200);

    aws.setFault({ contentType: 'application/json' });
    const json = await sendSigned(aws.url, await sts(aws.staticCredentials));
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');

    aws.setFault({ reset: true, times: 1 });
    await expect(sendSigned(aws.url, await sts(aws.staticCredentials))).rejects.toThrow();
    expect((await sendSigned(aws.url, await sts(aws.staticCredentials))).status).toBe(200);
  });

  it('truncates an answer on request', async () => {
    aws.setFault({ truncate: true, times: 1 });
    await expect(sendSigned(aws.url, await sts(aws.staticCredentials))).rejects.toThrow();
    expect((await sendSigned(aws.url, await sts(aws.staticCredentials))).status).toBe(200);
  });

  it('shapes the real answer: Retry-After, a malformed half, padding, a reset mid-body, no answer at all', async () => {
    const send = async () => sendSigned(aws.url, await sts(aws.staticCredentials));
    aws.setFault({ status: 503, retryAfter: '3600', times: 1 });
    const busy = await send();
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('3600');

    const whole = (await send()).text;
    aws.setFault({ malformed: true, times: 1 });
    const half = await send();
    // a complete HTTP answer whose body is the first half of the real one (give or take the request's own ids)
    expect(half.status).toBe(200);
    expect(Math.abs(half.text.length - whole.length / 2)).toBeLessThan(4);
    expect(half.text).toContain('<GetCallerIdentityResponse');
    expect(half.text).not.toContain('</GetCallerIdentityResponse>');

    aws.setFault({ padTo: 200_000, times: 1 });
    const padded = await send();
    expect(padded.text.length).toBe(200_000);
    expect(Math.abs(padded.text.trimEnd().length - whole.length)).toBeLessThan(4);

    aws.setFault({ resetMidBody: true, times: 1 });
    await expect(send()).rejects.toThrow();
    expect(aws.requests.at(-1)).toMatchObject({ action: 'GetCallerIdentity', status: 200 });

    aws.setFault({ hang: true, times: 1 });
    const signed = await sts(aws.staticCredentials);
    const u = new URL(signed.url);
    const answered = await new Promise<string>((resolve) => {
      const r = httpRequest(
        { host: u.hostname, port: u.port, method: 'POST', path: u.pathname, headers: signed.headers, agent: false },
        () => resolve('answered'),
      );
      r.on('error', () => resolve('closed'));
      r.end(signed.body, () => {
        // The request is in; the fake records it only once the connection it held goes away.
        const waitForArrival = setInterval(() => {
          if (aws.requests.length > 0 && r.socket) {
            clearInterval(waitForArrival);
            r.destroy();
          }
        }, 20);
      });
    });
    expect(answered).toBe('closed');
    await expect.poll(() => aws.requests.at(-1)?.errorCode).toBe('NoAnswer');
    expect((await send()).status).toBe(200);
  });

  it('logs requests without secrets', async () => {
    const signed = await sts(taskCreds);
    await sendSigned(aws.url, signed);
    const last = aws.requests.at(-1)!;
    expect(last).toMatchObject({
      action: 'GetCallerIdentity',
      status: 200,
      accessKeyId: taskCreds.accessKeyId,
      service: 'sts',
    });
    const log = JSON.stringify(aws.requests);
    expect(log).not.toContain(taskCreds.secretAccessKey);
    expect(log).not.toContain(taskCreds.sessionToken);
    expect(log).not.toContain(/Signature=([0-9a-f]+)/.exec(signed.headers.authorization!)![1]);
  });

  it('closes every socket on close()', async () => {
    const other = await startAws();
    const signed = await signQuery({
      credentials: other.staticCredentials,
      region: other.region,
      service: 'sts',
      url: `${other.url}/`,
      params: GCI,
      date: new Date(),
    });
    expect((await sendSigned(other.url, signed)).status).toBe(200);
    await other.close();
    await other.close();
    await expect(sendSigned(other.url, signed)).rejects.toThrow(/ECONNREFUSED/);
  });
});
