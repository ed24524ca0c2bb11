import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import { hasNoBackslash, writeJson, writeJsonWithFirst } from '../../../lambdas/gateways/exact-json.js';
import {
  isoFromMillis,
  parseJson,
  parseJsonObject,
  parseJsonObjectForVerify,
  takeJsonObject,
} from '../../../lambdas/gateways/payload.js';

/**
 * `parseJson` reads most bodies with the runtime's `JSON.parse` and vouches for the result being lossless-json's
 * (payload.ts). These check that it is, tree for tree (class instances included) and refusal for refusal.
 */

/** What lossless-json alone answered before: the tree, or the error message `parseJson` wraps. */
function losslessAnswer(text: string): { tree: unknown } | { error: string } {
  try {
    return { tree: parse(text.startsWith('\ufeff') ? text.slice(1) : text) };
  } catch (error) {
    return { error: `body is not JSON: ${(error as Error).message}` };
  }
}

function ourAnswer(text: string): { tree: unknown } | { error: string } {
  try {
    return { tree: parseJson(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * The same tree: same prototypes, same own keys in the same order, same leaves (a `LosslessNumber` by its text).
 * Written out because an own key named `constructor` confuses the matchers' class check.
 */
function sameTree(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Reflect.ownKeys(a);
  const keysB = Reflect.ownKeys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every((key, index) => {
      if (key !== keysB[index]) return false;
      const left = Object.getOwnPropertyDescriptor(a, key);
      const right = Object.getOwnPropertyDescriptor(b, key);
      return left?.enumerable === right?.enumerable && sameTree(left?.value, right?.value);
    })
  );
}

function expectSameAsLossless(text: string): void {
  const ours = ourAnswer(text);
  const theirs = losslessAnswer(text);
  if ('error' in theirs) expect(ours).toEqual(theirs);
  else expect('tree' in ours && sameTree(ours.tree, theirs.tree), text).toBe(true);
}

const EVENTS_DIR = join(import.meta.dirname, '../../../events');

describe('parseJson answers exactly as lossless-json', () => {
  it('on every sample body of every gateway', () => {
    let samples = 0;
    for (const gateway of GATEWAYS) {
      for (const file of readdirSync(join(EVENTS_DIR, gateway)).filter((name) => name.endsWith('.json'))) {
        expectSameAsLossless(readFileSync(join(EVENTS_DIR, gateway, file), 'utf8'));
        samples += 1;
      }
    }
    expect(samples).toBeGreaterThan(20);
    // The comparison itself tells number texts apart.
    expect(sameTree(parse('{"a":1.50}'), parse('{"a":1.5}'))).toBe(false);
  });

  it.each([
    // Numbers the runtime would write back differently keep their text.
    '{"amount": 7500.50, "b": 1e3, "c": 1E+3, "d": -0, "e": 0.0, "f": 12345678901234567890}',
    '{"tiny": 0.123456789012345678901, "big": 90071992547409.93, "inf": 1e400, "sub": 5e-324, "small": 1e-7}',
    '[1.50, -1.50, 100, -100, 0, 1.5e2, 2.50E-3]',
    '[0, 123456789012345, -123456789012345, 1234567890123456, 9007199254740993, 100000000000000000000000]',
    '[-05]',
    '1.50',
    '-0',
    '42',
    '"text"',
    // Digits and quotes inside strings are not numbers.
    '{"a": "1.50", "b": "x\\"1.50\\"", "c": "\\\\", "d": "\\\\\\"", "e": 2.0}',
    '{"ts": "2026-11-21T09:42:07.000Z", "ip": "::ffff:10.5.179.3", "n": 3}',
    // Keys: __proto__, colons inside, escapes.
    '{"__proto__": {"x": 1.50}, "constructor": 1}',
    '{"a:b": 1, "a\\u003ab": 2}',
    '{"k": 1, "k": 1}',
    '{"k": 1.5, "k": 1.50}',
    '{"amount": 1, "amount": 1000}',
    '{"a": {"x": 1}, "a": {"x": 1}}',
    '{"a:": 1, "a\\u003a": 2}',
    // NUL: escaped in a string (the fast path stands aside), or a number where a key should be.
    '{"a": "\\u0000"}',
    '{"a": "\\u00001.50"}',
    '{1.50: 2}',
    '{1: 2}',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": -}',
    '{"a": 1-2}',
    '{"a": .5}',
    '{"a": +1}',
    // Byte-order mark, whitespace, empty containers.
    '\ufeff{"a": 1.50}',
    ' \t\r\n{ "a" : [ ] , "b" : { } } \n',
    // Refusals: the message is lossless-json's.
    '',
    '{',
    '{"a": 1,}',
    '[1, 2',
    '{"a": tru}',
    '{"a": "unterminated}',
    '{"a": "\\x"}',
    'null',
    '{"a": NaN}',
  ])('%j', (text) => {
    expectSameAsLossless(text);
  });

  it('on nesting deeper than the fast path takes', () => {
    expectSameAsLossless(`${'['.repeat(200)}1.50${']'.repeat(200)}`);
    expectSameAsLossless(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`);
  });

  it('on generated JSON text, numbers written every way JSON allows', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 25 });
    const number = fc
      .tuple(
        fc.boolean(),
        digits,
        fc.option(digits, { nil: undefined }),
        fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits), {
          nil: undefined,
        }),
      )
      .map(([negative, whole, fraction, exponent]) => {
        const integer = whole.length > 1 ? whole.replace(/^0+(?=\d)/, '') : whole;
        return `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}${
          exponent === undefined ? '' : exponent.join('')
        }`;
      });
    const key = fc.constantFrom('a', 'b', 'id', '__proto__', 'a:b', '1', '0', 'x"y', 'k\\u003a');
    const text = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        number,
        fc.string().map((s) => JSON.stringify(s)),
        fc.constantFrom('true', 'false', 'null', '"1.50"', '"\\u0000"'),
        fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
        fc
          .array(fc.tuple(key, tie('value')), { maxLength: 4 })
          .map((entries) => `{${entries.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`),
      ),
    })).value;
    fc.assert(
      fc.property(text, (json) => {
        expectSameAsLossless(json);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('writeJson writes exactly what lossless-json stringify writes for a parsed tree', () => {
  it.each([
    '{"live":"false","notificationItems":[{"NotificationRequestItem":{"amount":{"value":1000,"currency":"EUR"}}}]}',
    '{"a": 7500.50, "b": [1, 2.50, {"c": null, "d": true, "e": false}], "s": "q\\"\\\\\\n\\u0001\\ud800 é 😀"}',
    '{"__proto__": 1, "2": "two", "1": "one", "toJSON": "not a method"}',
    '[]',
    '{}',
  ])('%j', (text) => {
    const tree = parseJson(text);
    expect(writeJson(tree)).toBe(stringify(tree));
  });

  it('on generated strings and keys, every code unit included', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const lone = fc.constantFrom('\ud800', '\udfff', '\u2028', '\u007f', '\u001f', '"', '\\', ' ');
    const anyText = fc.oneof(
      text,
      lone,
      fc.tuple(text, lone, text).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(fc.dictionary(anyText, fc.oneof(anyText, fc.constant(1.5))), (object) => {
        const tree = parseJson(JSON.stringify(object));
        expect(writeJson(tree)).toBe(stringify(tree));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes the strings of a body without a backslash as they are, as JSON.stringify would', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    fc.assert(
      fc.property(fc.dictionary(text, fc.oneof(text, fc.constant(1.5))), (object) => {
        const body = Buffer.from(JSON.stringify(object), 'utf8');
        fc.pre(hasNoBackslash(body));
        const tree = parseJsonObject(body);
        expect(writeJson(tree, true)).toBe(stringify(tree));
        expect(writeJsonWithFirst('live', 'false', tree, true)).toBe(
          /^\d/.test(Object.keys(tree)[0] ?? '') ? undefined : stringify({ live: 'false', ...tree }),
        );
      }),
      { numRuns: 1000 },
    );
    expect(hasNoBackslash(Buffer.from('{"a":"\\n"}'))).toBe(false);
  });

  it('writes { [key]: value, ...object } as the spread would, or declines', () => {
    const key = fc.constantFrom('live', 'a', 'b', '0', '1', '10', '01', '__proto__', 'toJSON');
    const leaf = fc.constantFrom('"s"', '1.50', 'true', 'null', '{"x":2}');
    const object = fc
      .array(fc.tuple(key, leaf), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`)
      .filter((text) => {
        try {
          parseJson(text);
          return true;
        } catch {
          return false; // duplicate keys
        }
      });
    fc.assert(
      fc.property(key, leaf, object, (first, value, text) => {
        const tree = parseJson(text) as Record<string, unknown>;
        const head = parseJson(value);
        const written = writeJsonWithFirst(first, head, tree);
        if (written !== undefined) expect(written).toBe(stringify({ [first]: head, ...tree }));
      }),
      { numRuns: 2000 },
    );
    expect(writeJsonWithFirst('live', 'false', { a: 'x' } as Record<string, unknown>)).toBe(
      '{"live":"false","a":"x"}',
    );
    expect(
      writeJsonWithFirst('live', 'false', parseJson('{"1":"x"}') as Record<string, unknown>),
    ).toBeUndefined();
  });

  it('declines what a parsed tree cannot hold, so lossless-json writes it', () => {
    expect(writeJson({ a: 1 })).toBeUndefined();
    expect(writeJson({ a: undefined })).toBeUndefined();
    expect(writeJson([new Date(0)])).toBeUndefined();
    expect(writeJson({ toJSON: () => 'x' })).toBeUndefined();
  });
});

describe('the tree verify parsed, handed to normalise', () => {
  it('is taken once, and only for the very bytes it was parsed from', () => {
    const body = Buffer.from('{"type":"invoice","amount":1.50}');
    const verified = parseJsonObjectForVerify(body);
    expect(takeJsonObject(body)).toBe(verified);
    // Taken: the next call parses afresh.
    const again = takeJsonObject(body);
    expect(again).not.toBe(verified);
    expect(again).toStrictEqual(parseJsonObject(body));
  });

  it('is not used once the bytes changed', () => {
    const body = Buffer.from('{"type":"invoice","amount":1}');
    parseJsonObjectForVerify(body);
    body.write('2', body.length - 2);
    expect(stringify(takeJsonObject(body))).toBe('{"type":"invoice","amount":2}');
  });

  it('never serves a verify: each verify parses the bytes it is given', () => {
    const body = Buffer.from('{"amount":1}');
    const first = parseJsonObjectForVerify(body);
    body.write('9', body.length - 2);
    const second = parseJsonObjectForVerify(body);
    expect(second).not.toBe(first);
    expect(stringify(second)).toBe('{"amount":9}');
  });
});

describe('isoFromMillis', () => {
  it('writes what toISOString writes, or throws what it throws', () => {
    const answer = (write: () => string) => {
      try {
        return write();
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    const edges = [
      0,
      -1,
      1,
      1.5,
      Number.NaN,
      8.64e15,
      -8.64e15,
      -62_167_219_200_000,
      -62_167_219_200_001,
      253_402_300_799_999,
      253_402_300_800_000,
      Date.UTC(2000, 1, 29),
      Date.UTC(1900, 1, 28, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
    ];
    const millis = fc.oneof(
      fc.constantFrom(...edges),
      fc.integer({ min: -62_200_000_000_000, max: 253_500_000_000_000 }),
    );
    fc.assert(
      fc.property(millis, (value) => {
        expect(answer(() => isoFromMillis(value))).toBe(answer(() => new Date(value).toISOString()));
      }),
      { numRuns: 20_000 },
    );
  });
});
