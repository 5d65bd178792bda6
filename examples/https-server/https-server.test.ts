/**
 * Smoke test: the example as a child process on its emulators. A client that trusts only the ZTS CA and checks the
 * service's DNS name gets an answer; SIGHUP forces a refresh and the next handshake presents the new certificate from
 * the same listener; SIGTERM stops it with exit 0.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startExample } from '../shared/child.js';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function get(port: number, servername: string, ca: string): Promise<{ serial: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername, ca, path: '/', agent: false, timeout: 5000 }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      res.on('end', () => resolve({ serial, body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sameSerial = (a: string, b: string) => a.toLowerCase().replace(/^0+/, '') === b.toLowerCase().replace(/^0+/, '');

describe('https-server (child process)', () => {
  it('serves on the service cert, rotates it in place on SIGHUP, stops on SIGTERM', async () => {
    const { child, output, exited } = startExample(main, ['--emulators']);
    try {
      await waitFor(() => output().includes('ready (pid') || child.exitCode !== null, 'the server to be ready');
      const m = /--cacert (\S+) --resolve ([^:]+):(\d+):127\.0\.0\.1/.exec(output());
      expect(m, output()).toBeTruthy();
      const [, caFile, host, portText] = m!;
      const ca = await readFile(caFile!, 'utf8');
      const port = Number(portText);
      expect(host).toBe('api.sports.athenz.cloud');

      const first = await get(port, host!, ca);
      expect(first.body).toMatchObject({ service: 'sports.api', rotations: 0 });
      expect(sameSerial(first.serial, String(first.body.serial))).toBe(true);

      child.kill('SIGHUP');
      await waitFor(() => output().includes('certificate rotated in place'), 'the rotation');
      const second = await get(port, host!, ca);
      expect(second.body).toMatchObject({ service: 'sports.api', rotations: 1 });
      expect(sameSerial(second.serial, first.serial)).toBe(false);
      expect(sameSerial(second.serial, String(second.body.serial))).toBe(true);
      expect(output()).toMatch(new RegExp(`serial ${String(first.body.serial)} -> ${String(second.body.serial)}`));

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(caFile!)).toBe(false);
      expect(output()).not.toContain('PRIVATE KEY');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
