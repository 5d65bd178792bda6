// Child of pair-crash.test.ts: writes key+cert pairs in a tight loop until the parent SIGKILLs it.
// Plain JS so a spawn costs only Node's start-up; it imports files.ts transpiled by the parent into libDir.
//   node pair-crash-child.mjs <libDir> <pairs.json> <keyPath> <certPath> <mode: pair|naive>
// stdout: "ready\n" once loaded, then (after "go" on stdin) "started\n", then one "." per completed write.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [libDir, pairsFile, keyPath, certPath, mode] = process.argv.slice(2);
const { writeKeyCertPair, writeFileAtomic } = await import(pathToFileURL(join(libDir, 'node', 'files.js')).href);
/** @type {{ key: number, keyPem: string, certPem: string }[]} */
const variants = JSON.parse(readFileSync(pairsFile, 'utf8'));

async function write(v) {
  if (mode === 'naive') {
    // The broken design the test must be able to catch: two independent atomic renames.
    await writeFileAtomic(keyPath, v.keyPem, { mode: 0o400 });
    await writeFileAtomic(certPath, v.certPem, { mode: 0o444 });
  } else {
    // verifyMatch off: the parent checks the match itself, and the loop stays tight.
    await writeKeyCertPair({ keyPath, certPath, keyPem: v.keyPem, certPem: v.certPem, verifyMatch: false });
  }
}

async function loop() {
  process.stdout.write('started\n');
  let last = variants[Math.floor(Math.random() * variants.length)];
  for (;;) {
    // Half the writes keep the key and change only the cert (the common refresh), half rotate the key.
    const sameKey = mode !== 'naive' && Math.random() < 0.5;
    const pool = variants.filter((v) => (sameKey ? v.key === last.key && v !== last : v.key !== last.key));
    const next = pool[Math.floor(Math.random() * pool.length)] ?? last;
    await write(next);
    last = next;
    process.stdout.write('.');
  }
}

process.stdin.once('data', () => void loop());
process.stdout.write('ready\n');
