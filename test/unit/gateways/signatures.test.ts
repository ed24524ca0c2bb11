import { describe, expect, it } from 'vitest';
import { at, parseJson, textAt } from '../../../lambdas/gateways/payload.js';
import {
  bytesEqual,
  checkTimestamp,
  decodeBase64,
  decodeHex,
  matchesAny,
} from '../../../lambdas/gateways/signatures.js';

const RECEIVED = new Date('2026-11-24T10:00:00Z');
const nowSeconds = String(RECEIVED.getTime() / 1000);

describe('Signature helpers', () => {
  describe('checkTimestamp', () => {
    it.each([
      ['now', nowSeconds, 300, true],
      ['300 s old', String(Number(nowSeconds) - 300), 300, true],
      ['301 s old', String(Number(nowSeconds) - 301), 300, false],
      ['301 s ahead', String(Number(nowSeconds) + 301), 300, false],
    ])('%s with a 300 s tolerance: accepted=%s', (_name, timestamp, tolerance, accepted) => {
      expect(checkTimestamp(timestamp, RECEIVED, tolerance).ok).toBe(accepted);
    });

    it.each([
      ['an invalid receive time', nowSeconds, new Date(Number.NaN), 300],
      ['a zero tolerance', nowSeconds, RECEIVED, 0],
      ['a negative tolerance', nowSeconds, RECEIVED, -1],
    ])('refuses rather than lets through on %s', (_name, timestamp, receivedAt, tolerance) => {
      expect(checkTimestamp(timestamp, receivedAt, tolerance)).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
      });
    });

    it.each([[undefined], [''], ['17000000000000'], ['1.5'], ['-5'], ['abc']])(
      'refuses %j as malformed',
      (timestamp) => {
        expect(checkTimestamp(timestamp, RECEIVED, 300)).toMatchObject({
          ok: false,
          reason: 'malformed_signature',
        });
      },
    );
  });

  it('decodes only digests of exactly the expected length', () => {
    expect(decodeHex('ab'.repeat(32), 32)?.length).toBe(32);
    expect(decodeHex('AB'.repeat(32), 32)?.length).toBe(32);
    expect(decodeHex('ab'.repeat(31), 32)).toBeUndefined();
    expect(decodeHex('zz'.repeat(32), 32)).toBeUndefined();
    expect(decodeBase64(Buffer.alloc(32, 7).toString('base64'), 32)?.length).toBe(32);
    expect(decodeBase64(Buffer.alloc(31, 7).toString('base64'), 32)).toBeUndefined();
    expect(decodeBase64('not base64!', 32)).toBeUndefined();
  });

  it('compares bytes of different lengths as unequal without throwing', () => {
    expect(bytesEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(bytesEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
  });

  it('matches any candidate against any secret, and nothing against no secrets', () => {
    const expected = (secret: string) => Buffer.from(`sig-${secret}`);
    expect(matchesAny(['new', 'old'], [Buffer.from('x'), Buffer.from('sig-old')], expected)).toBe(true);
    expect(matchesAny(['new'], [Buffer.from('sig-old')], expected)).toBe(false);
    expect(matchesAny([], [Buffer.from('sig-')], expected)).toBe(false);
  });
});

describe('Payload helpers', () => {
  it('keep every digit of a number as written', () => {
    const body = parseJson('{"amount": 90071992547409.93, "tiny": 0.123456789012345678901}');
    expect(textAt(body, ['amount'])).toBe('90071992547409.93');
    expect(textAt(body, ['tiny'])).toBe('0.123456789012345678901');
  });

  it('walk own keys only, so a configured path cannot reach Object.prototype', () => {
    const body = parseJson('{"data":{"id":1}}');
    expect(at(body, ['constructor'])).toBeUndefined();
    expect(at(body, ['data', 'toString'])).toBeUndefined();
    expect(at(body, ['__proto__'])).toBeUndefined();
  });

  it('refuse duplicate keys, so two readers of one body cannot see different values', () => {
    expect(() => parseJson('{"amount":1,"amount":1000}')).toThrow(/not JSON/);
  });
});
