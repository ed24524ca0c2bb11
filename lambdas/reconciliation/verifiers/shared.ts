import { InvalidAmountError, type Money } from '../../domain/money.js';
import { at, isObject, type JsonObject, parseJson, textAt } from '../../gateways/payload.js';
import {
  type ApiCredentials,
  type VerifiedStatus,
  VerifyMalformedError,
  VerifyUnsupportedError,
} from '../verify.js';

/**
 * Small pieces every verifier needs: building URLs under a configurable base, demanding credentials, and reading an
 * answer into typed values or a {@link VerifyMalformedError}. Messages quote field names and status words, never a
 * credential or a body (the reconciler logs them, and bodies hold customer data).
 */

/** `base` (with or without a trailing slash, possibly with a path prefix, as the sandbox has) joined with `path`. */
export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** One path segment, escaped: ids come from stored payments and webhooks, and must not change the path. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * The `apiKey` credential, or a {@link VerifyUnsupportedError} telling the operator what to add to which secret.
 * `description` says what the key is at that gateway (`your Stripe secret key`).
 */
export function requireApiKey(credentials: ApiCredentials, gateway: string, description: string): string {
  const key = credentials.apiKey;
  if (key === undefined || key.length === 0) {
    throw new VerifyUnsupportedError(`add "apiKey" (${description}) to the ${gateway} secret`);
  }
  return key;
}

/** The required id of the target, or a {@link VerifyUnsupportedError} naming what is missing. */
export function requireId(value: string | undefined, gateway: string, what: string): string {
  if (value === undefined || value.length === 0) {
    throw new VerifyUnsupportedError(
      `${gateway} payments are verified by ${what}, and this payment has none`,
    );
  }
  return value;
}

/** Parses an answer that must be a JSON object, keeping every number's exact text. */
export function readObject(body: string, gateway: string): JsonObject {
  let value: unknown;
  try {
    value = parseJson(body);
  } catch {
    throw new VerifyMalformedError(`${gateway} answered with something that is not JSON`);
  }
  if (!isObject(value)) throw new VerifyMalformedError(`${gateway} answered JSON that is not an object`);
  return value;
}

/** The object at `path`, or a {@link VerifyMalformedError}. */
export function requireObject(value: unknown, path: readonly string[], gateway: string): JsonObject {
  const current = at(value, path);
  if (!isObject(current))
    throw new VerifyMalformedError(`${gateway} answer has no "${path.join('.')}" object`);
  return current;
}

/** The text (string or exact number) at `path`, or a {@link VerifyMalformedError}. */
export function requireText(value: unknown, path: readonly string[], gateway: string): string {
  const found = textAt(value, path);
  if (found === undefined) throw new VerifyMalformedError(`${gateway} answer has no "${path.join('.')}"`);
  return found;
}

/** Builds money with `build`, turning an unreadable amount or currency into a {@link VerifyMalformedError}. */
export function readMoney(gateway: string, build: () => Money): Money {
  try {
    return build();
  } catch (error) {
    if (error instanceof InvalidAmountError) {
      // The amount and currency are not customer data; the message says which part could not be read.
      throw new VerifyMalformedError(`${gateway} answer has an unreadable amount: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The payhook status for a gateway's status word, compared case-insensitively; own keys only, so a word such as
 * `constructor` does not reach Object.prototype.
 */
export function mapStatus(
  table: Readonly<Record<string, VerifiedStatus>>,
  word: string,
): VerifiedStatus | undefined {
  const key = word.toLowerCase();
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** An answered status word payhook has no mapping for: never guessed at, so never applied. */
export function unknownStatus(gateway: string, word: string): VerifyMalformedError {
  // A status word is the gateway's vocabulary, not customer data; cut it short in case a body was put there.
  return new VerifyMalformedError(`${gateway} answered an unknown payment status "${word.slice(0, 40)}"`);
}

/**
 * Whether an error body's message (at any of `paths`) matches `pattern`: how gateways that answer an unknown id
 * with 400 say so. Never throws; a body that is not JSON simply does not match.
 */
export function errorMessageMatches(
  body: string,
  paths: readonly (readonly string[])[],
  pattern: RegExp,
): boolean {
  let value: unknown;
  try {
    value = parseJson(body);
  } catch {
    return false;
  }
  return paths.some((path) => {
    const message = textAt(value, path);
    return message !== undefined && pattern.test(message);
  });
}
