/**
 * Masking for what the on-call commands print. Dead-lettered messages carry raw gateway payloads: customer emails and
 * UPI handles, card numbers (some gateways echo a PAN or a long account number), PINs and one-time codes a checkout
 * form posted, keys such as `authorization_code` that can charge a card again, and now and then an API key pasted into
 * a metadata field. On-call output lands in terminals, tickets and chat, so it is masked before it leaves here.
 *
 * Two ways, both everywhere in a payload:
 * - by field name: the value of a field whose name says it is secret ({@link isSecretKey}) is replaced whole by
 *   {@link REDACTED}, in JSON and in text (`pin=1234` in a form body, `"otp":"123456"` in a JSON string, `<pin>` in
 *   XML);
 * - by value shape, whatever the field is called: API keys (redacted whole), emails and UPI handles (the first
 *   character and the domain or handle kept: `a***@example.com`, `9***@ybl`), card numbers (every digit but the last
 *   four).
 */
import { isLosslessNumber, parse } from 'lossless-json';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Names whose values are never shown, matched anywhere in the name, case-insensitively: `x-paystack-signature`,
 * `authorization_code`, `client_secret`, `access_token`, `card.cvv`, `cvv2`, `userPassword`, `passwd`, ...
 */
const SECRET_KEY =
  /secret|signature|authori[sz]ation|hmac|passw(?:or)?d|token|cvv|cvc|api[-_]?key|private[-_]?key/i;

/**
 * Short names that are secret only as a whole word of the name, since as a part of a word they are not (`pin` in
 * `shipping`, `otp` in `hotpot`): `pin`, `card_pin`, `cardPin`, `PIN`, `upi_mpin`, `otp`, `OTPCode`, `bvn`, `nin`, ...
 */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'pin',
  'mpin',
  'tpin',
  'otp',
  'passcode',
  'pwd',
  'cvn',
  'bvn',
  'nin',
  'ssn',
]);

/** The words of a field name: `card_pin`, `cardPin`, `card-pin`, `card.pin`, `card[pin]`, `CARD_PIN2` all give card, pin. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

/** True for a field name whose value must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || wordsOf(key).some((word) => SECRET_WORDS.has(word));
}

/**
 * API keys by their published prefixes, whatever field they sit in: Stripe and Paystack secret keys (`sk_live_`,
 * `sk_test_`), Stripe restricted keys (`rk_live_`, `rk_test_`), webhook signing secrets (`whsec_`: Stripe, Standard
 * Webhooks), Flutterwave secret and encryption keys (`FLWSECK-`, `FLWSECK_TEST-`, `FLWSECK_TEST` + hex), Razorpay key
 * ids (`rzp_live_`, `rzp_test_`). The key's rest runs over letters, digits and `_ - + / = %` (base64, URL-encoding).
 */
const API_KEY =
  /(?<![A-Za-z0-9])(?:(?:sk|rk)_(?:live|test)_|whsec_|FLWSECK|rzp_(?:live|test)_)[A-Za-z0-9_%+/=-]*/g;

/** A secret-named field in a form-encoded body or query string: `pin=1234`, `card%5Bcvv%5D=123`. */
const FORM_FIELD = /(^|[?&;\s])([^=&;\s]+)=([^&;\s]*)/g;

/** A secret-named field of JSON held in a string (a stringified `metadata`, an error quoting a payload). */
const JSON_FIELD = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+)/g;

/** A secret-named element of XML: `<pin>1234</pin>`, `<ns:cvc>123</ns:cvc>`. */
const XML_FIELD = /<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>([^<]*)<\/\1\s*>/g;

/**
 * An email address or a UPI handle (VPA): a local part, `@` (or `%40` in a form-encoded body) and a domain of one or
 * more labels. Letters and digits of any script: `jöhn@exämple.com`, `user@xn--bcher-kva.example`, `name@okaxis`,
 * `9876543210@ybl`. A name without a dot after the `@` (`ref@order`) is masked too: UPI handles are exactly that
 * shape, and banks add new ones, so no list could tell a handle from anything else. A match starts only where a
 * local part can start, so a long run of letters with no `@` in it costs one pass, not one per character.
 */
const EMAIL_OR_HANDLE =
  /(?<![\p{L}\p{M}\p{N}._%+-])([\p{L}\p{N}_%+-])[\p{L}\p{M}\p{N}._%+-]*(@|%40)([\p{L}\p{N}][\p{L}\p{M}\p{N}-]*(?:\.[\p{L}\p{M}\p{N}-]+)*)/gu;

/**
 * A run of digit groups that could hold a card number: groups split by a space (one or two), a no-break space
 * (U+00A0, U+202F, U+2007), a thin space (U+2009), a dot or a dash, as people and forms write them.
 */
const DIGIT_RUN = /(?<!\d)\d+(?:(?:[ \u00a0\u2007\u2009\u202f]{1,2}|[.-])\d+)*(?!\d)/g;

/** Card numbers are 12 (some Maestro) to 19 digits long. */
const CARD_DIGITS = { min: 12, max: 19 } as const;

/** The Luhn check every card number passes (and 9 in 10 other digit strings fail). */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A digit run with its card numbers masked. Any stretch of whole groups that is 12 to 19 digits long and passes Luhn
 * is a card number (`qty 2 4111 1111 1111 1111` holds one after the 2): every digit of it but the last four becomes
 * `*`, separators stay so the shape is still recognisable. Runs with no such stretch (order ids, phone numbers,
 * amounts) are left as they are; a digit shown as some card's last four is hidden if it belongs to another's first.
 */
function maskCardNumbers(run: string): string {
  const groups = [...run.matchAll(/\d+/g)].map((match) => ({ start: match.index, digits: match[0] }));
  const hidden = new Set<number>();
  for (let first = 0; first < groups.length; first += 1) {
    let digits = '';
    for (let last = first; last < groups.length; last += 1) {
      digits += groups[last]?.digits ?? '';
      if (digits.length > CARD_DIGITS.max) break;
      if (digits.length < CARD_DIGITS.min || !passesLuhn(digits)) continue;
      let toHide = digits.length - 4;
      for (const group of groups.slice(first, last + 1)) {
        for (let offset = 0; offset < group.digits.length && toHide > 0; offset += 1, toHide -= 1) {
          hidden.add(group.start + offset);
        }
      }
    }
  }
  if (hidden.size === 0) return run;
  return [...run].map((character, index) => (hidden.has(index) ? '*' : character)).join('');
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/**
 * Masks free text: the values of secret-named fields written into it (form-encoded, JSON, XML), API keys, emails and
 * UPI handles (`a***@example.com`, `9***@ybl`), and card numbers (all but the last four digits).
 */
export function maskText(text: string): string {
  return text
    .replace(FORM_FIELD, (match, before: string, name: string) =>
      isSecretKey(decodedName(name)) ? `${before}${name}=${REDACTED}` : match,
    )
    .replace(JSON_FIELD, (match, name: string, colon: string) =>
      isSecretKey(name) ? `"${name}"${colon}"${REDACTED}"` : match,
    )
    .replace(XML_FIELD, (match, name: string, attributes: string | undefined) =>
      isSecretKey(name) ? `<${name}${attributes ?? ''}>${REDACTED}</${name}>` : match,
    )
    .replace(API_KEY, REDACTED)
    .replace(
      EMAIL_OR_HANDLE,
      (_match, first: string, at: string, domain: string) => `${first}***${at}${domain}`,
    )
    .replace(DIGIT_RUN, maskCardNumbers);
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
