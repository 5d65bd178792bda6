import { expect, it } from 'vitest';
import { type Logger, safeLogger } from './logger.js';
import { defineSecrets, REDACTED, scrubSecrets } from './secrets.js';

const SECRET = 'browser-secret-access-key-000111';

it('defineSecrets, scrubSecrets and safeLogger work in Chromium', () => {
  const cred = defineSecrets({ accessKeyId: 'AKIAB', secretAccessKey: SECRET }, ['secretAccessKey']);
  expect(cred.secretAccessKey).toBe(SECRET);
  expect(JSON.parse(JSON.stringify(cred))).toEqual({ accessKeyId: 'AKIAB', secretAccessKey: REDACTED });
  expect(String(cred)).not.toContain(SECRET);
  expect(`${cred}`).toContain(REDACTED);
  expect(scrubSecrets(`x ${SECRET} y`)).toBe(`x ${REDACTED} y`);
  const lines: unknown[][] = [];
  const sink: Logger = {
    debug: (...a) => lines.push(a),
    info: (...a) => lines.push(a),
    warn: (...a) => lines.push(a),
    error: (...a) => lines.push(a),
  };
  safeLogger(sink).warn({ cred, note: SECRET }, `msg ${SECRET}`);
  expect(JSON.stringify(lines)).not.toContain(SECRET);
  expect(JSON.stringify(lines)).toContain('AKIAB');
});
