// Attestation against the testkit's strict fake STS (every SigV4 signature re-verified).
import { readdirSync, readFileSync } from 'node:fs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { stsAttestor } from '@ecs-identity/athenz-zts';
import { IdentityError } from '@ecs-identity/core';
import { type AwsEmulator, startAws } from '@ecs-identity/testkit';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakedSecrets } from '../../../test-support/secret-scan.js';
import { type AttestationOptions, buildAttestationData } from '../src/attestation.js';

let aws: AwsEmulator;
let taskRoleArn: string;
let serviceRoleArn: string;
beforeAll(async () => {
  aws = await startAws({ region: 'us-west-2' });
  taskRoleArn = aws.addRole({ name: 'sports.api-service', path: '/ecs/', trust: ['*'] }).arn;
  serviceRoleArn = aws.addRole({ name: 'sports.api', trust: [taskRoleArn] }).arn;
  aws.addRole({ name: 'sports.other', trust: [] });
});
afterAll(() => aws.close());

/** One attestation through a short-lived attestor (what the providers do with a long-lived one). */
async function attest(options: AttestationOptions): Promise<string> {
  const { region, stsEndpoint, credentials, timeoutMs, http, ...request } = options;
  const attestor = stsAttestor({ region, stsEndpoint, credentials, timeoutMs, http });
  try {
    return await attestor.attest(request);
  } finally {
    attestor.close();
  }
}

const base = () => ({
  domain: 'sports',
  service: 'api',
  taskId: '7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e',
  region: 'us-west-2',
  stsEndpoint: aws.url,
  credentials: aws.issueRoleCredentials(taskRoleArn),
});

describe('attest', () => {
  it('assumes <domain>.<service> with session <domain>.<service>; ZTS can verify the result with GetCallerIdentity', async () => {
    const json = await attest({ ...base(), roleArn: serviceRoleArn });
    const data = JSON.parse(json) as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(['access', 'commonName', 'role', 'secret', 'taskid', 'token']);
    expect(data.role).toBe('sports.api');
    expect(data.commonName).toBe('sports.api');
    expect(data.taskid).toBe('7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e');
    // What the ZTS server does with it:
    const sts = new STSClient({
      region: 'us-west-2',
      endpoint: aws.url,
      credentials: { accessKeyId: data.access!, secretAccessKey: data.secret!, sessionToken: data.token! },
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:sts::123456789012:assumed-role/sports.api/sports.api');
    sts.destroy();
    const calls = aws.requests.filter((r) => r.action === 'AssumeRole');
    expect(calls.at(-1)?.status).toBe(200);
  });

  it('takes the credentials from a provider, fresh each call', async () => {
    let gets = 0;
    const provider = {
      get: async () => {
        gets++;
        return aws.issueRoleCredentials(taskRoleArn);
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    await attest({ ...base(), credentials: provider, roleArn: serviceRoleArn });
    await attest({ ...base(), credentials: provider, roleArn: serviceRoleArn });
    expect(gets).toBe(2);
  });

  it('fails with ATTESTATION_FAILED when the role does not trust the task role, without leaking credentials', async () => {
    const b = base();
    const e = await attest({ ...b, roleArn: aws.role('sports.other')!.arn }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain('sports.other');
    expect(message).not.toContain(b.credentials.secretAccessKey);
    expect(message).not.toContain(b.credentials.sessionToken!);
    expect((e as IdentityError).retryable).toBe(false);
  });

  it('is retryable when STS is unreachable', async () => {
    const e = await attest({
      ...base(),
      stsEndpoint: 'http://127.0.0.1:9',
      roleArn: serviceRoleArn,
      timeoutMs: 1000,
    }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
    expect((e as IdentityError).retryable).toBe(true);
  });

  it('checks the session name length and characters before calling STS', async () => {
    const before = aws.requests.length;
    const long = 'a'.repeat(65);
    for (const sessionName of [long, 'bad name', 'x']) {
      const e = await attest({ ...base(), roleArn: serviceRoleArn, sessionName }).catch((err: unknown) => err);
      expect(IdentityError.is(e, 'INVALID_ARGUMENT')).toBe(true);
    }
    // a <domain>.<service> longer than 64 characters needs an explicit session name
    const e = await attest({
      ...base(),
      domain: `${'d'.repeat(40)}`,
      service: 's'.repeat(30),
      roleArn: serviceRoleArn,
    }).catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/2-64 characters/);
    expect(aws.requests.length).toBe(before);
  });

  it('refuses a global endpoint outside the aws partition', async () => {
    const e = await attest({
      ...base(),
      stsEndpoint: 'global',
      roleArn: 'arn:aws-cn:iam::123456789012:role/sports.api',
    }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'INVALID_CONFIG')).toBe(true);
  });
});

describe('stsAttestor', () => {
  const request = () => ({
    domain: 'sports',
    service: 'api',
    taskId: '7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e',
    roleArn: serviceRoleArn,
  });

  it('the browser-safe build loads no SDK by itself: INVALID_CONFIG naming loadSdk; given one, it attests', async () => {
    // The default-condition build (what a bundler takes): neither stsAttestor nor athenzContext imports the SDK.
    const browser = await import('../src/index.js');
    const credentials = aws.issueRoleCredentials(taskRoleArn);
    const refused = (() => {
      try {
        return browser.stsAttestor({ region: 'us-west-2', stsEndpoint: aws.url, credentials });
      } catch (e) {
        return e;
      }
    })();
    expect(IdentityError.is(refused, 'INVALID_CONFIG')).toBe(true);
    expect((refused as Error).message).toContain("loadSdk: () => import('@aws-sdk/client-sts')");
    expect(() => browser.athenzContext({ names: { domain: 'sports', service: 'api' } })).toThrow(/sts\.loadSdk/);
    let loads = 0;
    const attestor = browser.stsAttestor({
      region: 'us-west-2',
      stsEndpoint: aws.url,
      credentials,
      loadSdk: () => {
        loads++;
        return import('@aws-sdk/client-sts');
      },
    });
    try {
      const data = JSON.parse(await attestor.attest(request())) as Record<string, string>;
      expect(data.role).toBe('sports.api');
      expect(loads).toBeGreaterThan(0);
    } finally {
      attestor.close();
    }
  });

  it('keeps one client but signs each AssumeRole with what the source gives at that time', async () => {
    // The second answer is a role the service role does not trust: if the client kept the first credentials
    // (the SDK caches a credential function by default), the second AssumeRole would still succeed.
    const answers = [aws.issueRoleCredentials(taskRoleArn), aws.issueRoleCredentials(aws.role('sports.other')!.arn)];
    let gets = 0;
    const provider = {
      get: async () => answers[Math.min(gets++, answers.length - 1)]!,
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const attestor = stsAttestor({ region: 'us-west-2', stsEndpoint: aws.url, credentials: provider });
    try {
      const first = JSON.parse(await attestor.attest(request())) as Record<string, string>;
      expect(first.role).toBe('sports.api');
      expect(gets).toBe(1);
      const e = await attestor.attest(request()).catch((err: unknown) => err);
      expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
      expect(gets).toBe(2);
    } finally {
      attestor.close();
    }
  });

  it('makes a new AssumeRole per call: each attestation carries its own session credentials', async () => {
    const attestor = stsAttestor({
      region: 'us-west-2',
      stsEndpoint: aws.url,
      credentials: aws.issueRoleCredentials(taskRoleArn),
    });
    const before = aws.requests.filter((r) => r.action === 'AssumeRole').length;
    const a = JSON.parse(await attestor.attest(request())) as Record<string, string>;
    const b = JSON.parse(await attestor.attest(request())) as Record<string, string>;
    attestor.close();
    expect(aws.requests.filter((r) => r.action === 'AssumeRole').length - before).toBe(2);
    expect(a.access).not.toBe(b.access);
    expect(a.token).not.toBe(b.token);
  });

  it("reports the credential source's own error, and refuses calls after close()", async () => {
    const broken = new IdentityError('METADATA_UNAVAILABLE', 'no credentials endpoint');
    const provider = {
      get: async () => {
        throw broken;
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const attestor = stsAttestor({ region: 'us-west-2', stsEndpoint: aws.url, credentials: provider });
    expect(await attestor.attest(request()).catch((err: unknown) => err)).toBe(broken);
    attestor.close();
    const e = await attestor.attest(request()).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('buildAttestationData', () => {
  it('requires temporary credentials', () => {
    expect(() =>
      buildAttestationData({
        domain: 'sports',
        service: 'api',
        taskId: 't1',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-secret' },
      }),
    ).toThrow(/session token/);
  });
});

it('only the Node build loads @aws-sdk/client-sts (node/sts-sdk.ts), and only lazily', () => {
  const dir = new URL('../src/', import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  // Loads of the SDK in the code (a static import that is not type-only, an `import()` or a `require`-like call, which
  // count as lazy only inside a function), not in types or prose.
  const loads = (file: string) => {
    const source = ts.createSourceFile(file, readFileSync(new URL(file, dir), 'utf8'), ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const visit = (node: ts.Node, inFunction: boolean) => {
      const sdk = (e: ts.Node | undefined) =>
        e !== undefined && ts.isStringLiteral(e) && e.text === '@aws-sdk/client-sts';
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && sdk(node.moduleSpecifier))
        found.push('static');
      if (ts.isCallExpression(node) && sdk(node.arguments[0])) {
        const how = node.expression.kind === ts.SyntaxKind.ImportKeyword ? 'import()' : 'require';
        found.push(inFunction ? how : `${how} at load`);
      }
      ts.forEachChild(node, (child) => visit(child, inFunction || ts.isFunctionLike(node)));
    };
    visit(source, false);
    return found;
  };
  const users = files.filter((f) => loads(f).length > 0).map((f) => f.replaceAll('\\', '/'));
  expect(users).toEqual(['node/sts-sdk.ts']);
  // require: the SDK is CommonJS, and import() would also run Node's CommonJS export lexer over it
  expect(loads('node/sts-sdk.ts')).toEqual(['require']);
});

describe('attestation under a network policy', () => {
  // What the SDK's own handler did: a STS that accepts and never answers left the attestation pending for ever, and the
  // AWS SDK's error (kept as cause) printed the answer it could not read, credentials included.
  it('settles within the per-request timeout when STS accepts the connection and never answers', async () => {
    aws.setFault({ match: 'AssumeRole', hang: true, times: 1 });
    const e = await attest({ ...base(), roleArn: serviceRoleArn, timeoutMs: 300 }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
    expect((e as IdentityError).retryable).toBe(true);
    expect(((e as IdentityError).cause as IdentityError).code).toBe('TIMEOUT');
  });

  it('keeps no secret in the error, its causes, or their hidden fields on any formatting path', async () => {
    const b = base();
    const assumed = {
      secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY',
      token: 'FwoGZXIvYXdzEBYaDFAKESESSIONTOKEN0123',
    };
    // A 200 answer that is not well-formed XML but carries the assumed role's credentials: the SDK's deserialization
    // error keeps it (hidden) as $response.
    const body =
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
      `<AccessKeyId>ASIAFAKEFAKEFAKE</AccessKeyId><SecretAccessKey>${assumed.secret}</SecretAccessKey>` +
      `<SessionToken>${assumed.token}</SessionToken><Expiration>2026-`;
    aws.setFault({ match: 'AssumeRole', status: 200, body, times: 1 });
    const e = await attest({ ...b, roleArn: serviceRoleArn }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
    const secrets = [b.credentials.secretAccessKey, b.credentials.sessionToken, assumed.secret, assumed.token];
    expect(leakedSecrets(e, secrets)).toEqual([]);
  });

  it('sends STS requests through the URL policy: plain http only to loopback unless the client opts in', async () => {
    const before = aws.requests.length;
    const e = await attest({ ...base(), stsEndpoint: 'http://sts.example.com', roleArn: serviceRoleArn }).catch(
      (err: unknown) => err,
    );
    expect(IdentityError.is(e, 'INSECURE_URL')).toBe(true);
    expect(aws.requests.length).toBe(before);
  });

  it('caps the answer it reads (a 10 MiB body is RESPONSE_TOO_LARGE, retryable as a failed attestation)', async () => {
    aws.setFault({ match: 'AssumeRole', padTo: 10 * 1024 * 1024, times: 1 });
    const e = await attest({ ...base(), roleArn: serviceRoleArn }).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ATTESTATION_FAILED')).toBe(true);
    expect(((e as IdentityError).cause as IdentityError).code).toBe('RESPONSE_TOO_LARGE');
  });
});
