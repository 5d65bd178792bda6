// Child of pair-crash-points.test.ts: one writeKeyCertPair or readKeyCertPair that SIGKILLs itself right after its
// N-th file-system change (mkdir, open, rename, unlink, rm, chmod, chown), so the parent can look at the state a crash
// leaves after every single step of it.
//   node pair-crash-point-child.mjs <files.js> <request.json> <N>
// request.json: { "op": "write" | "read", "keyPath", "certPath", "keyPem"?, "certPem"? }
// stdout: "done <changes>" when the operation finished before its N-th change.

import { readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';

const [filesJs, requestFile, n] = process.argv.slice(2);
const crashAt = Number(n);
const request = JSON.parse(readFileSync(requestFile, 'utf8'));

// Patched before files.js is loaded; syncBuiltinESMExports makes its `import { rename } from 'node:fs/promises'` see
// the patched functions.
const fsp = createRequire(import.meta.url)('node:fs/promises');
let changes = 0;
for (const name of ['mkdir', 'open', 'rename', 'unlink', 'rm', 'chmod', 'chown']) {
  const original = fsp[name];
  fsp[name] = async function (...args) {
    const result = await original.apply(this, args);
    if (++changes === crashAt) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
syncBuiltinESMExports();

const { readKeyCertPair, writeKeyCertPair } = await import(pathToFileURL(filesJs).href);
const { keyPath, certPath } = request;
if (request.op === 'write') {
  await writeKeyCertPair({ keyPath, certPath, keyPem: request.keyPem, certPem: request.certPem, verifyMatch: false });
} else {
  await readKeyCertPair({ keyPath, certPath });
}
process.stdout.write(`done ${changes}\n`);
