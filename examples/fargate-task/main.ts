/**
 * `npm run demo` / `pnpm exec tsx examples/fargate-task/main.ts`: a whole Fargate task on the embedded emulators.
 * Exit 0 when every step passed; 1 with the failing step named otherwise; 2 for a bad flag.
 *
 * Flags: `--ec` (an EC P-256 service key instead of RSA 2048), `--no-color`, `--help`.
 */
import { runDemo } from './demo.js';

// The AWS SDK (loaded lazily for attestation) warns on Node 20 that its 2027 releases will need Node 22: true, but
// noise in a first-contact demo. Its own switch; set it yourself to see the notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = process.argv.slice(2);
const usage = 'usage: tsx examples/fargate-task/main.ts [--ec] [--no-color]';
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const unknown = args.filter((a) => !['--ec', '--no-color'].includes(a));
if (unknown.length > 0) {
  process.stderr.write(`unknown option ${unknown[0]}\n${usage}\n`);
  process.exit(2);
}

// The CI test passes an IPC channel and asks for the run's secrets, to check that none of them was printed.
const reportSecrets = process.env.ECS_IDENTITY_DEMO_REPORT_SECRETS === '1' && typeof process.send === 'function';
const secrets: string[] = [];

const result = await runDemo({
  out: process.stdout,
  ...(args.includes('--no-color') ? { color: false } : {}),
  ...(args.includes('--ec') ? { keyType: 'ec' as const } : {}),
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
