// The fake ZTS verifying attestation against the fake AWS: the ZTS signs GetCallerIdentity with the attested
// credentials (SigV4, checked strictly by the AWS emulator) and requires the assumed-role ARN of <domain>.<service>.
// The credentials come the way the Fargate SIA gets them: task-role credentials → sts:AssumeRole (real AWS SDK).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, startAws, startZts, stsCallerIdentity, type ZtsEmulator } from '../src/index.js';
import { call, makeCsr, manualClock, newKey, type TestKey } from './zts-helpers.js';

const PROVIDER = 'athenz.aws-ecs.us-west-2';
const TASK = '5f1e2d3c4b5a69788796a5b4c3d2e1f0';

let aws: AwsEmulator;
let zts: ZtsEmulator;
let key: TestKey;
const clock = manualClock();

beforeAll(async () => {
  aws = await startAws({ clock });
  const taskRole = aws.addRole({ name: 'sports.api-service' });
  aws.addRole({ name: 'sports.api', trust: [taskRole.arn] });
  aws.addRole({ name: 'sports.backend', trust: [taskRole.arn] });
  [zts, key] = await Promise.all([
    startZts({
      aws,
      clock,
      providers: [PROVIDER],
      domains: [{ name: 'sports', awsAccount: aws.accountId, services: ['api'] }],
    }),
    newKey(),
  ]);
});

afterAll(async () => {
  await Promise.all([zts?.close(), aws?.close()]);
});

/** What sia-fargate does: assume `<domain>.<service>` with the task role's credentials. */
async function assume(roleName: string) {
  const taskCreds = aws.issueRoleCredentials(aws.role('sports.api-service')!.arn);
  const sts = new STSClient({
    region: aws.region,
    endpoint: aws.url,
    credentials: {
      accessKeyId: taskCreds.accessKeyId,
      secretAccessKey: taskCreds.secretAccessKey,
      sessionToken: taskCreds.sessionToken!,
    },
  });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: aws.role(roleName)!.arn, RoleSessionName: roleName }));
  sts.destroy();
  const c = out.Credentials!;
  return { access: c.AccessKeyId!, secret: c.SecretAccessKey!, token: c.SessionToken! };
}

async function register(attestation: Record<string, string>) {
  const csr = await makeCsr(key, {
    subject: `CN=sports.api, OU=${PROVIDER}`,
    dns: ['api.sports.athenz.cloud'],
    uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${TASK}`],
  });
  return call(`${zts.baseUrl}/instance`, 'POST', {
    ca: zts.caPem,
    json: {
      provider: PROVIDER,
      domain: 'sports',
      service: 'api',
      csr,
      attestationData: JSON.stringify({ role: 'sports.api', commonName: 'sports.api', taskid: TASK, ...attestation }),
    },
  });
}

describe('attestation through the AWS emulator', () => {
  it('registers with credentials of the assumed role <domain>.<service>', async () => {
    const res = await register(await assume('sports.api'));
    expect(res.status).toBe(201);
    const sts = aws.requests.filter((r) => r.action === 'GetCallerIdentity');
    expect(sts.at(-1)).toMatchObject({ status: 200 });
    expect(sts.at(-1)?.callerArn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\/sports\.api\/sports\.api$/);
  });

  it('refuses credentials of another role', async () => {
    const res = await register(await assume('sports.backend'));
    expect(res.json).toEqual({
      code: 403,
      message: 'unable to verify attestation data: Unable to verify instance identity credentials',
    });
  });

  it('refuses the task role credentials themselves (not the assumed role)', async () => {
    const c = aws.issueRoleCredentials(aws.role('sports.api-service')!.arn);
    const res = await register({ access: c.accessKeyId, secret: c.secretAccessKey, token: c.sessionToken! });
    expect(res.status).toBe(403);
  });

  it('refuses revoked credentials and a wrong secret (the AWS emulator rejects the signature)', async () => {
    const creds = await assume('sports.api');
    expect((await register({ ...creds, secret: `${creds.secret}x` })).status).toBe(403);
    aws.revokeCredentials(creds.access);
    expect((await register(creds)).status).toBe(403);
    const codes = aws.requests.slice(-2).map((r) => r.errorCode);
    expect(codes).toEqual(['SignatureDoesNotMatch', 'InvalidClientTokenId']);
  });

  it('signs with the injected clock (a ZTS clock 20 minutes off is refused by STS)', async () => {
    const creds = await assume('sports.api');
    const skewed = stsCallerIdentity(aws.url, aws.region);
    await expect(
      skewed(
        { accessKeyId: creds.access, secretAccessKey: creds.secret, sessionToken: creds.token },
        new Date(clock.now() + 20 * 60_000),
      ),
    ).rejects.toThrow(/403/);
    const arn = await skewed(
      { accessKeyId: creds.access, secretAccessKey: creds.secret, sessionToken: creds.token },
      new Date(clock.now()),
    );
    expect(arn).toContain(':assumed-role/sports.api/');
  });
});
