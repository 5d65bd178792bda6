import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types
import { isLoopbackDestination } from './network-guard.mjs';

describe('test network guard', () => {
  it('allows loopback and refuses every other destination', () => {
    for (const host of [undefined, '', 'localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackDestination(host), String(host)).toBe(true);
    }
    for (const host of [
      '169.254.170.2',
      '169.254.169.254',
      'fd00:ec2::23',
      '10.0.0.1',
      'sts.amazonaws.com',
      '128.0.0.1',
    ]) {
      expect(isLoopbackDestination(host), host).toBe(false);
    }
  });

  it('is installed in this worker and passed on to child processes', () => {
    expect((net.Socket.prototype.connect as { __ecsIdentityGuard?: boolean }).__ecsIdentityGuard).toBe(true);
    const child = spawnSync(
      process.execPath,
      ['-e', "console.log(require('node:net').Socket.prototype.connect.__ecsIdentityGuard === true)"],
      { encoding: 'utf8' },
    );
    expect(child.stdout.trim()).toBe('true');
  });
});
