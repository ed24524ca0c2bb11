import { isLosslessNumber, parse } from 'lossless-json';
import { UnparseablePayloadError } from './types.js';

/**
 * Reading gateway JSON without losing digits. Node 20's `JSON.parse` turns `0.123456789012345678901` into
 * `0.12345678901234568`; here every number stays as its source text (a `LosslessNumber`), and the accessors below
 * hand back strings, so an amount is converted from exactly what the gateway wrote.
 */

export type JsonObject = { readonly [key: string]: unknown };

// A byte-order mark is kept: the text is the exact bytes (the event's payload), and JSON parsing skips it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text, every byte of it; throws {@link UnparseablePayloadError} when it is not valid UTF-8. */
export function bodyText(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new UnparseablePayloadError('body is not valid UTF-8');
  }
}

/** Parses JSON keeping every number's text; throws {@link UnparseablePayloadError} on anything else. */
export function parseJson(text: string): unknown {
  try {
    // A sender may start its JSON with a byte-order mark (RFC 8259 lets a parser ignore one).
    return parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  } catch (error) {
    throw new UnparseablePayloadError(`body is not JSON: ${(error as Error).message}`);
  }
}

/** Parses a body that must be a JSON object (every payment gateway sends one). */
export function parseJsonObject(body: Buffer): JsonObject {
  const value = parseJson(bodyText(body));
  if (!isObject(value)) throw new UnparseablePayloadError('body is JSON but not an object');
  return value;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** The value at a path of keys (keys may themselves contain dots, as Flutterwave's `event.type` does). */
export function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    // Own keys only: a configured path such as `constructor` must not reach Object.prototype.
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** Splits a configured dotted path such as `data.reference`. */
export function dottedPath(path: string): string[] {
  return path.split('.').filter((part) => part.length > 0);
}

/** A string, or a number's exact text; `undefined` for anything else and for empty strings. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function textAt(value: unknown, path: readonly string[]): string | undefined {
  return text(at(value, path));
}

/** The first path that holds a non-empty string or number. */
export function firstTextAt(value: unknown, paths: readonly (readonly string[])[]): string | undefined {
  for (const path of paths) {
    const found = textAt(value, path);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `true`/`false` from a boolean or the strings Adyen sends (`"true"`, `"false"`). */
export function booleanAt(value: unknown, path: readonly string[]): boolean | undefined {
  const found = at(value, path);
  if (typeof found === 'boolean') return found;
  if (found === 'true') return true;
  if (found === 'false') return false;
  return undefined;
}

/** Unix seconds (number or numeric text) or an ISO date, as an ISO 8601 string; `undefined` if neither. */
export function isoTime(value: unknown): string | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const millis = /^\d{9,11}$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  return Number.isFinite(millis) ? new Date(millis).toISOString() : undefined;
}
