// The CLI's argument parsing on hostile arguments and environments: only the typed UsageError may come out of
// parseFlags, and the dispatcher never throws (it maps everything to an exit status).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzz, fuzzAsync, hostileText, mutated, reportFuzzCounts } from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { runCli } from '../src/cli.js';
import { type CliIo, type Command, isGroup } from '../src/command.js';
import { parseFlags, UsageError } from '../src/flags.js';
import { program } from '../src/program.js';

reportFuzzCounts('cli');

const commands: Command[] = program.commands.flatMap((c) => (isGroup(c) ? [...c.commands] : [c]));
const flagNames = [...new Set(commands.flatMap((c) => Object.keys(c.flags)))];
const envNames = [...new Set(commands.flatMap((c) => Object.values(c.flags).flatMap((f) => f.env ?? [])))];

/** One argument: a known flag in every spelling, with a hostile or plausible value, or hostile text. */
const arg = fc.oneof(
  hostileText(40),
  fc
    .tuple(fc.constantFrom(...flagNames), fc.constantFrom('-', '--'), fc.option(hostileText(30), { nil: undefined }))
    .map(([name, dash, value]) => (value === undefined ? `${dash}${name}` : `${dash}${name}=${value}`)),
  fc.constantFrom('--', '-', '-h', '--help', '-=x', '---x', 'true', 'false', '0', '-1', '1e9', '9007199254740993'),
  mutated('-dnsdomain=athenz.cloud', 3),
);
const args = fc.array(arg, { maxLength: 8 });
const env = fc.dictionary(fc.constantFrom(...envNames), hostileText(30), { maxKeys: 4 });

describe('parseFlags', () => {
  it('with the flags of every command, on any arguments and environment', () => {
    const n = commands.reduce(
      (sum, command) =>
        sum +
        fuzz(
          `parseFlags (${command.name})`,
          fc.tuple(args, env),
          ([a, e]) => parseFlags(command.flags, a, e),
          1500,
          (e) => e instanceof UsageError,
        ),
      0,
    );
    expect(n).toBe(scaled(1500 * commands.length));
  });
});

describe('runCli', () => {
  it('maps any arguments to an exit status without throwing (commands that would run are stubbed out)', async () => {
    let ran = 0;
    const dry = {
      ...program,
      commands: program.commands.map((c) => {
        const stub = (cmd: Command): Command => ({
          ...cmd,
          run: async () => {
            ran++;
            return 0;
          },
        });
        return isGroup(c) ? { ...c, commands: c.commands.map(stub) } : stub(c);
      }),
    };
    const io: CliIo = { env: {}, stdout: () => {}, stderr: () => {}, waitForStop: () => new Promise(() => {}) };
    const names = fc.constantFrom(
      'metadata',
      'consul',
      'athenz',
      'login',
      'logout',
      'register',
      'rotate',
      'run',
      'help',
    );
    const n = await fuzzAsync(
      'runCli',
      fc.tuple(fc.array(names, { maxLength: 2 }), args),
      async ([head, rest]) => {
        const status = await runCli(dry, [...head, ...rest], io);
        if (![0, 1, 2].includes(status)) throw new TypeError(`exit status ${status}`);
      },
      4000,
      () => false, // runCli must never throw
    );
    expect(n).toBe(scaled(4000));
    expect(ran).toBeGreaterThan(0);
  });
});
