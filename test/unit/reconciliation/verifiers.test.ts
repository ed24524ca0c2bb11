import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  flutterwaveVerifier,
  oxapayVerifier,
  paystackVerifier,
  razorpayVerifier,
  stripeVerifier,
  VERIFIERS,
} from '../../../lambdas/reconciliation/verifiers/index.js';
import { NO_ATTEMPTS } from '../../../lambdas/reconciliation/verifiers/razorpay.js';
import {
  type ApiCredentials,
  type GatewayVerifier,
  type VerifiedStatus,
  VerifyMalformedError,
  VerifyNotFoundError,
  type VerifyOptions,
  type VerifyTarget,
  VerifyUnavailableError,
  VerifyUnsupportedError,
} from '../../../lambdas/reconciliation/verify.js';
import {
  type GatewaySandbox,
  type SandboxGateway,
  type SandboxPayment,
  startGatewaySandbox,
} from '../../../local/gateway-sandbox.js';

const API_KEY = 'sk_test_SANDBOX_SECRET_1234567890';
const KEY_ID = 'rzp_test_KEYID123';
const KEY_SECRET = 'RAZORPAY_KEY_SECRET_abcdef';
const CREDENTIALS: Readonly<Record<SandboxGateway, ApiCredentials>> = {
  paystack: { apiKey: API_KEY },
  flutterwave: { apiKey: API_KEY },
  razorpay: { keyId: KEY_ID, keySecret: KEY_SECRET },
  oxapay: { apiKey: API_KEY },
  stripe: { apiKey: API_KEY },
};
const SECRETS = [API_KEY, KEY_ID, KEY_SECRET, Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString('base64')];

const TIMEOUT_MS = 200;
const ATTEMPTS = 3;

let sandbox: GatewaySandbox;

beforeAll(async () => {
  sandbox = await startGatewaySandbox();
});
afterAll(async () => {
  await sandbox.stop();
});
beforeEach(() => {
  sandbox.reset();
});

function optionsFor(gateway: SandboxGateway, overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    baseUrl: sandbox.url(gateway),
    timeoutMs: TIMEOUT_MS,
    attempts: ATTEMPTS,
    backoffMs: 5,
    ...overrides,
  };
}

/** One ordinary succeeded payment per gateway, and the target that finds it. */
const FIXTURES: Readonly<
  Record<
    SandboxGateway,
    { verifier: GatewayVerifier; payment: SandboxPayment; target: VerifyTarget; paidWord: string }
  >
> = {
  paystack: {
    verifier: paystackVerifier,
    payment: { status: 'success', amount: '10000', currency: 'NGN', reference: 'ps-ref-1', id: '302961' },
    target: { gateway: 'paystack', reference: 'ps-ref-1' },
    paidWord: 'success',
  },
  flutterwave: {
    verifier: flutterwaveVerifier,
    payment: {
      status: 'successful',
      amount: '100',
      currency: 'NGN',
      reference: 'flw-ref-1',
      id: '288200108',
    },
    target: { gateway: 'flutterwave', reference: 'flw-ref-1' },
    paidWord: 'successful',
  },
  razorpay: {
    verifier: razorpayVerifier,
    payment: { status: 'captured', amount: '50000', currency: 'INR', id: 'pay_DESlfW9H8K9uqM' },
    target: { gateway: 'razorpay', gatewayPaymentId: 'pay_DESlfW9H8K9uqM' },
    paidWord: 'captured',
  },
  oxapay: {
    verifier: oxapayVerifier,
    payment: { status: 'Paid', amount: '10.5', currency: 'USDT', id: '184747701', reference: 'ORDER-1' },
    target: { gateway: 'oxapay', gatewayPaymentId: '184747701' },
    paidWord: 'Paid',
  },
  stripe: {
    verifier: stripeVerifier,
    payment: { status: 'succeeded', amount: '2000', currency: 'usd', id: 'pi_3NG8Du2eZvKYlo2C' },
    target: { gateway: 'stripe', gatewayPaymentId: 'pi_3NG8Du2eZvKYlo2C' },
    paidWord: 'succeeded',
  },
};
const GATEWAYS = Object.keys(FIXTURES) as SandboxGateway[];

function verify(gateway: SandboxGateway, target: VerifyTarget, overrides: Partial<VerifyOptions> = {}) {
  return FIXTURES[gateway].verifier.verify(target, CREDENTIALS[gateway], optionsFor(gateway, overrides));
}

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

function expectNoSecrets(error: Error): void {
  for (const secret of SECRETS) expect(error.message).not.toContain(secret);
}

describe('VERIFIERS', () => {
  it('has one verifier per gateway with a verify API, each under its own name', () => {
    expect(Object.keys(VERIFIERS).sort()).toEqual([
      'flutterwave',
      'oxapay',
      'paystack',
      'razorpay',
      'stripe',
    ]);
    for (const [name, verifier] of Object.entries(VERIFIERS)) expect(verifier?.gateway).toBe(name);
  });

  it.each([
    [paystackVerifier, 'https://api.paystack.co'],
    [flutterwaveVerifier, 'https://api.flutterwave.com'],
    [razorpayVerifier, 'https://api.razorpay.com'],
    [oxapayVerifier, 'https://api.oxapay.com'],
    [stripeVerifier, 'https://api.stripe.com'],
  ])('%o defaults to the production API', (verifier, url) => {
    expect(verifier.defaultBaseUrl).toBe(url);
  });
});

describe('Verifier: paystack', () => {
  it.each<[string, VerifiedStatus]>([
    ['success', 'succeeded'],
    ['failed', 'failed'],
    ['reversed', 'failed'],
    ['abandoned', 'pending'],
    ['ongoing', 'pending'],
    ['pending', 'pending'],
    ['processing', 'pending'],
    ['queued', 'pending'],
    ['something_new', 'pending'],
  ])('maps data.status %s to %s', async (word, status) => {
    sandbox.setPayment('paystack', {
      status: word,
      amount: '10000',
      currency: 'NGN',
      reference: 'ref-1',
      id: '77',
    });
    await expect(verify('paystack', { gateway: 'paystack', reference: 'ref-1' })).resolves.toEqual({
      status,
      money: { amountMinor: 10000n, currency: 'NGN', exponent: 2 },
      reference: 'ref-1',
      gatewayPaymentId: '77',
      // The transaction id, as charge.success names the money: webhook and answer are one fact.
      factId: '77',
      gatewayStatus: word,
    });
  });

  it('asks /transaction/verify/{reference} with the secret key as a bearer token, reference escaped', async () => {
    sandbox.setPayment('paystack', { status: 'success', amount: '1', currency: 'GHS', reference: 'a/b c' });
    await verify('paystack', { gateway: 'paystack', reference: 'a/b c' });
    expect(sandbox.requests('paystack')).toEqual([
      { method: 'GET', path: '/transaction/verify/a%2Fb%20c', authorization: `Bearer ${API_KEY}` },
    ]);
  });

  it('reads an unknown reference (400 "Transaction reference not found") as not found', async () => {
    const error = await failure(verify('paystack', { gateway: 'paystack', reference: 'nope' }));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });
});

describe('Verifier: flutterwave', () => {
  it.each<[string, VerifiedStatus]>([
    ['successful', 'succeeded'],
    ['failed', 'failed'],
    ['pending', 'pending'],
  ])('maps data.status %s to %s', async (word, status) => {
    sandbox.setPayment('flutterwave', {
      status: word,
      amount: '100',
      currency: 'NGN',
      reference: 'tx-1',
      id: '9',
    });
    const result = await verify('flutterwave', { gateway: 'flutterwave', reference: 'tx-1' });
    expect(result.status).toBe(status);
    expect(result.gatewayStatus).toBe(word);
  });

  it.each([
    ['7500.50', 'NGN', 750050n, 2],
    ['7500.5', 'NGN', 750050n, 2],
    ['100', 'NGN', 10000n, 2],
    ['1500', 'UGX', 1500n, 0],
    ['0.1', 'USD', 10n, 2],
  ])(
    'reads amount %s %s (major units) exactly as %s minor units',
    async (amount, currency, minor, exponent) => {
      sandbox.setPayment('flutterwave', { status: 'successful', amount, currency, reference: 'tx-m' });
      const result = await verify('flutterwave', { gateway: 'flutterwave', reference: 'tx-m' });
      expect(result.money).toEqual({ amountMinor: minor, currency, exponent });
    },
  );

  it("hands back tx_ref as the reference and Flutterwave's id as the gateway id, for the reconciler to check", async () => {
    sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '1',
      currency: 'NGN',
      reference: 'tx&=ref',
      id: '288200108',
    });
    const result = await verify('flutterwave', { gateway: 'flutterwave', reference: 'tx&=ref' });
    expect(result).toMatchObject({
      reference: 'tx&=ref',
      gatewayPaymentId: '288200108',
      factId: '288200108',
    });
    expect(sandbox.requests('flutterwave')).toEqual([
      {
        method: 'GET',
        path: '/v3/transactions/verify_by_reference?tx_ref=tx%26%3Dref',
        authorization: `Bearer ${API_KEY}`,
      },
    ]);
  });

  it('refuses an amount with more decimals than the currency has, never rounding it', async () => {
    sandbox.setPayment('flutterwave', {
      status: 'successful',
      amount: '10.555',
      currency: 'NGN',
      reference: 'r',
    });
    const error = await failure(verify('flutterwave', { gateway: 'flutterwave', reference: 'r' }));
    expect(error).toBeInstanceOf(VerifyMalformedError);
  });

  it('reads an unknown reference (400 "No transaction was found") as not found', async () => {
    const error = await failure(verify('flutterwave', { gateway: 'flutterwave', reference: 'nope' }));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });
});

describe('Verifier: razorpay', () => {
  const basic = `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString('base64')}`;

  it.each<[string, VerifiedStatus]>([
    ['captured', 'succeeded'],
    ['refunded', 'succeeded'],
    ['authorized', 'authorized'],
    ['failed', 'failed'],
    ['created', 'pending'],
  ])('maps payment status %s to %s', async (word, status) => {
    sandbox.setPayment('razorpay', {
      status: word,
      amount: '50000',
      currency: 'INR',
      id: 'pay_1',
      reference: 'R1',
    });
    await expect(verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: 'pay_1' })).resolves.toEqual({
      status,
      money: { amountMinor: 50000n, currency: 'INR', exponent: 2 },
      reference: 'R1',
      gatewayPaymentId: 'pay_1',
      factId: 'pay_1',
      gatewayStatus: word,
    });
  });

  it('asks /v1/payments/{id} with HTTP Basic keyId:keySecret', async () => {
    sandbox.setPayment('razorpay', FIXTURES.razorpay.payment);
    await verify('razorpay', FIXTURES.razorpay.target);
    expect(sandbox.requests('razorpay')).toEqual([
      { method: 'GET', path: '/v1/payments/pay_DESlfW9H8K9uqM', authorization: basic },
    ]);
  });

  const attempt = (id: string, status: string, amount = '100'): SandboxPayment => ({
    id,
    status,
    amount,
    currency: 'INR',
  });

  it.each<[string, SandboxPayment[], VerifiedStatus, string, bigint | undefined, string | undefined]>([
    [
      'a captured attempt after failed ones',
      [attempt('pay_a', 'failed', '1'), attempt('pay_b', 'captured', '2'), attempt('pay_c', 'failed', '3')],
      'succeeded',
      'captured',
      2n,
      'pay_b',
    ],
    [
      'an authorised attempt before a captured one',
      [attempt('pay_a', 'authorized', '6'), attempt('pay_b', 'captured', '8')],
      'succeeded',
      'captured',
      8n,
      'pay_b',
    ],
    [
      'a refunded attempt (money arrived first)',
      [attempt('pay_a', 'refunded', '5')],
      'succeeded',
      'refunded',
      5n,
      'pay_a',
    ],
    [
      'an authorised attempt and failed ones',
      [attempt('pay_a', 'failed', '1'), attempt('pay_b', 'authorized', '7')],
      'authorized',
      'authorized',
      7n,
      'pay_b',
    ],
    [
      'only failed attempts',
      [attempt('pay_a', 'failed', '1'), attempt('pay_b', 'failed', '9')],
      'failed',
      'failed',
      9n,
      'pay_b',
    ],
    [
      'failed attempts and one still created',
      [attempt('pay_a', 'failed', '1'), attempt('pay_b', 'created', '4')],
      'pending',
      'created',
      4n,
      'pay_b',
    ],
    ['no attempts at all', [], 'pending', NO_ATTEMPTS, undefined, undefined],
  ])('reads an order with %s', async (_, payments, status, gatewayStatus, minor, factId) => {
    sandbox.setPayment('razorpay', {
      id: 'order_X',
      status: 'attempted',
      amount: '0',
      currency: 'INR',
      payments,
    });
    const result = await verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: 'order_X' });
    expect(result.status).toBe(status);
    expect(result.gatewayStatus).toBe(gatewayStatus);
    expect(result.gatewayPaymentId).toBe('order_X');
    expect(result.money?.amountMinor).toBe(minor);
    // The attempt whose money is reported (pay_...), as payment.captured names it: webhook and answer are one fact.
    expect(result.factId).toBe(factId);
    expect(sandbox.requests('razorpay').map((r) => r.path)).toEqual(['/v1/orders/order_X/payments']);
  });

  it('lets a captured attempt outweigh one with an unknown status, but not a lone unknown', async () => {
    sandbox.setPayment('razorpay', {
      id: 'order_A',
      status: 'paid',
      amount: '0',
      currency: 'INR',
      payments: [attempt('pay_x', 'mystery'), attempt('pay_y', 'captured')],
    });
    sandbox.setPayment('razorpay', {
      id: 'order_B',
      status: 'attempted',
      amount: '0',
      currency: 'INR',
      payments: [attempt('pay_z', 'mystery')],
    });
    await expect(
      verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: 'order_A' }),
    ).resolves.toMatchObject({
      status: 'succeeded',
    });
    const error = await failure(verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: 'order_B' }));
    expect(error).toBeInstanceOf(VerifyMalformedError);
    expect(error.message).toContain('mystery');
  });

  it.each(['plink_1', 'inv_1', 'ORDER_1'])(
    'refuses id %s, which is neither an order nor a payment',
    async (id) => {
      const error = await failure(verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: id }));
      expect(error).toBeInstanceOf(VerifyUnsupportedError);
      expect(sandbox.requests('razorpay')).toEqual([]);
    },
  );

  it.each<[string, ApiCredentials]>([
    ['no credentials', {}],
    ['no key secret', { keyId: KEY_ID }],
    ['no key id', { keySecret: KEY_SECRET }],
    ['only an apiKey', { apiKey: API_KEY }],
  ])('refuses %s, naming both keys to add', async (_, credentials) => {
    const error = await failure(
      razorpayVerifier.verify(FIXTURES.razorpay.target, credentials, optionsFor('razorpay')),
    );
    expect(error).toBeInstanceOf(VerifyUnsupportedError);
    expect(error.message).toContain('"keyId" and "keySecret"');
    expectNoSecrets(error);
    expect(sandbox.requests('razorpay')).toEqual([]);
  });

  it('reads an unknown id (400 "The id provided does not exist") as not found', async () => {
    const error = await failure(verify('razorpay', { gateway: 'razorpay', gatewayPaymentId: 'order_nope' }));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });
});

describe('Verifier: oxapay', () => {
  it.each<[string, VerifiedStatus]>([
    ['paid', 'succeeded'],
    ['Paid', 'succeeded'],
    ['manual_accept', 'succeeded'],
    ['Manual_Accept', 'succeeded'],
    ['refunding', 'succeeded'],
    ['refunded', 'succeeded'],
    ['expired', 'expired'],
    ['Expired', 'expired'],
    ['failed', 'failed'],
    ['new', 'pending'],
    ['waiting', 'pending'],
    ['Paying', 'pending'],
    ['confirming', 'pending'],
    ['underpaid', 'pending'],
  ])('maps data.status %s to %s', async (word, status) => {
    sandbox.setPayment('oxapay', {
      status: word,
      amount: '10.5',
      currency: 'USDT',
      id: '42',
      reference: 'ORD',
    });
    await expect(verify('oxapay', { gateway: 'oxapay', gatewayPaymentId: '42' })).resolves.toEqual({
      status,
      money: { amountMinor: 10_500_000n, currency: 'USDT', exponent: 6 },
      reference: 'ORD',
      gatewayPaymentId: '42',
      factId: '42',
      gatewayStatus: word,
    });
  });

  it.each([
    ['10.5', 'USDT', 10_500_000n, 6],
    ['0.000000000000000001', 'ETH', 1n, 18],
    ['123456789.123456789123456789', 'DAI', 123456789123456789123456789n, 18],
    ['25.00', 'USD', 2500n, 2],
  ])(
    'reads amount %s %s (major units) exactly as %s minor units',
    async (amount, currency, minor, exponent) => {
      sandbox.setPayment('oxapay', { status: 'paid', amount, currency, id: '7' });
      const result = await verify('oxapay', { gateway: 'oxapay', gatewayPaymentId: '7' });
      expect(result.money).toEqual({ amountMinor: minor, currency, exponent });
    },
  );

  it('asks /v1/payment/{track_id} with the merchant_api_key header and no Authorization', async () => {
    sandbox.setPayment('oxapay', FIXTURES.oxapay.payment);
    await verify('oxapay', FIXTURES.oxapay.target);
    expect(sandbox.requests('oxapay')).toEqual([
      { method: 'GET', path: '/v1/payment/184747701', merchantApiKey: API_KEY },
    ]);
  });

  it('reports a status word it has no mapping for as malformed', async () => {
    sandbox.setPayment('oxapay', { status: 'teleported', amount: '1', currency: 'USDT', id: '8' });
    const error = await failure(verify('oxapay', { gateway: 'oxapay', gatewayPaymentId: '8' }));
    expect(error).toBeInstanceOf(VerifyMalformedError);
    expect(error.message).toContain('teleported');
  });
});

describe('Verifier: stripe', () => {
  it.each<[string, VerifiedStatus]>([
    ['succeeded', 'succeeded'],
    ['requires_capture', 'authorized'],
    ['canceled', 'expired'],
    ['processing', 'pending'],
    ['requires_payment_method', 'pending'],
    ['requires_confirmation', 'pending'],
    ['requires_action', 'pending'],
  ])('maps status %s to %s', async (word, status) => {
    sandbox.setPayment('stripe', {
      status: word,
      amount: '2000',
      currency: 'usd',
      id: 'pi_1',
      reference: 'O-1',
    });
    await expect(verify('stripe', { gateway: 'stripe', gatewayPaymentId: 'pi_1' })).resolves.toEqual({
      status,
      money: { amountMinor: 2000n, currency: 'USD', exponent: 2 },
      reference: 'O-1',
      gatewayPaymentId: 'pi_1',
      factId: 'pi_1',
      gatewayStatus: word,
    });
  });

  it.each<[string, string, string, string | undefined, bigint, number]>([
    ['the amount received once something arrived', 'eur', '2000', '1500', 1500n, 2],
    ['the amount asked for while nothing has arrived', 'eur', '2000', '0', 2000n, 2],
    ['JPY as whole yen', 'jpy', '500', undefined, 500n, 0],
    ['ISK in hundredths, as Stripe counts it', 'isk', '10000', undefined, 10000n, 2],
    ['UGX in hundredths, as Stripe counts it', 'ugx', '10000', undefined, 10000n, 2],
    ['MGA as zero-decimal, as Stripe counts it', 'mga', '3000', undefined, 3000n, 0],
  ])('takes %s', async (_, currency, amount, amountReceived, minor, exponent) => {
    sandbox.setPayment('stripe', {
      status: 'processing',
      amount,
      currency,
      id: 'pi_m',
      ...(amountReceived !== undefined && { amountReceived }),
    });
    const result = await verify('stripe', { gateway: 'stripe', gatewayPaymentId: 'pi_m' });
    expect(result.money).toEqual({ amountMinor: minor, currency: currency.toUpperCase(), exponent });
  });

  it('asks /v1/payment_intents/{id} with the secret key as a bearer token', async () => {
    sandbox.setPayment('stripe', FIXTURES.stripe.payment);
    await verify('stripe', FIXTURES.stripe.target);
    expect(sandbox.requests('stripe')).toEqual([
      { method: 'GET', path: '/v1/payment_intents/pi_3NG8Du2eZvKYlo2C', authorization: `Bearer ${API_KEY}` },
    ]);
  });

  it.each(['evt_1', 'sub_1', 'in_1'])(
    'refuses id %s, which is no PaymentIntent, session or charge',
    async (id) => {
      const error = await failure(verify('stripe', { gateway: 'stripe', gatewayPaymentId: id }));
      expect(error).toBeInstanceOf(VerifyUnsupportedError);
      expect(sandbox.requests('stripe')).toEqual([]);
    },
  );

  it('reports a status word it has no mapping for as malformed', async () => {
    sandbox.setPayment('stripe', { status: 'requires_source', amount: '1', currency: 'usd', id: 'pi_old' });
    const error = await failure(verify('stripe', { gateway: 'stripe', gatewayPaymentId: 'pi_old' }));
    expect(error).toBeInstanceOf(VerifyMalformedError);
  });

  it('reads an unknown PaymentIntent (404 resource_missing) as not found', async () => {
    const error = await failure(verify('stripe', { gateway: 'stripe', gatewayPaymentId: 'pi_nope' }));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });
});

describe.each(GATEWAYS)('Verifier: %s, when things go wrong', (gateway) => {
  const { payment, target, paidWord } = FIXTURES[gateway];
  const errors: Error[] = [];
  const failed = async (promise: Promise<unknown>) => {
    const error = await failure(promise);
    errors.push(error);
    return error;
  };

  afterAll(() => {
    // Every error any scenario below produced: none may carry a credential.
    expect(errors.length).toBeGreaterThan(5);
    for (const error of errors) expectNoSecrets(error);
  });

  it('succeeds after two 429s, on the third request', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'rate-limit', 2);
    // A minute of back-off would time the test out: Retry-After (0) wins over backoffMs.
    const result = await verify(gateway, target, { backoffMs: 60_000 });
    expect(result).toMatchObject({ status: 'succeeded', gatewayStatus: paidWord });
    expect(sandbox.requests(gateway)).toHaveLength(3);
  });

  it('gives up as unavailable after exactly `attempts` 500s', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'server-error', 5);
    const error = await failed(verify(gateway, target, { attempts: 4 }));
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toContain('after 4 attempts');
    expect(error.message).toContain('HTTP 500');
    expect(sandbox.requests(gateway)).toHaveLength(4);
  });

  it('gives up as unavailable when every request hangs, after exactly the allowed attempts', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'hang', ATTEMPTS);
    const error = await failed(verify(gateway, target));
    // Each attempt timed out (the message says so) and exactly `attempts` were made; the test timeout bounds the rest.
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toContain(`no answer within ${TIMEOUT_MS} ms`);
    expect(sandbox.requests(gateway)).toHaveLength(ATTEMPTS);
  });

  it('recovers when only the first request hangs', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'hang');
    await expect(verify(gateway, target)).resolves.toMatchObject({ status: 'succeeded' });
    expect(sandbox.requests(gateway)).toHaveLength(2);
  });

  it('reports malformed JSON as malformed, without retrying', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'malformed');
    const error = await failed(verify(gateway, target));
    expect(error).toBeInstanceOf(VerifyMalformedError);
    expect(sandbox.requests(gateway)).toHaveLength(1);
  });

  it('reports a 404 as not found, without retrying', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'not-found');
    const error = await failed(verify(gateway, target));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
    expect(sandbox.requests(gateway)).toHaveLength(1);
  });

  it('reports a payment the gateway does not know, in its own error shape, as not found', async () => {
    const error = await failed(verify(gateway, target));
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });

  it('reports refused credentials (401) as unavailable naming the status, without retrying', async () => {
    sandbox.setPayment(gateway, payment);
    sandbox.behave(gateway, 'unauthorized');
    const error = await failed(verify(gateway, target));
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toContain('HTTP 401');
    expect(sandbox.requests(gateway)).toHaveLength(1);
  });

  it('is refused by the sandbox without a credential (the auth check is real)', async () => {
    sandbox.setPayment(gateway, payment);
    await verify(gateway, target);
    const [asked] = sandbox.requests(gateway);
    const response = await fetch(`${sandbox.url(gateway)}${asked?.path}`);
    expect(response.status).toBe(401);
  });

  it('refuses a payment without the id it is looked up by, asking nothing', async () => {
    const error = await failed(verify(gateway, { gateway }));
    expect(error).toBeInstanceOf(VerifyUnsupportedError);
    expect(sandbox.requests(gateway)).toEqual([]);
  });

  it('refuses to ask without credentials, naming the key to add', async () => {
    const error = await failed(FIXTURES[gateway].verifier.verify(target, {}, optionsFor(gateway)));
    expect(error).toBeInstanceOf(VerifyUnsupportedError);
    expect(error.message).toContain(`the ${gateway} secret`);
    expect(sandbox.requests(gateway)).toEqual([]);
  });

  it('reports an unreadable currency as malformed', async () => {
    sandbox.setPayment(gateway, { ...payment, currency: 'not a currency!' });
    const error = await failed(verify(gateway, target));
    expect(error).toBeInstanceOf(VerifyMalformedError);
  });
});

describe.each(['paystack', 'flutterwave', 'oxapay', 'stripe'] as const)(
  'Verifier: %s credentials',
  (gateway) => {
    it('names "apiKey" and the gateway secret when it is missing or empty', async () => {
      for (const credentials of [{}, { apiKey: '' }, { keyId: KEY_ID, keySecret: KEY_SECRET }]) {
        const error = await failure(
          FIXTURES[gateway].verifier.verify(FIXTURES[gateway].target, credentials, optionsFor(gateway)),
        );
        expect(error).toBeInstanceOf(VerifyUnsupportedError);
        expect(error.message).toMatch(new RegExp(`^add "apiKey" \\(your .+\\) to the ${gateway} secret$`));
      }
    });
  },
);
