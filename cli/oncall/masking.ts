/**
 * Masking for what the on-call commands print. Dead-lettered messages carry raw gateway payloads: customer emails,
 * card numbers (some gateways echo a PAN or a long account number), and keys such as `authorization_code` that can
 * charge a card again. On-call output lands in terminals, tickets and chat, so it is masked before it leaves here.
 */
import { isLosslessNumber, parse } from 'lossless-json';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values are never shown, matched anywhere in the name, case-insensitively: `x-paystack-signature`,
 * `authorization_code`, `client_secret`, `access_token`, `card.cvv`, ...
 */
const SECRET_KEY =
  /secret|signature|authori[sz]ation|hmac|passw(?:or)?d|token|cvv|cvc|api[-_]?key|private[-_]?key/i;

/** One character of an email's local part, then the rest of it; `%40` is an `@` in a form-encoded body. */
const EMAIL = /([A-Za-z0-9_%+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;

/**
 * 13 to 19 digits, the lengths of card numbers, written as one run or in groups split by single spaces or dashes
 * (`4111 1111 1111 1111`). Longer runs are not card numbers and are left alone.
 */
const CARD_NUMBER = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

/** True for a key whose value must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

function maskDigits(match: string): string {
  const digits = match.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return match;
  // Every digit but the last four becomes `*`; separators stay so the shape is still recognisable.
  let toHide = digits.length - 4;
  return match.replace(/\d/g, (digit) => {
    if (toHide <= 0) return digit;
    toHide -= 1;
    return '*';
  });
}

/** Masks emails (`a***@example.com`) and card-number-like digit runs (all but the last four) in free text. */
export function maskText(text: string): string {
  return text
    .replace(EMAIL, (_match, first: string, at: string, domain: string) => `${first}***${at}${domain}`)
    .replace(CARD_NUMBER, maskDigits);
}

/**
 * A JSON value with secret-looking keys redacted and every string masked. Numbers arrive as lossless-json's
 * `LosslessNumber` so a 19-digit card number is masked from its exact text; others are turned back into plain
 * numbers where that is exact, else kept as their text (so nothing printed is silently rounded).
 */
export function maskJson(value: unknown, options: { readonly maskStrings?: boolean } = {}): unknown {
  const maskStrings = options.maskStrings ?? true;
  if (typeof value === 'string') return maskStrings ? maskText(value) : value;
  if (isLosslessNumber(value)) {
    const masked = maskStrings ? maskText(value.value) : value.value;
    if (masked !== value.value) return masked;
    const number = Number(value.value);
    return String(number) === value.value ? number : value.value;
  }
  if (Array.isArray(value)) return value.map((item) => maskJson(item, options));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        isSecretKey(key) ? REDACTED : maskJson(item, options),
      ]),
    );
  }
  return value;
}

/** Parses JSON text keeping every number's digits; `undefined` when it is not JSON. */
export function parseLossless(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A raw webhook payload, masked: its JSON value when it is JSON, else its text masked (form-encoded bodies, XML).
 * A base64 payload (bytes that were not UTF-8) is decoded as Latin-1 first, so a card number inside cannot slip
 * through in encoded form.
 */
export function maskPayload(payload: string, encoding: 'utf8' | 'base64' = 'utf8'): unknown {
  const text = encoding === 'base64' ? Buffer.from(payload, 'base64').toString('latin1') : payload;
  const parsed = parseLossless(text);
  if (parsed !== undefined && typeof parsed === 'object' && parsed !== null) return maskJson(parsed);
  return maskText(text);
}
