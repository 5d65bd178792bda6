import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { type Logger, safeLogger, silentLogger } from './logger.js';
import { REDACTED, registerSecret } from './secrets.js';

const SECRET = 'logger-test-secret-0123456789';
registerSecret(SECRET);

function recording() {
  const calls: Array<{ level: string; args: unknown[] }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      calls.push({ level, args });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, calls };
}

describe('safeLogger', () => {
  it('is silent for undefined and returns the same wrapper when wrapped twice', () => {
    expect(safeLogger(undefined)).toBe(silentLogger);
    for (const level of ['debug', 'info', 'warn', 'error'] as const)
      expect(() => silentLogger[level]('x')).not.toThrow();
    const { logger } = recording();
    const once = safeLogger(logger);
    expect(safeLogger(once)).toBe(once);
  });

  it('keeps the call shape: (msg) stays one argument, (obj, msg) two', () => {
    const { logger, calls } = recording();
    const log = safeLogger(logger);
    log.info('just text');
    log.warn({ n: 1 }, 'with object');
    expect(calls).toEqual([
      { level: 'info', args: ['just text'] },
      { level: 'warn', args: [{ n: 1 }, 'with object'] },
    ]);
  });

  it('scrubs strings, nested fields and Errors (message, stack, cause, own fields)', () => {
    const { logger, calls } = recording();
    const log = safeLogger(logger);
    const err = new IdentityError('NETWORK', `failed ${SECRET}`, {
      retryable: true,
      cause: new Error(`socket ${SECRET}`),
    });
    log.error({ err, deep: { list: [`a ${SECRET}`, { url: new URL(`https://h/?t=${SECRET}`) }] } }, `m ${SECRET}`);
    const [obj, msg] = (calls[0]?.args ?? []) as [
      { err: IdentityError; deep: { list: [string, { url: string }] } },
      string,
    ];
    expect(msg).toBe(`m ${REDACTED}`);
    expect(obj.err).toBeInstanceOf(IdentityError);
    expect(obj.err.code).toBe('NETWORK');
    expect(obj.err.message).toBe(`failed ${REDACTED}`);
    expect(obj.err.stack).not.toContain(SECRET);
    expect((obj.err.cause as Error).message).toBe(`socket ${REDACTED}`);
    expect(obj.deep.list[0]).toBe(`a ${REDACTED}`);
    expect(obj.deep.list[1].url).toBe(`https://h/?t=${REDACTED}`);
    // the caller's objects are not modified
    expect(err.message).toContain(SECRET);
  });

  it('works with console-shaped and partial loggers, and never throws', () => {
    const lines: string[] = [];
    const consoleLike = { ...console, info: (...a: unknown[]) => lines.push(a.map(String).join(' ')) };
    safeLogger(consoleLike).info(`console ${SECRET}`);
    expect(lines).toEqual([`console ${REDACTED}`]);

    const partial = { info: () => {} } as unknown as Logger;
    expect(() => safeLogger(partial).debug('no debug method')).not.toThrow();

    const throwing: Logger = {
      debug: () => {
        throw new Error('sink down');
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    expect(() => safeLogger(throwing).debug('x')).not.toThrow();

    const { logger, calls } = recording();
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    expect(() => safeLogger(logger).warn({ hostile }, 'still logged')).not.toThrow();
    expect(calls[0]?.args[1]).toBe('still logged');
  });

  it('keeps `this` for loggers whose methods need it (pino-like classes)', () => {
    class PinoLike {
      readonly out: unknown[][] = [];
      debug(...a: unknown[]) {
        this.out.push(a);
      }
      info(...a: unknown[]) {
        this.out.push(a);
      }
      warn(...a: unknown[]) {
        this.out.push(a);
      }
      error(...a: unknown[]) {
        this.out.push(a);
      }
    }
    const p = new PinoLike();
    safeLogger(p).info({ token: SECRET }, 'login');
    expect(p.out).toEqual([[{ token: REDACTED }, 'login']]);
  });
});
