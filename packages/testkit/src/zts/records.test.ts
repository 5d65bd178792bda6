import { describe, expect, it } from 'vitest';
import { CertRecordStore } from './records.js';

function store() {
  const s = new CertRecordStore();
  s.insert({ provider: 'p', instanceId: 'i', service: 'd.s', currentSerial: 'aa', currentTime: 0, expiresAt: 1 });
  return s;
}

describe('CertRecordStore (current / previous serial tracking)', () => {
  it('starts with previous = current', () => {
    expect(store().get('p', 'i', 'd.s')).toMatchObject({ currentSerial: 'aa', prevSerial: 'aa' });
  });

  it('the current serial becomes the previous one on refresh', () => {
    const s = store();
    const r = s.get('p', 'i', 'd.s')!;
    expect(s.present(r, 'AA')).toBe('current');
    s.update(r, 'BB', 5, 6);
    expect(r).toMatchObject({ currentSerial: 'bb', prevSerial: 'aa', currentTime: 5, expiresAt: 6 });
    // the previous one is still accepted and stays the previous one
    expect(s.present(r, 'aa')).toBe('previous');
    s.update(r, 'cc', 7, 8);
    expect(r).toMatchObject({ currentSerial: 'cc', prevSerial: 'aa' });
  });

  it('any other serial revokes the record for good', () => {
    const s = store();
    const r = s.get('p', 'i', 'd.s')!;
    expect(s.present(r, 'ff')).toBe('revoked');
    expect(r).toMatchObject({ currentSerial: '-1', prevSerial: '-1' });
    expect(s.present(r, 'aa')).toBe('revoked');
    expect(s.present(r, '-1')).toBe('revoked');
  });

  it('records are per provider, instance and service; revoke() and delete() act on them', () => {
    const s = store();
    expect(s.get('q', 'i', 'd.s')).toBeUndefined();
    expect(s.get('p', 'i', 'd.t')).toBeUndefined();
    expect(s.revoke('i', 'q')).toBe(0);
    expect(s.revoke('i')).toBe(1);
    s.delete('p', 'i', 'd.s');
    expect(s.list()).toEqual([]);
  });
});
