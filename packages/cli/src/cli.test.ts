import { IdentityError, registerSecret } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { type CliIo, type CommandContext, isGroup, type Program } from './command.js';
import { errorLine, oneLine } from './error-line.js';
import { UsageError } from './flags.js';
import { program } from './program.js';

function fakeIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    waitForStop: () => Promise.resolve('SIGTERM'),
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

let seen: CommandContext | undefined;
const testProgram: Program = {
  name: 'prog',
  version: '9.9.9',
  description: 'A test program.',
  commands: [
    {
      name: 'echo',
      summary: 'echoes',
      description: 'Echoes its flags.',
      flags: { word: { type: 'string', help: 'a word', env: ['WORD'] }, n: { type: 'int', help: 'n', default: 1 } },
      async run(ctx) {
        seen = ctx;
        if (ctx.values.word === 'usage') throw new UsageError('-word must not be usage');
        if (ctx.values.word === 'fail') {
          throw new IdentityError('CONSUL_PERMISSION_DENIED', 'Permission denied\nsecond line');
        }
        if (ctx.values.word === 'boom') throw new TypeError('plain error');
        if (ctx.values.word === 'log') ctx.logger.info({ n: ctx.values.n }, 'logged');
        ctx.io.stdout(`${String(ctx.values.word)}\n`);
        return ctx.values.n === 7 ? 7 : undefined;
      },
    },
    {
      name: 'grp',
      summary: 'a group',
      description: 'Group.',
      commands: [
        { name: 'sub', summary: 'sub', description: 'Sub.', flags: {}, run: async () => 0 },
        { name: 'other', summary: 'other', description: 'Other.', flags: {}, run: async () => 0 },
      ],
    },
  ],
};

describe('runCli', () => {
  it("runs a group's default command when the group is given flags only, and keeps the group's help", async () => {
    let ran: readonly string[] | undefined;
    const withDefault: Program = {
      ...testProgram,
      commands: [
        {
          name: 'agent',
          summary: 'agent',
          description: 'Agent group.',
          defaultCommand: 'run',
          commands: [
            {
              name: 'run',
              summary: 'runs',
              description: 'Runs.',
              flags: { config: { type: 'string', help: 'file' } },
              run: async (ctx) => {
                ran = [...ctx.command, String(ctx.values.config)];
                return 0;
              },
            },
            { name: 'health', summary: 'health', description: 'Health.', flags: {}, run: async () => 3 },
          ],
        },
      ],
    };
    expect(await runCli(withDefault, ['agent', '-config', 'f.json'], fakeIo().io)).toBe(0);
    expect(ran).toEqual(['agent', 'run', 'f.json']);
    expect(await runCli(withDefault, ['agent', 'health'], fakeIo().io)).toBe(3);
    const help = fakeIo();
    expect(await runCli(withDefault, ['agent', '-h'], help.io)).toBe(0);
    expect(help.out()).toContain('Agent group.');
    const usage = fakeIo();
    expect(await runCli(testProgram, ['grp', '-x'], usage.io)).toBe(2); // no default: a subcommand is required
    expect(usage.err()).toContain('unexpected -x');
  });

  it('runs a command with flags from the arguments and the environment', async () => {
    const t = fakeIo({ WORD: 'from-env' });
    expect(await runCli(testProgram, ['echo'], t.io)).toBe(0);
    expect(t.out()).toBe('from-env\n');
    expect(seen?.sources.word).toBe('env:WORD');
    expect(seen?.command).toEqual(['echo']);
    const t2 = fakeIo({ WORD: 'from-env' });
    expect(await runCli(testProgram, ['echo', '-word', 'hi', '-n=7'], t2.io)).toBe(7);
    expect(t2.out()).toBe('hi\n');
  });

  it('with no arguments prints the command list on stderr and exits 2', async () => {
    const t = fakeIo();
    expect(await runCli(testProgram, [], t.io)).toBe(2);
    expect(t.err()).toMatch(/^Usage: prog <command>/);
    expect(t.err()).toContain('grp sub|other');
    expect(t.out()).toBe('');
  });

  it('prints help on stdout with exit 0 for -h, --help and help <command>', async () => {
    for (const args of [['-h'], ['--help'], ['help']]) {
      const t = fakeIo();
      expect(await runCli(testProgram, args, t.io)).toBe(0);
      expect(t.out()).toContain('Commands:');
    }
    for (const args of [
      ['echo', '-h'],
      ['echo', '--help'],
      ['help', 'echo'],
      ['echo', '-word', 'x', '-help'],
    ]) {
      const t = fakeIo();
      expect(await runCli(testProgram, args, t.io)).toBe(0);
      expect(t.out()).toMatch(/^Usage: prog echo \[flags\]/);
      expect(t.out()).toContain('-word VALUE');
      expect(t.out()).toContain('(env WORD)');
      expect(t.out()).toContain('-log-level LEVEL');
      expect(t.out()).toContain('Exit status: 0 success, 1 failure');
    }
    const g = fakeIo();
    expect(await runCli(testProgram, ['grp', '-h'], g.io)).toBe(0);
    expect(g.out()).toContain('sub    sub');
  });

  it('prints the version', async () => {
    const t = fakeIo();
    expect(await runCli(testProgram, ['--version'], t.io)).toBe(0);
    expect(t.out()).toBe('prog 9.9.9\n');
  });

  it('exits 2 with the error line and the usage for unknown commands, flags and arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['nope'], /^prog: INVALID_ARGUMENT: unknown command "nope"\n\nUsage: prog <command>/],
      [['grp'], /^prog: grp: INVALID_ARGUMENT: a subcommand is required\n\nUsage: prog grp <command>/],
      [['grp', 'nope'], /^prog: INVALID_ARGUMENT: unknown command "grp nope" \(one of: sub, other\)/],
      [['echo', '-bogus'], /^prog: echo: INVALID_ARGUMENT: flag provided but not defined: -bogus\n\nUsage: prog echo/],
      [['echo', 'extra'], /^prog: echo: INVALID_ARGUMENT: unexpected argument "extra"\n\nUsage: prog echo/],
      [['echo', '-n', 'x'], /^prog: echo: INVALID_ARGUMENT: invalid value "x" for -n: not an integer/],
      [['echo', '-log-level', 'loud'], /^prog: echo: INVALID_ARGUMENT: -log-level must be one of debug, info/],
      [['echo', '-word', 'usage'], /^prog: echo: INVALID_ARGUMENT: -word must not be usage\n\nUsage: prog echo/],
    ];
    for (const [args, expected] of cases) {
      const t = fakeIo();
      expect(await runCli(testProgram, args, t.io), args.join(' ')).toBe(2);
      expect(t.err()).toMatch(expected);
      expect(t.out()).toBe('');
    }
  });

  it('exits 1 with one line naming the command, the code and the cause when the command fails', async () => {
    const t = fakeIo();
    expect(await runCli(testProgram, ['echo', '-word', 'fail'], t.io)).toBe(1);
    expect(t.err()).toBe('prog: echo: CONSUL_PERMISSION_DENIED: Permission denied second line\n');
    const t2 = fakeIo();
    expect(await runCli(testProgram, ['echo', '-word', 'boom'], t2.io)).toBe(1);
    expect(t2.err()).toBe('prog: echo: ERROR: plain error\n');
  });

  it('logs to stderr at the chosen level, one line per record', async () => {
    const quiet = fakeIo();
    await runCli(testProgram, ['echo', '-word', 'log'], quiet.io);
    expect(quiet.err()).toBe('');
    const loud = fakeIo({ ECS_IDENTITY_LOG_LEVEL: 'info' });
    await runCli(testProgram, ['echo', '-word', 'log', '-n', '3'], loud.io);
    expect(loud.err()).toBe('prog: echo: info: logged {"n":3}\n');
  });
});

describe('errorLine', () => {
  it('folds lines, scrubs registered secrets and keeps the code', () => {
    const secret = 'c0ffee00-1111-2222-3333-444455556666';
    registerSecret(secret);
    const e = new IdentityError('LOGOUT_FAILED', `logout of ${secret} failed:\n  - first\n  - second`);
    const line = errorLine(['consul', 'logout'], e);
    expect(line).toBe('ecs-identity: consul logout: LOGOUT_FAILED: logout of [REDACTED] failed: - first - second');
    expect(line).not.toContain('\n');
    expect(oneLine(`a\u0007b${'x'.repeat(3000)}`)).toHaveLength(2003);
    expect(errorLine([], 'text')).toBe('ecs-identity: ERROR: text');
  });
});

describe('the ecs-identity program', () => {
  const leaves = program.commands.flatMap((c) =>
    isGroup(c) ? c.commands.map((s) => ({ path: [c.name, s.name], command: s })) : [{ path: [c.name], command: c }],
  );

  it('has the commands of the issue', () => {
    expect(leaves.map((l) => l.path.join(' '))).toEqual([
      'metadata',
      'consul login',
      'consul logout',
      'consul wait',
      'consul run',
      'athenz post',
      'athenz rotate',
      'athenz rolecert',
      'athenz token',
      'athenz run',
      'agent run',
      'agent health',
      'agent schema',
      'doctor',
    ]);
  });

  it('documents every flag of every command in its help', async () => {
    for (const { path, command } of leaves) {
      const t = fakeIo();
      expect(await runCli(program, [...path, '-h'], t.io)).toBe(0);
      for (const name of Object.keys(command.flags))
        expect(t.out(), `${path.join(' ')} -${name}`).toContain(`-${name}`);
    }
  });

  it("accepts siad's and consul login's flag names", () => {
    const flagsOf = (path: string) => leaves.find((l) => l.path.join(' ') === path)?.command.flags ?? {};
    for (const f of ['zts', 'ztsport', 'ztscacert', 'dnsdomains', 'providerprefix', 'regionalsts']) {
      expect(flagsOf('athenz post')[f], f).toBeDefined();
    }
    for (const f of [
      'method',
      'token-sink-file',
      'meta',
      'http-addr',
      'ca-file',
      'partition',
      'namespace',
      'datacenter',
      'aws-include-entity',
      'aws-server-id-header-value',
      'aws-region',
      'aws-sts-endpoint',
      'aws-iam-endpoint',
    ]) {
      expect(flagsOf('consul login')[f], f).toBeDefined();
    }
  });
});
