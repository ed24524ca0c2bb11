import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  formatMajor,
  InvalidAmountError,
  moneyFromJson,
  moneyFromMajor,
  moneyFromMinor,
  moneyToJson,
} from '../../../lambdas/domain/money.js';

describe('Money', () => {
  describe('currencyExponent', () => {
    it.each([
      ['NGN', 2],
      ['usd', 2],
      ['JPY', 0],
      ['KRW', 0],
      ['KWD', 3],
      ['BHD', 3],
      ['CLF', 4],
      ['USDT', 6],
      ['BTC', 8],
      ['ETH', 18],
      ['WHATEVERCOIN', 8],
    ])('%s has %i decimals', (currency, exponent) => {
      expect(currencyExponent(currency)).toBe(exponent);
    });

    it('lets an override win over both ISO and the crypto table', () => {
      expect(currencyExponent('ISK', { ISK: 2 })).toBe(2);
      expect(currencyExponent('USDT', { USDT: 2 })).toBe(2);
    });
  });

  describe('moneyFromMajor', () => {
    it.each([
      ['100.50', 'NGN', 10050n],
      ['100.5', 'NGN', 10050n],
      ['100', 'ngn', 10000n],
      ['10.5', 'USDT', 10_500_000n],
      ['0.0025', 'BTC', 250_000n],
      ['1e2', 'USD', 10000n],
      ['1.5E-1', 'USD', 15n],
      ['2500.00', 'JPY', 2500n],
      ['-3.25', 'EUR', -325n],
      // Beyond double precision: JSON.parse would lose these digits.
      ['90071992547409.93', 'USD', 9007199254740993n],
      ['1.123456789012345678', 'ETH', 1123456789012345678n],
    ])('converts %s %s exactly', (text, currency, minor) => {
      expect(moneyFromMajor(text, currency).amountMinor).toBe(minor);
    });

    it('upper-cases the currency and records the exponent used', () => {
      expect(moneyFromMajor('1.00', 'usdt')).toEqual({
        amountMinor: 1_000_000n,
        currency: 'USDT',
        exponent: 6,
      });
    });

    it.each([
      ['10.001', 'USD'],
      ['0.5', 'JPY'],
      ['0.0000000001', 'BTC'],
    ])('refuses to round %s %s', (text, currency) => {
      expect(() => moneyFromMajor(text, currency)).toThrow(InvalidAmountError);
    });

    it('accepts trailing zeros beyond the exponent, since they change nothing', () => {
      expect(moneyFromMajor('5.000', 'JPY').amountMinor).toBe(5n);
    });

    it.each([['abc'], [''], ['1.2.3'], ['0x10'], ['1e999']])('refuses %j as an amount', (text) => {
      expect(() => moneyFromMajor(text, 'USD')).toThrow(InvalidAmountError);
    });

    it.each([[undefined], [''], ['US D'], [42]])('refuses %j as a currency', (currency) => {
      expect(() => moneyFromMajor('1', currency)).toThrow(InvalidAmountError);
    });

    it('round-trips through formatMajor for any amount', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
          fc.constantFrom('USD', 'JPY', 'KWD', 'ETH'),
          (minor, currency) => {
            const money = { amountMinor: minor, currency, exponent: currencyExponent(currency) };
            expect(moneyFromMajor(formatMajor(money), currency)).toEqual(money);
          },
        ),
      );
    });
  });

  describe('moneyFromMinor', () => {
    it('takes integers, including integers sent as strings', () => {
      expect(moneyFromMinor('5000', 'NGN')).toEqual({ amountMinor: 5000n, currency: 'NGN', exponent: 2 });
    });

    it.each([['10.5'], ['1e3'], ['']])('refuses %j, which is not an integer of minor units', (text) => {
      expect(() => moneyFromMinor(text, 'NGN')).toThrow(InvalidAmountError);
    });
  });

  describe('formatMajor', () => {
    it.each([
      [{ amountMinor: 1_050_000n, currency: 'USDT', exponent: 6 }, '1.050000'],
      [{ amountMinor: 5n, currency: 'USD', exponent: 2 }, '0.05'],
      [{ amountMinor: -5n, currency: 'USD', exponent: 2 }, '-0.05'],
      [{ amountMinor: 2500n, currency: 'JPY', exponent: 0 }, '2500'],
    ])('writes %o as %s', (money, text) => {
      expect(formatMajor(money)).toBe(text);
    });
  });

  it('travels as JSON with the integer as a string and comes back identical', () => {
    const money = moneyFromMajor('1.123456789012345678', 'ETH');
    const json = JSON.parse(JSON.stringify(moneyToJson(money)));
    expect(json).toEqual({ amountMinor: '1123456789012345678', currency: 'ETH', exponent: 18 });
    expect(moneyFromJson(json)).toEqual(money);
  });
});
