/**
 * Money in payhook: an integer count of minor units, its currency, and the exponent that relates the two.
 * Never a float. `bigint` because crypto amounts at 18 decimals overflow a double's 53 bits.
 */
export interface Money {
  /** Integer amount in minor units (cents, kobo, paise; 10^-exponent of the currency). */
  readonly amountMinor: bigint;
  /** Upper-case currency code: ISO 4217, or a crypto ticker such as `USDT`. */
  readonly currency: string;
  /** Number of decimal places between major and minor units for this amount. */
  readonly exponent: number;
}

/** Money as it travels in JSON (queue messages, DynamoDB documents): the integer as a decimal string. */
export interface MoneyJson {
  readonly amountMinor: string;
  readonly currency: string;
  readonly exponent: number;
}

export class InvalidAmountError extends Error {
  override readonly name = 'InvalidAmountError';
}

/** ISO 4217 currencies whose minor unit is not 2 decimals. Every other ISO code uses 2. */
const ISO_EXPONENT_EXCEPTIONS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/**
 * Currencies outside ISO 4217 have no official minor unit. payhook fixes one per ticker (the token's own on-chain
 * decimals where that is well known) so amounts convert exactly; anything unlisted uses
 * {@link DEFAULT_NON_ISO_EXPONENT}. Override per deployment through gateway settings when a token differs.
 */
export const NON_ISO_EXPONENTS: Readonly<Record<string, number>> = {
  USDT: 6,
  USDC: 6,
  DAI: 18,
  BTC: 8,
  LTC: 8,
  BCH: 8,
  DOGE: 8,
  ETH: 18,
  BNB: 18,
  POL: 18,
  MATIC: 18,
  TRX: 6,
  SOL: 9,
  TON: 9,
  XMR: 12,
  SHIB: 18,
  NOT: 9,
  DOGS: 9,
};

export const DEFAULT_NON_ISO_EXPONENT = 8;

/**
 * Every ISO 4217 code in use (the list maintained by SIX, 2025), kept here rather than read from the runtime's `Intl`,
 * whose list varies with the Node build and still holds withdrawn codes (HRK). Funds codes (BOV, CLF, ...) and the
 * X-codes are ISO codes too.
 */
export const ISO_4217_CODES: ReadonlySet<string> = new Set([
  'AED',
  'AFN',
  'ALL',
  'AMD',
  'ANG',
  'AOA',
  'ARS',
  'AUD',
  'AWG',
  'AZN',
  'BAM',
  'BBD',
  'BDT',
  'BGN',
  'BHD',
  'BIF',
  'BMD',
  'BND',
  'BOB',
  'BOV',
  'BRL',
  'BSD',
  'BTN',
  'BWP',
  'BYN',
  'BZD',
  'CAD',
  'CDF',
  'CHE',
  'CHF',
  'CHW',
  'CLF',
  'CLP',
  'CNY',
  'COP',
  'COU',
  'CRC',
  'CUC',
  'CUP',
  'CVE',
  'CZK',
  'DJF',
  'DKK',
  'DOP',
  'DZD',
  'EGP',
  'ERN',
  'ETB',
  'EUR',
  'FJD',
  'FKP',
  'GBP',
  'GEL',
  'GHS',
  'GIP',
  'GMD',
  'GNF',
  'GTQ',
  'GYD',
  'HKD',
  'HNL',
  'HTG',
  'HUF',
  'IDR',
  'ILS',
  'INR',
  'IQD',
  'IRR',
  'ISK',
  'JMD',
  'JOD',
  'JPY',
  'KES',
  'KGS',
  'KHR',
  'KMF',
  'KPW',
  'KRW',
  'KWD',
  'KYD',
  'KZT',
  'LAK',
  'LBP',
  'LKR',
  'LRD',
  'LSL',
  'LYD',
  'MAD',
  'MDL',
  'MGA',
  'MKD',
  'MMK',
  'MNT',
  'MOP',
  'MRU',
  'MUR',
  'MVR',
  'MWK',
  'MXN',
  'MXV',
  'MYR',
  'MZN',
  'NAD',
  'NGN',
  'NIO',
  'NOK',
  'NPR',
  'NZD',
  'OMR',
  'PAB',
  'PEN',
  'PGK',
  'PHP',
  'PKR',
  'PLN',
  'PYG',
  'QAR',
  'RON',
  'RSD',
  'RUB',
  'RWF',
  'SAR',
  'SBD',
  'SCR',
  'SDG',
  'SEK',
  'SGD',
  'SHP',
  'SLE',
  'SLL',
  'SOS',
  'SRD',
  'SSP',
  'STN',
  'SVC',
  'SYP',
  'SZL',
  'THB',
  'TJS',
  'TMT',
  'TND',
  'TOP',
  'TRY',
  'TTD',
  'TWD',
  'TZS',
  'UAH',
  'UGX',
  'USD',
  'USN',
  'UYI',
  'UYU',
  'UYW',
  'UZS',
  'VED',
  'VES',
  'VND',
  'VUV',
  'WST',
  'XAF',
  'XAG',
  'XAU',
  'XBA',
  'XBB',
  'XBC',
  'XBD',
  'XCD',
  'XCG',
  'XDR',
  'XOF',
  'XPD',
  'XPF',
  'XPT',
  'XSU',
  'XTS',
  'XUA',
  'XXX',
  'YER',
  'ZAR',
  'ZMW',
  'ZWG',
  'ZWL',
]);

export function isIso4217(code: string): boolean {
  return ISO_4217_CODES.has(code.toUpperCase());
}

const isoCodes = ISO_4217_CODES;

/** Upper-cases and checks a currency code; throws on anything that is not 2-10 letters/digits. */
export function normaliseCurrency(code: unknown): string {
  if (typeof code !== 'string' || !/^[A-Za-z0-9]{2,10}$/.test(code)) {
    throw new InvalidAmountError(`currency code ${JSON.stringify(code)} is not a currency code`);
  }
  return code.toUpperCase();
}

/**
 * The exponent payhook uses for a currency: ISO 4217's minor unit, else the fixed crypto scale, else
 * {@link DEFAULT_NON_ISO_EXPONENT}. `overrides` win (a gateway that counts a currency differently, a new token).
 */
export function currencyExponent(currency: string, overrides?: Readonly<Record<string, number>>): number {
  const code = currency.toUpperCase();
  const override = overrides?.[code];
  if (override !== undefined) return override;
  const isoException = ISO_EXPONENT_EXCEPTIONS[code];
  if (isoException !== undefined) return isoException;
  if (isoCodes.has(code)) return 2;
  return NON_ISO_EXPONENTS[code] ?? DEFAULT_NON_ISO_EXPONENT;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Converts an amount written in major units (`"10.5"`, `"2500.00"`, `"1e2"`) to exact minor units.
 * Refuses, rather than rounds, an amount with more significant decimals than the currency has.
 */
export function moneyFromMajor(
  amountText: string,
  currency: unknown,
  overrides?: Readonly<Record<string, number>>,
): Money {
  const code = normaliseCurrency(currency);
  const exponent = currencyExponent(code, overrides);
  const match = DECIMAL.exec(amountText.trim());
  if (!match) throw new InvalidAmountError(`amount ${JSON.stringify(amountText)} is not a decimal number`);
  const [, sign = '', whole = '', fraction = '', scientific] = match;
  const shift = scientific ? Number.parseInt(scientific, 10) : 0;
  if (Math.abs(shift) > 100) throw new InvalidAmountError(`amount ${amountText} is out of range`);
  // digits * 10^(shift - fraction.length) major units = digits * 10^(shift - fraction.length + exponent) minor units
  const digits = `${whole}${fraction}`;
  const scale = shift - fraction.length + exponent;
  let minor: bigint;
  if (scale >= 0) {
    minor = BigInt(digits) * 10n ** BigInt(scale);
  } else {
    const divisor = 10n ** BigInt(-scale);
    const value = BigInt(digits);
    if (value % divisor !== 0n) {
      throw new InvalidAmountError(
        `amount ${amountText} ${code} has more decimals than ${code}'s ${exponent}; refusing to round`,
      );
    }
    minor = value / divisor;
  }
  return { amountMinor: sign === '-' ? -minor : minor, currency: code, exponent };
}

/**
 * Builds money from an amount the gateway already sends in minor units (an integer, or an integer in a string as
 * Paystack does in some refund payloads).
 */
export function moneyFromMinor(
  amountText: string,
  currency: unknown,
  overrides?: Readonly<Record<string, number>>,
): Money {
  const code = normaliseCurrency(currency);
  const trimmed = amountText.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) {
    throw new InvalidAmountError(`amount ${JSON.stringify(amountText)} is not an integer of minor units`);
  }
  return { amountMinor: BigInt(trimmed), currency: code, exponent: currencyExponent(code, overrides) };
}

/** Major-unit decimal text, e.g. `{ 1050000n, USDT, 6 }` is `"1.050000"`. */
export function formatMajor(money: Money): string {
  const negative = money.amountMinor < 0n;
  const digits = (negative ? -money.amountMinor : money.amountMinor)
    .toString()
    .padStart(money.exponent + 1, '0');
  const whole = digits.slice(0, digits.length - money.exponent);
  const fraction = digits.slice(digits.length - money.exponent);
  return `${negative ? '-' : ''}${whole}${money.exponent > 0 ? `.${fraction}` : ''}`;
}

export function moneyToJson(money: Money): MoneyJson {
  return { amountMinor: money.amountMinor.toString(), currency: money.currency, exponent: money.exponent };
}

export function moneyFromJson(json: MoneyJson): Money {
  if (!/^-?\d+$/.test(json.amountMinor)) throw new InvalidAmountError(`bad amountMinor ${json.amountMinor}`);
  return {
    amountMinor: BigInt(json.amountMinor),
    currency: normaliseCurrency(json.currency),
    exponent: json.exponent,
  };
}
