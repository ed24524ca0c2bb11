import { describe, expect, it } from 'vitest';
import {
  breakerSettingsOf,
  InvalidDestinationError,
  parseDestinations,
  parseDestinationsJson,
  wants,
} from '../../../lambdas/delivery/destinations.js';
import { DEFAULT_BREAKER_SETTINGS } from '../../../lambdas/domain/circuit-breaker.js';

const AWS = { allowHttp: false };

describe('destination settings', () => {
  it('fills every default the README promises from a url alone', () => {
    expect(parseDestinations({ shop: { url: 'https://shop.example/hooks' } }, 'destinations', AWS)).toEqual({
      shop: {
        url: 'https://shop.example/hooks',
        format: 'payment-event',
        timeoutSeconds: 10,
        retryHours: 24,
        maxConcurrency: 2,
        allowPrivateNetwork: false,
      },
    });
  });

  it('keeps filters, limits and the rate the next issue enforces', () => {
    const parsed = parseDestinations(
      {
        erp: {
          url: 'https://erp.example/payhook',
          detailTypes: ['payment.succeeded', 'payment.refunded', 'payment.succeeded'],
          gateways: ['stripe'],
          timeoutSeconds: 30,
          retryHours: 72,
          maxConcurrency: 5,
          allowPrivateNetwork: true,
          rateLimitPerSecond: 20,
        },
      },
      'destinations',
      AWS,
    );
    expect(parsed.erp).toMatchObject({
      detailTypes: ['payment.succeeded', 'payment.refunded'],
      gateways: ['stripe'],
      timeoutSeconds: 30,
      retryHours: 72,
      maxConcurrency: 5,
      allowPrivateNetwork: true,
      rateLimitPerSecond: 20,
    });
  });

  it.each([
    [{ Shop: { url: 'https://a.example' } }, /destination name "Shop"/],
    [{ shop: { url: 'http://a.example' } }, /destinations\.shop\.url must be https, not http:/],
    [{ shop: { url: 'https://user:pw@a.example' } }, /must not carry a user name or password/],
    [{ shop: { url: 'not a url' } }, /destinations\.shop\.url must be an absolute URL/],
    [{ shop: { url: 'https://a.example', format: 'raw' } }, /format must be one of: payment-event, original/],
    [
      { shop: { url: 'https://a.example', format: 'original', detailTypes: ['payment.succeeded'] } },
      /shop\.detailTypes is for payment events: an original destination gets every webhook/,
    ],
    [
      { shop: { url: 'https://a.example', timeoutSeconds: 31 } },
      /timeoutSeconds must be a whole number from 1 to 30/,
    ],
    [
      { shop: { url: 'https://a.example', retryHours: 0 } },
      /retryHours must be a whole number from 1 to 335/,
    ],
    [
      { shop: { url: 'https://a.example', maxConcurrency: 1 } },
      /maxConcurrency must be a whole number from 2/,
    ],
    [
      { shop: { url: 'https://a.example', detailTypes: ['payment.paid'] } },
      /detailTypes must be a non-empty list/,
    ],
    [{ shop: { url: 'https://a.example', gateways: [] } }, /gateways must be a non-empty list/],
    [
      { shop: { url: 'https://a.example', allowPrivateNetwork: 'yes' } },
      /allowPrivateNetwork must be true or false/,
    ],
    [{ shop: 'https://a.example' }, /destinations\.shop must be an object/],
  ])('refuses %j naming the field', (value, message) => {
    expect(() => parseDestinations(value, 'destinations', AWS)).toThrow(InvalidDestinationError);
    expect(() => parseDestinations(value, 'destinations', AWS)).toThrow(message);
  });

  it('keeps only the circuit-breaker settings given, over the defaults, and refuses unknown ones by name', () => {
    const parsed = parseDestinations(
      { shop: { url: 'https://a.example', circuitBreaker: { consecutiveFailures: 5, openSeconds: 30 } } },
      'destinations',
      AWS,
    );
    expect(parsed.shop?.circuitBreaker).toEqual({ consecutiveFailures: 5, openSeconds: 30 });
    if (!parsed.shop) throw new Error('parsed');
    expect(breakerSettingsOf(parsed.shop)).toEqual({
      ...DEFAULT_BREAKER_SETTINGS,
      consecutiveFailures: 5,
      openSeconds: 30,
    });
    expect(() =>
      parseDestinations({ shop: { url: 'https://a.example', circuitBreaker: { failures: 5 } } }, 'd', AWS),
    ).toThrow(/d\.shop\.circuitBreaker\.failures is not a setting \(known: consecutiveFailures/);
    expect(() =>
      parseDestinations({ shop: { url: 'https://a.example', circuitBreaker: { openSeconds: 5 } } }, 'd', AWS),
    ).toThrow(/circuitBreaker\.openSeconds must be a whole number from 10 to 900/);
  });

  it('takes http only where allowed (the local stack)', () => {
    const local = parseDestinationsJson(
      '{"shop":{"url":"http://127.0.0.1:4000/hooks"}}',
      'PAYHOOK_DESTINATIONS',
      { allowHttp: true },
    );
    expect(local.shop?.url).toBe('http://127.0.0.1:4000/hooks');
    expect(() => parseDestinationsJson('{"shop":', 'PAYHOOK_DESTINATIONS', { allowHttp: true })).toThrow(
      /PAYHOOK_DESTINATIONS must be JSON/,
    );
    expect(parseDestinationsJson(undefined, 'PAYHOOK_DESTINATIONS', { allowHttp: true })).toEqual({});
  });

  it('wants only the detail-types and gateways it names, everything when it names none', () => {
    const all = parseDestinations({ a: { url: 'https://a.example' } }, 'd', AWS).a;
    const some = parseDestinations(
      { b: { url: 'https://b.example', detailTypes: ['payment.succeeded'], gateways: ['paystack'] } },
      'd',
      AWS,
    ).b;
    if (!all || !some) throw new Error('parsed');
    expect(wants(all, { detailType: 'payment.failed', gateway: 'stripe' })).toBe(true);
    expect(wants(some, { detailType: 'payment.succeeded', gateway: 'paystack' })).toBe(true);
    expect(wants(some, { detailType: 'payment.failed', gateway: 'paystack' })).toBe(false);
    expect(wants(some, { detailType: 'payment.succeeded', gateway: 'stripe' })).toBe(false);
  });
});
