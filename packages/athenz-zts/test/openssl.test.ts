// Our CSRs and key files, read back by the openssl CLI: an independent ASN.1 / PEM implementation.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildRoleCsr,
  buildServiceCsr,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
} from '@ecs-identity/athenz-zts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPublicKeyPem } from '../src/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'athenz-zts-openssl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[], input?: { name: string; text: string }): { out: string; err: string } {
  if (input) writeFileSync(join(dir, input.name), input.text);
  // -verify prints its verdict on stderr, so keep both streams.
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return { out: r.stdout, err: r.stderr };
}

let rsa: CryptoKeyPair;
let ec: CryptoKeyPair;
beforeAll(async () => {
  [rsa, ec] = await Promise.all([generateKeyPair(), generateKeyPair({ type: 'ec' })]);
});

const base = {
  domain: 'sports.prod',
  service: 'api',
  provider: 'athenz.aws-ecs.us-west-2',
  instanceId: '7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e',
};

describe('openssl accepts what we build', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`service CSR (${kind}): self-signature verifies, subject and SANs as built`, async () => {
      const keys = kind === 'rsa' ? rsa : ec;
      const { pem } = await buildServiceCsr({ ...base, keys, dnsSuffixes: ['aws.athenz.cloud'], wildcard: true });
      const { out, err } = openssl(['req', '-in', `svc-${kind}.csr`, '-verify', '-noout', '-text'], {
        name: `svc-${kind}.csr`,
        text: pem,
      });
      expect(err).toMatch(/verify OK/);
      expect(out).toMatch(/Subject: OU\s*=\s*athenz\.aws-ecs\.us-west-2, CN\s*=\s*sports\.prod\.api/);
      expect(out).toContain(
        'DNS:api.sports-prod.aws.athenz.cloud, DNS:*.api.sports-prod.aws.athenz.cloud, ' +
          'URI:spiffe://sports.prod/sa/api, URI:athenz://instanceid/athenz.aws-ecs.us-west-2/7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e',
      );
      expect(out).toMatch(kind === 'rsa' ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/);
    });
  }

  it('role CSR: verifies; URIs and email, no DNS', async () => {
    const { pem } = await buildRoleCsr({
      ...base,
      keys: rsa,
      roleDomain: 'weather',
      role: 'readers',
      emailDomain: 'zts.athenz.cloud',
    });
    const { out, err } = openssl(['req', '-in', 'role.csr', '-verify', '-noout', '-text'], {
      name: 'role.csr',
      text: pem,
    });
    expect(err).toMatch(/verify OK/);
    expect(out).toMatch(/CN\s*=\s*weather:role\.readers/);
    expect(out).toContain('URI:spiffe://weather/ra/readers');
    expect(out).toContain('URI:athenz://principal/sports.prod.api');
    expect(out).toContain('email:sports.prod.api@zts.athenz.cloud');
    expect(out).not.toContain('DNS:');
  });

  it('key files: PKCS#1, SEC1 and PKCS#8 pass openssl checks and match the CSR key', async () => {
    const files: [string, string, string[]][] = [
      ['rsa1.pem', await exportPrivateKeyPem(rsa.privateKey), ['rsa', '-check', '-noout', '-in', 'rsa1.pem']],
      [
        'rsa8.pem',
        await exportPrivateKeyPem(rsa.privateKey, { format: 'pkcs8' }),
        ['pkey', '-noout', '-in', 'rsa8.pem'],
      ],
      ['ec1.pem', await exportPrivateKeyPem(ec.privateKey), ['ec', '-check', '-noout', '-in', 'ec1.pem']],
      ['ec8.pem', await exportPrivateKeyPem(ec.privateKey, { format: 'pkcs8' }), ['pkey', '-noout', '-in', 'ec8.pem']],
    ];
    for (const [name, text, args] of files) {
      expect(() => openssl(args, { name, text })).not.toThrow();
    }
    const { pem } = await buildServiceCsr({ ...base, keys: rsa, dnsSuffixes: ['aws.athenz.cloud'] });
    const fromCsr = openssl(['req', '-in', 'k.csr', '-pubkey', '-noout'], { name: 'k.csr', text: pem }).out;
    expect(openssl(['pkey', '-in', 'rsa1.pem', '-pubout']).out).toBe(fromCsr);
    expect(openssl(['pkey', '-in', 'rsa8.pem', '-pubout']).out).toBe(fromCsr);
  });

  it('imports keys written by openssl itself', async () => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', 'gen-ec.pem']);
    openssl(['genrsa', '-traditional', '-out', 'gen-rsa.pem', '1024']);
    for (const file of ['gen-ec.pem', 'gen-rsa.pem']) {
      const keys = await importPrivateKeyPem(readFileSync(join(dir, file), 'utf8'));
      expect(await exportPublicKeyPem(keys.publicKey)).toBe(openssl(['pkey', '-in', file, '-pubout']).out);
    }
  });
});
