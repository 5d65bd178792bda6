/**
 * The bearer token's two signed requests, forwarded to the testkit's strict fake AWS exactly as the Consul server
 * forwards them (same method, path, body and headers; Host kept from the token URL), must verify there. And the
 * real GetCallerIdentity call the builder makes when the role ARN is unknown must pass the same verification.
 */
import { request } from 'node:http';
import { getIamEntity } from '@ecs-identity/consul-login';
import { type AwsEmulator, type FakeRole, startAws } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBearerToken } from '../src/bearer-token.js';
import { parseXml } from '../src/xml.js';
import { type DecodedRequest, decodeToken } from './token-checks.js';

let aws: AwsEmulator;
let role: FakeRole;

beforeAll(async () => {
  aws = await startAws({ region: 'us-west-2' });
  role = aws.addRole({
    name: 'web-task',
    path: '/ecs/services/',
    tags: { 'consul.hashicorp.com.service-name': 'web' },
  });
});
afterAll(() => aws.close());

/** Sends a decoded request to the fake the way consul-awsauth's buildHttpRequest does. */
function forward(r: DecodedRequest): Promise<{ status: number; contentType: string; body: string }> {
  const original = new URL(r.url);
  const target = new URL(original.pathname, aws.url);
  const headers: Record<string, string | string[]> = { host: original.host };
  for (const [k, v] of Object.entries(r.headers)) headers[k] = v;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: r.method, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(r.body);
  });
}

async function field(xml: string, ...path: string[]): Promise<unknown> {
  let node: unknown = await parseXml(xml);
  for (const p of path) node = (node as Record<string, unknown> | undefined)?.[p];
  return node;
}

describe('the token against the strict fake AWS', () => {
  it('verifies the STS and the embedded GetRole request (role with a path, server ID signed)', async () => {
    const credentials = aws.issueRoleCredentials(role.arn);
    const token = await buildBearerToken({ credentials, region: 'us-west-2', serverIdHeaderValue: 'consul.dc1' });
    const t = decodeToken(token);
    const sts = await forward(t);
    expect(sts.status).toBe(200);
    expect(sts.contentType).toMatch(/^text\/xml/);
    const arn = await field(sts.body, 'GetCallerIdentityResponse', 'GetCallerIdentityResult', 'Arn');
    expect(arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/web-task\//);
    const iam = await forward(t.entity as DecodedRequest);
    expect(iam.status).toBe(200);
    const got = await field(iam.body, 'GetRoleResponse', 'GetRoleResult', 'Role');
    expect(got).toMatchObject({ RoleName: 'web-task', Path: '/ecs/services/', Arn: role.arn, RoleId: role.roleId });
  });

  it('is rejected by AWS when anything signed is changed (tampered body, dropped server ID)', async () => {
    const credentials = aws.issueRoleCredentials(role.arn);
    const t = decodeToken(
      await buildBearerToken({ credentials, region: 'us-west-2', serverIdHeaderValue: 'consul.dc1' }),
    );
    const tampered = await forward({ ...t, body: 'Action=GetCallerIdentity&Version=2011-06-16' });
    expect(tampered.status).toBe(403);
    expect(await field(tampered.body, 'ErrorResponse', 'Error', 'Code')).toBe('SignatureDoesNotMatch');
    const { 'X-Consul-Iam-Serverid': _, ...withoutServerId } = t.headers;
    const dropped = await forward({ ...t, headers: withoutServerId });
    expect(dropped.status).toBe(403);
  });

  it('learns the role with a real signed GetCallerIdentity when the credentials carry no role ARN', async () => {
    const { roleArn: _, ...credentials } = aws.issueRoleCredentials(role.arn);
    const before = aws.requests.length;
    const token = await buildBearerToken({ credentials, region: 'us-west-2', stsEndpoint: aws.url });
    const calls = aws.requests.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ action: 'GetCallerIdentity', status: 200, service: 'sts' });
    const t = decodeToken(token);
    expect(t.entity?.body).toBe('Action=GetRole&RoleName=web-task&Version=2010-05-08');
    expect((await forward(t)).status).toBe(200);
    expect((await forward(t.entity as DecodedRequest)).status).toBe(200);
  });

  it('builds GetUser for IAM user keys (no session token) and AWS accepts it', async () => {
    const { user, credentials } = aws.addUser({ name: 'deployer', path: '/ci/' });
    const token = await buildBearerToken({ credentials, region: 'us-west-2', stsEndpoint: aws.url });
    const t = decodeToken(token);
    expect(t.headers['X-Amz-Security-Token']).toBeUndefined();
    expect(t.entity?.body).toBe('Action=GetUser&UserName=deployer&Version=2010-05-08');
    const iam = await forward(t.entity as DecodedRequest);
    expect(iam.status).toBe(200);
    expect(await field(iam.body, 'GetUserResponse', 'GetUserResult', 'User')).toMatchObject({ Arn: user.arn });
  });

  it('reports revoked credentials as INVALID_CREDENTIALS with the AWS code', async () => {
    const { roleArn: _, ...credentials } = aws.issueRoleCredentials(role.arn);
    aws.revokeCredentials(credentials.accessKeyId);
    const error = await buildBearerToken({ credentials, region: 'us-west-2', stsEndpoint: aws.url }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((error as Error).message).toContain('InvalidClientTokenId');
    expect((error as Error).message).not.toContain(credentials.secretAccessKey);
  });
});

describe('getIamEntity against the strict fake AWS', () => {
  it("reads the role the token names (ARN, path, tags) through the token's own GetRole request", async () => {
    const credentials = aws.issueRoleCredentials(role.arn);
    const details = await getIamEntity({
      credentials,
      region: 'us-west-2',
      stsEndpoint: aws.url,
      iamEndpoint: aws.url,
    });
    expect(details).toEqual({
      arn: role.arn,
      name: 'web-task',
      path: '/ecs/services/',
      tags: { 'consul.hashicorp.com.service-name': 'web' },
    });
  });

  it('says HTTP_STATUS 403 (not unusable credentials) when the role may not read itself', async () => {
    aws.setFault({
      match: 'GetRole',
      status: 403,
      contentType: 'text/xml',
      body: '<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized to perform: iam:GetRole</Message></Error></ErrorResponse>',
    });
    try {
      const credentials = aws.issueRoleCredentials(role.arn);
      const error = await getIamEntity({
        credentials,
        region: 'us-west-2',
        stsEndpoint: aws.url,
        iamEndpoint: aws.url,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'HTTP_STATUS',
        status: 403,
        message: expect.stringContaining('AccessDenied'),
      });
    } finally {
      aws.setFault(undefined);
    }
  });
});
