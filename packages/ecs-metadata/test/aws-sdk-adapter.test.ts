// Proof that toAwsCredentialIdentityProvider works for a real AWS SDK v3 client: an STSClient signs with it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type CredentialProvider, IdentityError } from '@ecs-identity/core';
import {
  type AwsCredentials,
  awsCredentials,
  containerCredentials,
  toAwsCredentialIdentityProvider,
} from '@ecs-identity/ecs-metadata';
import { startAws, startEcsAgent } from '@ecs-identity/testkit';
import { CredentialsProviderError, chain } from '@smithy/core/config';
import { afterEach, describe, expect, it } from 'vitest';

const XML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/ecs-task-role/0123456789abcdef</Arn>
    <UserId>AROAEXAMPLE:0123456789abcdef</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A tiny capture server: records each request's headers and answers like STS. */
async function captureServer(): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(XML));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function staticProvider(credential: AwsCredentials): CredentialProvider<AwsCredentials> & { gets: number } {
  const p = {
    gets: 0,
    async get() {
      p.gets += 1;
      return credential;
    },
    subscribe: () => () => {},
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return p;
}

describe('toAwsCredentialIdentityProvider', () => {
  it('an @aws-sdk/client-sts client signs GetCallerIdentity with the adapted credentials', async () => {
    const sts = await captureServer();
    const provider = staticProvider(
      awsCredentials({
        accessKeyId: 'ASIAADAPTERTEST00001',
        secretAccessKey: 'adapter-secret-key-0000000000000000000000',
        sessionToken: 'adapter-session-token-value',
        expiresAt: new Date(Date.now() + 3600_000),
      }),
    );
    const client = new STSClient({
      region: 'us-west-2',
      endpoint: sts.url,
      credentials: toAwsCredentialIdentityProvider(provider),
      maxAttempts: 1,
    });
    cleanups.push(async () => client.destroy());
    const out = await client.send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe('123456789012');
    expect(sts.seen).toHaveLength(1);
    const headers = sts.seen[0]!;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAADAPTERTEST00001\/\d{8}\/us-west-2\/sts\/aws4_request, SignedHeaders=[^,]*x-amz-security-token[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('adapter-session-token-value');
    expect(provider.gets).toBeGreaterThanOrEqual(1);
  });

  it('passes the credential through, with expiration and account, and forwards forceRefresh', async () => {
    const seen: unknown[] = [];
    const credential = awsCredentials({
      accessKeyId: 'ASIAX',
      secretAccessKey: 'S',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      accountId: '123456789012',
      roleArn: 'arn:aws:iam::123456789012:role/r',
    });
    const provider: CredentialProvider<AwsCredentials> = {
      get: async (options) => {
        seen.push(options);
        return credential;
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const identity = await toAwsCredentialIdentityProvider(provider)({ forceRefresh: true });
    expect(identity).toEqual({
      accessKeyId: 'ASIAX',
      secretAccessKey: 'S',
      expiration: new Date('2030-01-01T00:00:00Z'),
      accountId: '123456789012',
    });
    expect(seen).toEqual([{ forceRefresh: true }]);
  });

  it("reaches the SDK as its CredentialsProviderError, the provider's error as cause, tryNextLink only when unconfigured", async () => {
    const failing = (error: unknown): CredentialProvider<AwsCredentials> => ({
      get: async () => {
        throw error;
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    });
    const down = new IdentityError('CREDENTIALS_UNAVAILABLE', 'no task role');
    const e = (await toAwsCredentialIdentityProvider(failing(down))().catch((x: unknown) => x)) as Error & {
      tryNextLink: boolean;
    };
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ name: 'CredentialsProviderError', message: 'no task role', tryNextLink: false });
    expect(e.cause).toBe(down);
    const unset = new IdentityError('INVALID_CONFIG', 'nothing configured');
    await expect(toAwsCredentialIdentityProvider(failing(unset))()).rejects.toMatchObject({ tryNextLink: true });
  });

  it('with a factory, a configuration error is raised when the SDK asks, and a chain moves on to the next link', async () => {
    let made = 0;
    const adapted = toAwsCredentialIdentityProvider(() => {
      made++;
      return containerCredentials({ env: {} }); // no AWS_CONTAINER_* variable: INVALID_CONFIG
    });
    expect(made).toBe(0);
    const next = awsCredentials({ accessKeyId: 'AKIANEXTLINK00000001', secretAccessKey: 'next-link-secret' });
    // The SDK's chain (what its default provider chain is built on) tries the next link on tryNextLink.
    const chained = chain(adapted, async () => ({
      accessKeyId: next.accessKeyId,
      secretAccessKey: next.secretAccessKey,
    }));
    expect(await chained()).toMatchObject({ accessKeyId: 'AKIANEXTLINK00000001' });
    expect(made).toBe(1);
    // A configured source that fails does not fall through to another identity.
    const agent = await startEcsAgent();
    cleanups.push(() => agent.close());
    agent.setFault({ match: 'credentials', status: 403 });
    const refused = toAwsCredentialIdentityProvider(() =>
      containerCredentials({ env: agent.env, retry: { initial: { maxAttempts: 1 } } }),
    );
    await expect(chain(refused, async () => ({ accessKeyId: 'x', secretAccessKey: 'y' }))()).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      tryNextLink: false,
    });
  });

  it('end to end: the fake ECS agent -> containerCredentials -> STSClient', async () => {
    const sts = await captureServer();
    const agent = await startEcsAgent();
    cleanups.push(() => agent.close());
    const creds = containerCredentials({ env: agent.env });
    cleanups.push(() => creds.close());
    const client = new STSClient({
      region: agent.region,
      endpoint: sts.url,
      credentials: toAwsCredentialIdentityProvider(creds),
      maxAttempts: 1,
    });
    cleanups.push(async () => client.destroy());
    await client.send(new GetCallerIdentityCommand({}));
    const issued = await creds.get();
    expect(sts.seen[0]?.authorization).toContain(`Credential=${issued.accessKeyId}/`);
    expect(sts.seen[0]?.['x-amz-security-token']).toBe(issued.sessionToken);
    expect(agent.requests.filter((r) => r.endpoint === 'credentials')).toHaveLength(1);
  });

  it('the strict fake AWS recognises the task-role credentials the agent hands out', async () => {
    const aws = await startAws({ roles: [{ name: 'sports.api-service', path: '/ecs/' }] });
    cleanups.push(() => aws.close());
    const role = aws.role('sports.api-service')!;
    const agent = await startEcsAgent({
      taskRoleArn: role.arn,
      credentials: async (roleArn) => aws.issueRoleCredentials(roleArn),
    });
    cleanups.push(() => agent.close());
    const creds = containerCredentials({ env: agent.env });
    cleanups.push(() => creds.close());
    expect((await creds.get()).roleArn).toBe('arn:aws:iam::123456789012:role/ecs/sports.api-service');
    const client = new STSClient({
      region: aws.region,
      endpoint: aws.url,
      credentials: toAwsCredentialIdentityProvider(creds),
      maxAttempts: 1,
    });
    cleanups.push(async () => client.destroy());
    const me = await client.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/sports\.api-service\/[0-9a-f]{32}$/);
  });
});
