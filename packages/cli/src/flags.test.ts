import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { type FlagSpecs, parseFlags, parseGoBool, splitList, UsageError } from './flags.js';

const specs: FlagSpecs = {
  'http-addr': { type: 'string', help: 'address', env: ['CONSUL_HTTP_ADDR'], default: '127.0.0.1:8500' },
  'aws-include-entity': { type: 'bool', help: 'entity', default: true },
  verbose: { type: 'bool', help: 'v' },
  ztsport: { type: 'int', help: 'port', default: 4443, min: 1 },
  interval: { type: 'number', help: 'minutes', default: 1440, min: 0.01 },
  meta: { type: 'list', help: 'meta' },
  dnsdomains: { type: 'string', help: 'dns', aliases: ['dnsdomain'] },
  roles: { type: 'list', help: 'roles', env: ['ROLES_A', 'ROLES_B'] },
};

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect(IdentityError.is(e, 'INVALID_ARGUMENT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseFlags', () => {
  it('reads -flag value, -flag=value, --flag value and --flag=value alike', () => {
    for (const args of [['-http-addr', 'a:1'], ['-http-addr=a:1'], ['--http-addr', 'a:1'], ['--http-addr=a:1']]) {
      const { values, sources } = parseFlags(specs, args);
      expect(values['http-addr']).toBe('a:1');
      expect(sources['http-addr']).toBe('flag');
    }
  });

  it('keeps everything after the first = as the value', () => {
    expect(parseFlags(specs, ['-meta=a=b=c']).values.meta).toEqual(['a=b=c']);
    expect(parseFlags(specs, ['-http-addr=']).values['http-addr']).toBe('');
  });

  it('takes Go booleans: -flag is true, -flag=false and the other ParseBool spellings', () => {
    expect(parseFlags(specs, ['-verbose']).values.verbose).toBe(true);
    expect(parseFlags(specs, ['-aws-include-entity=false']).values['aws-include-entity']).toBe(false);
    expect(parseFlags(specs, ['-aws-include-entity=0']).values['aws-include-entity']).toBe(false);
    expect(parseFlags(specs, ['--verbose=T']).values.verbose).toBe(true);
    expect(usageMessage(() => parseFlags(specs, ['-verbose=yes']))).toMatch(/invalid boolean value "yes" for -verbose/);
    expect([parseGoBool('True'), parseGoBool('F'), parseGoBool('no')]).toEqual([true, false, undefined]);
  });

  it('does not let a boolean swallow the next argument (as Go): it ends the flags', () => {
    const { values, rest } = parseFlags(specs, ['-verbose', 'false', '-ztsport', '1']);
    expect(values.verbose).toBe(true);
    expect(rest).toEqual(['false', '-ztsport', '1']);
  });

  it('stops at -- and at the first non-flag argument', () => {
    expect(parseFlags(specs, ['-verbose', '--', '-ztsport', '1']).rest).toEqual(['-ztsport', '1']);
    expect(parseFlags(specs, ['post', '-verbose']).rest).toEqual(['post', '-verbose']);
    expect(parseFlags(specs, ['-']).rest).toEqual(['-']);
  });

  it('takes a value that starts with a dash for a string flag, like Go', () => {
    expect(parseFlags(specs, ['-http-addr', '-weird']).values['http-addr']).toBe('-weird');
  });

  it('collects repeatable flags in order', () => {
    expect(parseFlags(specs, ['-meta', 'a=1', '-meta=b=2', '--meta', 'c=3']).values.meta).toEqual([
      'a=1',
      'b=2',
      'c=3',
    ]);
  });

  it('refuses a repeated single-value flag, even through an alias', () => {
    expect(usageMessage(() => parseFlags(specs, ['-ztsport', '1', '-ztsport', '2']))).toBe(
      'flag given twice: -ztsport',
    );
    expect(usageMessage(() => parseFlags(specs, ['-dnsdomains', 'a', '-dnsdomain', 'b']))).toBe(
      'flag given twice: -dnsdomain',
    );
  });

  it('resolves aliases to the main name', () => {
    expect(parseFlags(specs, ['-dnsdomain', 'x.example']).values.dnsdomains).toBe('x.example');
  });

  it('parses integers and checks the minimum', () => {
    expect(parseFlags(specs, ['-ztsport', '8443']).values.ztsport).toBe(8443);
    expect(usageMessage(() => parseFlags(specs, ['-ztsport', '0']))).toMatch(/must be an integer >= 1/);
    expect(usageMessage(() => parseFlags(specs, ['-ztsport', '12ab']))).toMatch(/not an integer/);
    expect(usageMessage(() => parseFlags(specs, ['-ztsport', '1.5']))).toMatch(/not an integer/);
  });

  it('parses decimal numbers and checks the minimum', () => {
    expect(parseFlags(specs, ['-interval', '0.5']).values.interval).toBe(0.5);
    expect(parseFlags(specs, ['-interval=.25']).values.interval).toBe(0.25);
    expect(parseFlags(specs, ['-interval', '90']).values.interval).toBe(90);
    expect(parseFlags(specs, []).values.interval).toBe(1440);
    expect(usageMessage(() => parseFlags(specs, ['-interval', '0']))).toMatch(/must be a number >= 0.01/);
    for (const bad of ['1e3', '0x10', 'Infinity', 'NaN', '1.2.3', '', ' ', '5m']) {
      expect(usageMessage(() => parseFlags(specs, ['-interval', bad]))).toMatch(/not a number/);
    }
  });

  it('names unknown flags, missing values and bad syntax the way Go does', () => {
    expect(usageMessage(() => parseFlags(specs, ['-bogus']))).toBe('flag provided but not defined: -bogus');
    expect(usageMessage(() => parseFlags(specs, ['--bogus=1']))).toBe('flag provided but not defined: -bogus');
    expect(usageMessage(() => parseFlags(specs, ['-http-addr']))).toBe('flag needs an argument: -http-addr');
    expect(usageMessage(() => parseFlags(specs, ['---x']))).toBe('bad flag syntax: ---x');
    expect(usageMessage(() => parseFlags(specs, ['-=x']))).toBe('bad flag syntax: -=x');
  });

  it('stops at -h / -help / --help and reports it', () => {
    for (const h of ['-h', '-help', '--help', '--h']) {
      const parsed = parseFlags(specs, ['-verbose', h, '-bogus']);
      expect(parsed.help).toBe(true);
    }
    expect(parseFlags(specs, ['-verbose']).help).toBe(false);
  });

  it('fills unset flags from the first environment variable set, then the default', () => {
    const env = { CONSUL_HTTP_ADDR: 'consul:8501', ROLES_B: 'b:role.x' };
    const { values, sources } = parseFlags(specs, [], env);
    expect(values['http-addr']).toBe('consul:8501');
    expect(sources['http-addr']).toBe('env:CONSUL_HTTP_ADDR');
    expect(values.roles).toEqual(['b:role.x']);
    expect(sources.roles).toBe('env:ROLES_B');
    expect(values.ztsport).toBe(4443);
    expect(sources.ztsport).toBe('default');
    expect(values.verbose).toBeUndefined();
    expect(sources.verbose).toBeUndefined();
    // the flag beats the environment; an empty variable counts as unset
    expect(parseFlags(specs, ['-http-addr', 'x:1'], env).values['http-addr']).toBe('x:1');
    expect(parseFlags(specs, [], { CONSUL_HTTP_ADDR: '' }).values['http-addr']).toBe('127.0.0.1:8500');
  });

  it('checks values from the environment too, naming the variable', () => {
    const s: FlagSpecs = { regional: { type: 'bool', help: 'r', env: ['ATHENZ_SIA_REGIONAL_STS'] } };
    expect(parseFlags(s, [], { ATHENZ_SIA_REGIONAL_STS: 'true' }).values.regional).toBe(true);
    expect(usageMessage(() => parseFlags(s, [], { ATHENZ_SIA_REGIONAL_STS: 'maybe' }))).toBe(
      'invalid boolean value "maybe" for environment variable ATHENZ_SIA_REGIONAL_STS',
    );
  });
});

describe('splitList', () => {
  it('splits at commas across repeated values, trimming and dropping empties', () => {
    expect(splitList(['a, b', 'c,,', ' d '])).toEqual(['a', 'b', 'c', 'd']);
    expect(splitList('x.example')).toEqual(['x.example']);
    expect(splitList(undefined)).toEqual([]);
    expect(splitList(true)).toEqual([]);
  });
});
