import { describe, expect, it } from 'vitest';
import { rejection } from '../test/rejection.js';
import { createHttpClient, formEncode, isAllowedPlainHttpHost, safeUrl } from './transport.js';

describe('transport in a real browser', () => {
  it('runs in Chromium', () => {
    expect(typeof window).toBe('object');
    expect(typeof document).toBe('object');
  });

  it('refuses plain http to a public host before any fetch, and allows the ECS and loopback hosts', async () => {
    const calls: string[] = [];
    const spy = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return new Response('ok');
    }) as typeof fetch;
    const e = await rejection(createHttpClient({ fetch: spy }).request({ url: 'http://example.com/?token=abc' }));
    expect(e.code).toBe('INSECURE_URL');
    expect(e.message).not.toContain('token=abc');
    expect(calls).toEqual([]);
    expect(isAllowedPlainHttpHost('169.254.170.2')).toBe(true);
    expect(isAllowedPlainHttpHost('[fd00:ec2::23]')).toBe(true);
    expect(isAllowedPlainHttpHost('127.0.0.1')).toBe(true);
    expect(isAllowedPlainHttpHost('169.254.169.254')).toBe(false);
    const ok = await createHttpClient({ fetch: spy, allowInsecureHttp: true }).request({ url: 'http://example.com/' });
    expect(ok.text()).toBe('ok');
  });

  it("fetches with the browser's own fetch and enforces the size cap on its stream", async () => {
    // The test module itself, served by the vitest server on localhost (plain http to loopback is allowed).
    const url = new URL(import.meta.url);
    const client = createHttpClient();
    const res = await client.request({ url });
    expect(res.status).toBe(200);
    expect(res.body.byteLength).toBeGreaterThan(64);
    const e = await rejection(client.request({ url, maxResponseBytes: 64 }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
  });

  it('times out a fetch that never answers', async () => {
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      })) as typeof fetch;
    const e = await rejection(
      createHttpClient({ fetch: hanging }).request({ url: 'https://a.example/', timeoutMs: 20 }),
    );
    expect([e.code, e.retryable]).toEqual(['TIMEOUT', true]);
  });

  it('formEncode and safeUrl work without Node', () => {
    expect(formEncode({ grant_type: 'client_credentials', scope: 'a b' })).toBe(
      'grant_type=client_credentials&scope=a+b',
    );
    expect(safeUrl('https://u:p@h.example/p?q=1#f')).toBe('https://h.example/p');
  });
});
