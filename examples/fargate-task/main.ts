/**
 * `npm run demo` / `pnpm exec tsx examples/fargate-task/main.ts`: a whole Fargate task on the embedded emulators.
 * Exit 0 when every step passed; 1 with the failing step named otherwise; 2 for a bad flag.
 *
 * Flags: `--ec` (an EC P-256 service key instead of RSA 2048), `--fault agent|consul|zts` (break that emulator to
 * see a failure), `--no-color`, `--help`.
 */
import { DEMO_FAULTS, type DemoFault, runDemo } from './demo.js';

// The AWS SDK (loaded lazily for attestation) warns on Node 20 that its 2027 releases will need Node 22: true, but
// noise in a first-contact demo. Its own switch; set it yourself to see the notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const usage = `usage: tsx examples/fargate-task/main.ts [--ec] [--fault ${DEMO_FAULTS.join('|')}] [--no-color]`;
function usageError(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const flags = new Set<string>();
let fault: DemoFault | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  } else if (a === '--ec' || a === '--no-color') {
    flags.add(a);
  } else if (a === '--fault' || a.startsWith('--fault=')) {
    const value = a === '--fault' ? args[++i] : a.slice('--fault='.length);
    if (!DEMO_FAULTS.includes(value as DemoFault)) usageError(`--fault takes one of ${DEMO_FAULTS.join(', ')}`);
    fault = value as DemoFault;
  } else {
    usageError(`unknown option ${a}`);
  }
}

// The CI test passes an IPC channel and asks for the run's secrets, to check that none of them was printed.
const reportSecrets = process.env.ECS_IDENTITY_DEMO_REPORT_SECRETS === '1' && typeof process.send === 'function';
const secrets: string[] = [];

const result = await runDemo({
  out: process.stdout,
  ...(flags.has('--no-color') ? { color: false } : {}),
  ...(flags.has('--ec') ? { keyType: 'ec' as const } : {}),
  ...(fault ? { fault } : {}),
  ...(reportSecrets ? { onSecret: (s: string) => secrets.push(s) } : {}),
});

if (reportSecrets) {
  await new Promise<void>((resolve) => process.send!({ secrets }, () => resolve()));
  process.disconnect?.();
}
if (!result.ok) {
  const f = result.failure;
  process.stderr.write(
    `demo failed at step ${f?.step ?? '?'} (${f?.title ?? 'unknown'}): ${f?.reason ?? 'unknown error'}\n`,
  );
  process.exitCode = 1;
}
