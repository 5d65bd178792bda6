import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { consulAddress } from './consul-address.js';

describe('consulAddress', () => {
  it('follows the Consul CLI: option, CONSUL_HTTP_ADDR, default; CONSUL_HTTP_SSL picks https', () => {
    expect(consulAddress(undefined, {})).toBe('http://127.0.0.1:8500');
    expect(consulAddress(undefined, { CONSUL_HTTP_ADDR: 'consul.service:8501', CONSUL_HTTP_SSL: 'true' })).toBe(
      'https://consul.service:8501',
    );
    expect(consulAddress(undefined, { CONSUL_HTTP_ADDR: 'https://10.0.0.1:8501' })).toBe('https://10.0.0.1:8501');
    expect(consulAddress('localhost:8500', { CONSUL_HTTP_ADDR: 'https://other:1' })).toBe('http://localhost:8500');
    expect(consulAddress(undefined, { CONSUL_HTTP_ADDR: '[::1]:8500', CONSUL_HTTP_SSL: '0' })).toBe(
      'http://[::1]:8500',
    );
  });

  it('rejects unix sockets, paths, bad booleans and garbage with INVALID_CONFIG', () => {
    for (const [address, env] of [
      [undefined, { CONSUL_HTTP_ADDR: 'unix:///var/run/consul.sock' }],
      ['http://consul:8500/v1', {}],
      ['http://user:pw@consul:8500', {}],
      [undefined, { CONSUL_HTTP_ADDR: 'consul:8500', CONSUL_HTTP_SSL: 'yes' }],
      ['ftp://consul:21', {}],
      ['consul:notaport', {}],
    ] as const) {
      let error: unknown;
      try {
        consulAddress(address, env);
      } catch (e) {
        error = e;
      }
      expect(IdentityError.is(error, 'INVALID_CONFIG'), String(address ?? env.CONSUL_HTTP_ADDR)).toBe(true);
      expect((error as Error).message).not.toContain('pw');
    }
  });
});
