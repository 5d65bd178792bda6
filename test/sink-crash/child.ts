// Child of sink-crash.test.ts: writes through one public sink in a tight loop until the parent SIGKILLs it. Bundled to
// plain JS by the parent (a tsx start costs ~250 ms a spawn; this one ~60 ms).
//   node child.mjs <siad|consul> <root> <data.json>
// stdout: "ready\n" once loaded, then (after "go" on stdin) "started\n", then one "." per completed write.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { siadFileSink } from '@ecs-identity/athenz-zts/node';
import { tokenFileSink } from '@ecs-identity/consul-login/node';
import { parseConsulToken } from '../../packages/consul-login/src/consul-token.js';

interface Data {
  pairs: { key: number; keyPem: string; certPem: string }[];
  chains: string[];
  secrets: string[];
}

const [mode, root, dataFile] = process.argv.slice(2) as [string, string, string];
const data = JSON.parse(readFileSync(dataFile, 'utf8')) as Data;
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

let write: () => Promise<void>;
if (mode === 'siad') {
  const sink = siadFileSink({ root });
  let last = pick(data.pairs);
  write = async () => {
    // Half the writes keep the key and change only the certificate (the common refresh), half rotate the key.
    const sameKey = Math.random() < 0.5;
    const pool = data.pairs.filter((p) => (sameKey ? p.key === last.key && p !== last : p.key !== last.key));
    const next = pool.length > 0 ? pick(pool) : last;
    await sink.saveIdentity('sports', 'api', { keyPem: next.keyPem, certPem: next.certPem }, pick(data.chains));
    last = next;
  };
} else {
  const sink = tokenFileSink(join(root, 'service-token'));
  write = () => sink(parseConsulToken({ AccessorID: 'accessor', SecretID: pick(data.secrets) }));
}

async function loop(): Promise<void> {
  process.stdout.write('started\n');
  for (;;) {
    await write();
    process.stdout.write('.');
  }
}

process.stdin.once('data', () => void loop());
process.stdout.write('ready\n');
