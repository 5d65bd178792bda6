/**
 * Test helper: a canned-answer HTTP server on 127.0.0.1 (ephemeral port) that records each request. For client unit
 * tests only (request shape, error mapping); the protocol rules are enforced by the testkit fakes in the e2e tests.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface StubAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface Stub {
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

export async function startStub(answer: (req: StubRequest) => StubAnswer | Promise<StubAnswer>): Promise<Stub> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: StubRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      Promise.resolve(answer(r)).then(
        (a) => {
          res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json' });
          res.end(a.body);
        },
        () => {
          res.writeHead(599);
          res.end('stub handler failed');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Consul ACL token answer as /v1/acl/login gives it. */
export function tokenJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    AccessorID: '6a1253d2-1785-24fd-91c2-f8e78c745511',
    SecretID: '45a3bd52-07c7-47a4-52fd-0745e0cfe967',
    Description: 'token created via login: {"consul.hashicorp.com/task-id":"abc"}',
    Policies: null,
    Roles: [{ ID: 'r1', Name: 'web-role' }],
    ServiceIdentities: [{ ServiceName: 'web' }],
    Local: true,
    AuthMethod: 'iam-ecs-service-token',
    CreateTime: '2026-01-02T03:04:05.123456789Z',
    Hash: 'abc=',
    CreateIndex: 10,
    ModifyIndex: 10,
    ...overrides,
  });
}
