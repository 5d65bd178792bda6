// The CLI's framework in headless Chromium: the parser, help and dispatcher are internal, and pure (no Node API).

import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import type { CliIo, Program } from './command.js';
import { errorLine } from './error-line.js';
import { parseFlags } from './flags.js';
import { renderHelp } from './help.js';

const program: Program = {
  name: 'tool',
  version: '1.0.0',
  description: 'A tool.',
  commands: [
    {
      name: 'greet',
      summary: 'greets',
      description: 'Greets.',
      flags: { name: { type: 'string', help: 'who', env: ['NAME'] }, loud: { type: 'bool', help: 'shout' } },
      async run({ io, values }) {
        const text = `hello ${String(values.name)}`;
        io.stdout(`${values.loud ? text.toUpperCase() : text}\n`);
        return 0;
      },
    },
  ],
};

describe('the CLI framework in a browser', () => {
  it('parses Go-style flags', () => {
    const { values } = parseFlags({ zts: { type: 'string', help: 'h' }, regionalsts: { type: 'bool', help: 'r' } }, [
      '-zts=zts.example.com',
      '--regionalsts',
    ]);
    expect(values).toEqual({ zts: 'zts.example.com', regionalsts: true });
    expect(renderHelp('tool x', 'X.', { zts: { type: 'string', help: 'host' } })).toContain('-zts VALUE  host');
  });

  it('dispatches a command and reports a usage error on one line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      env: { NAME: 'ecs' },
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      waitForStop: () => new Promise(() => {}),
    };
    expect(await runCli(program, ['greet', '-loud'], io)).toBe(0);
    expect(out.join('')).toBe('HELLO ECS\n');
    expect(await runCli(program, ['greet', '-x'], io)).toBe(2);
    expect(err.join('').split('\n')[0]).toBe('tool: greet: INVALID_ARGUMENT: flag provided but not defined: -x');
    expect(errorLine(['a'], new Error('x\ny'))).toBe('ecs-identity: a: ERROR: x y');
  });
});
