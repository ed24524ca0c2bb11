import { LosslessNumber, parse } from 'lossless-json';

/**
 * lossless-json's answers, fast. lossless-json keeps every number's text, but it is a parser (and writer) written in
 * JavaScript: on a 1 KB webhook it took about half of an adapter's CPU. Here the runtime's `JSON.parse` reads most
 * bodies, checked against the text so that the tree is exactly the one lossless-json returns; whatever the check
 * cannot vouch for, and every body `JSON.parse` refuses, goes to lossless-json itself, so the tree, the refusals and
 * their messages stay its own. The writer likewise gives lossless-json's `stringify` text for such trees.
 */

/** A JSON object as parsed (payload.ts's `JsonObject`; not imported from there, which imports this). */
type JsonObject = { readonly [key: string]: unknown };

/**
 * lossless-json's `parse(text)`: the same tree (numbers as `LosslessNumber`s of their exact text, `__proto__` an own
 * key), or the same error.
 */
export function parseLossless(text: string): unknown {
  const fast = parseNative(text);
  return fast === NOT_VOUCHED ? parse(text) : fast;
}

/** What {@link parseNative} answers when lossless-json has to decide. */
const NOT_VOUCHED: unique symbol = Symbol('not vouched for');

/**
 * Bodies nested deeper than this go to lossless-json, whose recursion (and its verdict on a body deep enough to
 * overflow the stack) then stays the one that decides. Webhooks nest a handful of levels.
 */
const NATIVE_MAX_DEPTH = 64;

/**
 * Marks a number whose text the runtime would not write back the same (`7500.50`, `1e3`, `-0`, 20 digits): the
 * token is handed to `JSON.parse` as the string `"\u0000<token>"` and becomes `LosslessNumber(<token>)` afterwards.
 * No string of the body can start with U+0000: JSON cannot carry one raw, and a body that escapes one is not vouched
 * for at all.
 */
const MARK = '\u0000';
const ESCAPED_MARK = '\\u0000';

/**
 * `JSON.parse`, vouched for as lossless-json's result. Valid JSON parses to the same tree under both except in two
 * ways, and both are dealt with from the text:
 * - numbers: `JSON.parse` makes a double, lossless-json keeps the text. A number the runtime writes back as its exact
 *   text (`1.5`, `50000`) becomes the `LosslessNumber` of that text; any other is marked (see {@link MARK}) so its
 *   text reaches the tree untouched;
 * - duplicate keys: `JSON.parse` keeps the last, lossless-json refuses them (unless equal). The keys written in the
 *   text must be exactly as many as the keys in the tree.
 * Anything else (not JSON, a marked token that is not a JSON number, too deep) is left to lossless-json.
 */
function parseNative(text: string): unknown {
  if (text.includes(ESCAPED_MARK)) return NOT_VOUCHED;
  const scan = scanText(text);
  if (scan === undefined) return NOT_VOUCHED;
  let value: unknown;
  try {
    value = JSON.parse(scan.text);
  } catch {
    // lossless-json gives the refusal, in its words.
    return NOT_VOUCHED;
  }
  const keys = { count: 0 };
  const tree = withLosslessNumbers(value, 0, keys);
  return keys.count === scan.keys ? tree : NOT_VOUCHED;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const MINUS = 0x2d;

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Digits, `.`, `e`/`E`, `+`, `-`: what a number token is made of. */
function isNumberChar(code: number): boolean {
  return isDigit(code) || code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === MINUS;
}

/** The index just past the number token that starts at `start`. */
function afterNumber(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && isNumberChar(text.charCodeAt(i))) i += 1;
  return i;
}

/**
 * The commonest number, checked without making a string of it: an integer of at most 15 digits without a leading zero
 * (`0` itself, not `-0`), which the runtime always writes back the same.
 */
function isShortInteger(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start) === MINUS ? start + 1 : start;
  const digits = end - first;
  if (digits < 1 || digits > 15) return false;
  if (text.charCodeAt(first) === 0x30) return digits === 1 && first === start;
  for (let i = first; i < end; i += 1) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** True when the runtime writes this number's double back as exactly this text. */
function isCanonicalNumber(token: string): boolean {
  return String(Number(token)) === token;
}

/** The index just past the string that opens at `open`: its closing quote is the first one not escaped. */
function afterString(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close > 0 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
  return close < 0 ? text.length : close + 1;
}

/** An odd run of backslashes before `index` escapes the character there. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let j = index - 1; text.charCodeAt(j) === BACKSLASH; j -= 1) backslashes += 1;
  return backslashes % 2 === 1;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (isJsonSpace(text.charCodeAt(i))) i += 1;
  return i;
}

/**
 * Reads the text as JSON's lexer does (strings whole, so digits inside them are not numbers): the number of object
 * keys written (strings followed by `:`), and the text with every number that is not canonical marked. `undefined`
 * when a number stands where a key should (only a key may be followed by `:`).
 */
function scanText(text: string): { text: string; keys: number } | undefined {
  let keys = 0;
  let marked = '';
  let copied = 0;
  let i = 0;
  const end = text.length;
  while (i < end) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = skipSpace(text, afterString(text, i));
      if (text.charCodeAt(i) === COLON) keys += 1;
    } else if (code === MINUS || isDigit(code)) {
      const start = i;
      i = afterNumber(text, start);
      if (!isShortInteger(text, start, i)) {
        const token = text.slice(start, i);
        if (!isCanonicalNumber(token)) {
          marked += `${text.slice(copied, start)}"${ESCAPED_MARK}${token}"`;
          copied = i;
        }
      }
      if (text.charCodeAt(skipSpace(text, i)) === COLON) return undefined;
    } else {
      i += 1;
    }
  }
  return { text: copied === 0 ? text : marked + text.slice(copied), keys };
}

/**
 * Replaces, in place, every number and marked string of a `JSON.parse` tree with its `LosslessNumber` (whose
 * constructor refuses a token that is not a JSON number) and counts the object keys. Too deep a tree, or a marked
 * token that is not a number, is {@link NOT_VOUCHED}.
 */
function withLosslessNumbers(value: unknown, depth: number, keys: { count: number }): unknown {
  if (typeof value !== 'object' || value === null) return leaf(value);
  if (depth >= NATIVE_MAX_DEPTH) return NOT_VOUCHED;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const item = withLosslessNumbers(value[i], depth + 1, keys);
      if (item === NOT_VOUCHED) return NOT_VOUCHED;
      value[i] = item;
    }
    return value;
  }
  const object = value as Record<string, unknown>;
  // for-in rather than Object.keys: no array per object. An inherited enumerable key (a polluted prototype) is not
  // what JSON.parse alone makes, so lossless-json decides.
  for (const name in object) {
    if (!Object.hasOwn(object, name)) return NOT_VOUCHED;
    keys.count += 1;
    const item = object[name];
    const replaced = withLosslessNumbers(item, depth + 1, keys);
    if (replaced === NOT_VOUCHED) return NOT_VOUCHED;
    // Only numbers change; a key named `__proto__` is an own data property here, so assigning sets just that.
    if (replaced !== item) object[name] = replaced;
  }
  return object;
}

/** A number, or a marked number's text, as its `LosslessNumber`; any other leaf as it is. */
function leaf(value: unknown): unknown {
  if (typeof value === 'number') return new LosslessNumber(String(value));
  if (typeof value === 'string' && value.charCodeAt(0) === 0) return markedNumber(value);
  return value;
}

function markedNumber(value: string): LosslessNumber | typeof NOT_VOUCHED {
  try {
    return new LosslessNumber(value.slice(MARK.length));
  } catch {
    return NOT_VOUCHED;
  }
}

/**
 * The compact JSON text of a tree {@link parseJson} returned, exactly as lossless-json's `stringify` writes it
 * (numbers as their kept text, keys in `Object.keys` order, strings and keys escaped by `JSON.stringify`), in a
 * fraction of its time. `undefined` when the value holds anything such a tree cannot (a plain number, `undefined`, a
 * class instance, a `toJSON` method): the caller then asks lossless-json.
 *
 * `plainStrings`: the caller vouches that no string or key in the value needs escaping, as is the case for every
 * string parsed from a body without a backslash ({@link hasNoBackslash}); they are then written without a check.
 */
export function writeJson(value: unknown, plainStrings = false): string | undefined {
  return writeValue(value, plainStrings ? plainQuote : quote);
}

/**
 * True when the body has no backslash: JSON then has no escapes, and its strings (raw control characters being
 * refused by the parser, lone surrogates by the UTF-8 decoder) are exactly what `JSON.stringify` writes unescaped.
 * In UTF-8 the byte 0x5c is only ever a backslash.
 */
export function hasNoBackslash(body: Buffer): boolean {
  return body.indexOf(0x5c) < 0;
}

type Quote = (text: string) => string;

function writeValue(value: unknown, q: Quote): string | undefined {
  if (typeof value === 'string') return q(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'object') return undefined;
  if (value === null) return 'null';
  if (value instanceof LosslessNumber) return value.value;
  if (Array.isArray(value)) return writeArray(value, q);
  return Object.getPrototypeOf(value) === Object.prototype ? writeObject(value as JsonObject, q) : undefined;
}

/**
 * What `JSON.stringify` escapes in a string: anything but the characters it writes as they are (space onwards, less
 * the quote, the backslash and the surrogates, which are written raw only as valid pairs).
 */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\uffff]/;

/** A string as `JSON.stringify` writes it; called for the common case directly, since each call of it costs. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** A string that needs no escaping (see `plainStrings`). */
function plainQuote(text: string): string {
  return `"${text}"`;
}

/**
 * `writeJson({ [key]: value, ...object }, plainStrings)` without building that object: the key first (with the
 * object's own value for it where it has one, as the spread gives), then the object's other keys in order.
 * `undefined` where `writeJson` would decline, or where the spread's key order could differ: every object lists
 * array-index keys first, so an object with a key starting with a digit is declined.
 */
export function writeJsonWithFirst(
  key: string,
  value: unknown,
  object: JsonObject,
  plainStrings = false,
): string | undefined {
  if (Object.getPrototypeOf(object) !== Object.prototype || typeof object.toJSON === 'function')
    return undefined;
  const names = Object.keys(object);
  if (isDigit(key.charCodeAt(0)) || isDigit(names[0]?.charCodeAt(0) ?? 0)) return undefined;
  const q = plainStrings ? plainQuote : quote;
  const head = writeValue(Object.hasOwn(object, key) ? object[key] : value, q);
  if (head === undefined) return undefined;
  let text = `{${q(key)}:${head}`;
  for (const name of names) {
    if (name === key) continue;
    const item = writeValue(object[name], q);
    if (item === undefined) return undefined;
    text += `,${q(name)}:${item}`;
  }
  return `${text}}`;
}

function writeArray(array: readonly unknown[], q: Quote): string | undefined {
  let text = '[';
  for (let i = 0; i < array.length; i += 1) {
    const item = writeValue(array[i], q);
    if (item === undefined) return undefined;
    text += i === 0 ? item : `,${item}`;
  }
  return `${text}]`;
}

function writeObject(object: JsonObject, q: Quote): string | undefined {
  // lossless-json (like JSON.stringify) writes what `toJSON` returns instead; a parsed tree has no such method.
  if (typeof object.toJSON === 'function') return undefined;
  let text = '{';
  let first = true;
  for (const key of Object.keys(object)) {
    const item = writeValue(object[key], q);
    if (item === undefined) return undefined;
    text += `${first ? '' : ','}${q(key)}:${item}`;
    first = false;
  }
  return `${text}}`;
}
