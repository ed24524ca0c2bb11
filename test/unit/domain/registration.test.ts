import { describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import { decide, expectationMismatch, type Payment } from '../../../lambdas/domain/payment.js';
import {
  applyRegistration,
  InvalidRegistrationError,
  parseRegistration,
} from '../../../lambdas/domain/registration.js';

const NOW = new Date('2026-11-24T10:00:00Z');

describe('parseRegistration', () => {
  it('reads an exact decimal amount in major units, or an integer of minor units, with any currency case', () => {
    expect(
      parseRegistration({ gateway: 'paystack', reference: 'ORDER-1', amount: '2500.00', currency: 'ngn' }),
    ).toEqual({
      gateway: 'paystack',
      reference: 'ORDER-1',
      expected: { amountMinor: 250000n, currency: 'NGN', exponent: 2 },
    });
    expect(
      parseRegistration({ gateway: 'paystack', reference: 'ORDER-1', amount: 250000, currency: 'NGN' })
        .expected.amountMinor,
    ).toBe(250000n);
  });

  it.each([
    ['a missing gateway', { reference: 'R', amount: '1', currency: 'USD' }, 'gateway', /must be one of/],
    [
      'an unknown gateway',
      { gateway: 'paypal', reference: 'R', amount: '1', currency: 'USD' },
      'gateway',
      /must be one of/,
    ],
    ['a missing reference', { gateway: 'paystack', amount: '1', currency: 'USD' }, 'reference', /required/],
    [
      'a float amount',
      { gateway: 'paystack', reference: 'R', amount: 25.5, currency: 'USD' },
      'amount',
      /never a float/,
    ],
    [
      'too many decimals',
      { gateway: 'paystack', reference: 'R', amount: '1.001', currency: 'USD' },
      'amount',
      /refusing to round/,
    ],
    [
      'a negative amount',
      { gateway: 'paystack', reference: 'R', amount: '-1', currency: 'USD' },
      'amount',
      /decimal string/,
    ],
    ['a missing currency', { gateway: 'paystack', reference: 'R', amount: '1' }, 'currency', /required/],
    [
      'a bad expiry',
      { gateway: 'paystack', reference: 'R', amount: '1', currency: 'USD', expiresAt: 'soon' },
      'expiresAt',
      /ISO 8601/,
    ],
    [
      'Stripe without its PaymentIntent id',
      { gateway: 'stripe', reference: 'R', amount: '1', currency: 'USD' },
      'gatewayPaymentId',
      /PaymentIntent/,
    ],
    [
      'Razorpay without its order id',
      { gateway: 'razorpay', reference: 'R', amount: '1', currency: 'INR' },
      'gatewayPaymentId',
      /order id/,
    ],
    [
      'OXA Pay without its track_id',
      { gateway: 'oxapay', reference: 'R', amount: '1', currency: 'USDT' },
      'gatewayPaymentId',
      /track_id/,
    ],
  ])('refuses %s, naming the field', (_name, body, field, message) => {
    try {
      parseRegistration(body);
      expect.unreachable('accepted a bad registration');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRegistrationError);
      expect((error as InvalidRegistrationError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('applyRegistration', () => {
  const registration = parseRegistration({
    gateway: 'paystack',
    reference: 'ORDER-1',
    amount: '2500.00',
    currency: 'NGN',
  });

  it('creates a pending payment carrying the expectation, in the pending index, announcing nothing', () => {
    const { next, created, announcements } = applyRegistration(undefined, registration, NOW);
    expect(created).toBe(true);
    expect(next).toMatchObject({
      status: 'pending',
      version: 1,
      paymentKey: 'ORDER-1',
      pendingSince: NOW.toISOString(),
    });
    expect(next?.expected).toEqual(moneyFromMinor('250000', 'NGN'));
    expect(announcements).toEqual([]);
  });

  it('is idempotent: registering the same payment again changes nothing and announces nothing', () => {
    const { next: first } = applyRegistration(undefined, registration, NOW);
    expect(applyRegistration(first, registration, NOW)).toEqual({ created: false, announcements: [] });
  });

  const paidWith = (amountMinor: string): Payment | undefined =>
    decide(
      undefined,
      {
        gateway: 'paystack',
        eventId: 'e1',
        eventType: 'charge.success',
        kind: 'payment.succeeded',
        reference: 'ORDER-1',
        money: moneyFromMinor(amountMinor, 'NGN'),
        mode: 'test',
        receivedAt: NOW.toISOString(),
        priority: 'high',
        requestId: 'r',
        payload: '{}',
      },
      NOW,
    ).next;

  it('records a later registration on a paid payment whose money differs as amount_mismatch, and announces it', () => {
    const paid = paidWith('200000');
    expect(paid?.status).toBe('succeeded');
    const { next, created, announcements } = applyRegistration(paid, registration, NOW);
    expect(created).toBe(false);
    expect(next).toMatchObject({ status: 'amount_mismatch', version: 2 });
    expect(next?.expected).toEqual(moneyFromMinor('250000', 'NGN'));
    expect(next && expectationMismatch(next)).toBe(true);
    // The money that arrived is still what it was: the expectation only changes what it means.
    expect(next?.moneyIn.map((fact) => fact.money)).toEqual([moneyFromMinor('200000', 'NGN')]);
    expect(announcements).toEqual([
      {
        fact: { type: 'expectation', id: '250000:NGN:2', state: 'mismatch' },
        to: 'amount_mismatch',
        money: moneyFromMinor('250000', 'NGN'),
      },
    ]);
    // Registering the same again announces the mismatch no second time.
    expect(applyRegistration(next, registration, NOW)).toEqual({ created: false, announcements: [] });
  });

  it('records a later registration on a paid payment whose money matches without moving it or announcing', () => {
    const paid = paidWith('250000');
    const { next, created, announcements } = applyRegistration(paid, registration, NOW);
    expect(created).toBe(false);
    expect(next).toMatchObject({ status: 'succeeded', version: 2 });
    expect(next?.expected).toEqual(moneyFromMinor('250000', 'NGN'));
    expect(next && expectationMismatch(next)).toBe(false);
    expect(announcements).toEqual([]);
  });

  it('keeps the first expiry when registered again with another (a checkout recomputing it is no conflict)', () => {
    const { next: first } = applyRegistration(
      undefined,
      { ...registration, expiresAt: '2026-11-25T10:00:00.000Z' },
      NOW,
    );
    const again = applyRegistration(first, { ...registration, expiresAt: '2026-11-26T10:00:00.000Z' }, NOW);
    expect(again).toEqual({ created: false, announcements: [] });
  });

  it('refuses to change an expectation, a reference or a gateway id, naming the field, and changes nothing', () => {
    const { next: first } = applyRegistration(
      undefined,
      { ...registration, gatewayPaymentId: 'T1', expiresAt: '2026-11-25T10:00:00.000Z' },
      NOW,
    );
    const attempts = [
      [{ ...registration, expected: moneyFromMinor('100', 'NGN') }, 'amount'],
      [{ ...registration, expected: moneyFromMinor('250000', 'GHS') }, 'currency'],
      [{ ...registration, reference: 'ORDER-2' }, 'reference'],
      [{ ...registration, gatewayPaymentId: 'T2' }, 'gatewayPaymentId'],
    ] as const;
    for (const [again, field] of attempts) {
      expect(() => applyRegistration(first, again, NOW)).toThrow(
        expect.objectContaining({ name: 'RegistrationConflictError', field }),
      );
    }
  });
});
