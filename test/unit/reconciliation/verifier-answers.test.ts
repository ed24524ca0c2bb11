import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flutterwaveVerifier,
  oxapayVerifier,
  paystackVerifier,
  razorpayVerifier,
  stripeVerifier,
} from '../../../lambdas/reconciliation/verifiers/index.js';
import {
  type GatewayVerifier,
  VerifyMalformedError,
  VerifyNotFoundError,
  type VerifyTarget,
  VerifyUnsupportedError,
} from '../../../lambdas/reconciliation/verify.js';

/**
 * Answers the sandbox never gives (it only speaks well-formed gateway JSON): each test serves one raw 200 body and
 * checks the verifier refuses to read a payment out of it, or reads it exactly.
 */
let server: Server;
let base: string;
let nextBody = '{}';

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(nextBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const KEY = 'sk_test_KEY_NOT_IN_ERRORS';
const TARGETS: ReadonlyMap<GatewayVerifier, VerifyTarget> = new Map<GatewayVerifier, VerifyTarget>([
  [paystackVerifier, { gateway: 'paystack', reference: 'r1' }],
  [flutterwaveVerifier, { gateway: 'flutterwave', reference: 'r1' }],
  [razorpayVerifier, { gateway: 'razorpay', gatewayPaymentId: 'pay_1' }],
  [oxapayVerifier, { gateway: 'oxapay', gatewayPaymentId: '1' }],
  [stripeVerifier, { gateway: 'stripe', gatewayPaymentId: 'pi_1' }],
]);

function ask(verifier: GatewayVerifier, body: string) {
  nextBody = body;
  const target = TARGETS.get(verifier) ?? { gateway: verifier.gateway };
  return verifier.verify(
    target,
    { apiKey: KEY, keyId: 'id', keySecret: KEY },
    { baseUrl: base, attempts: 1 },
  );
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an Error rejection');
}

describe('Verifiers: answers that are not a payment', () => {
  it.each<[string, GatewayVerifier, string]>([
    ['a JSON array', stripeVerifier, '[{"status":"succeeded"}]'],
    ['a JSON string', paystackVerifier, '"success"'],
    ['Paystack saying the call failed', paystackVerifier, '{"status":false,"message":"x"}'],
    [
      'Paystack with the call status as a string',
      paystackVerifier,
      '{"status":"true","data":{"status":"success","amount":1,"currency":"NGN"}}',
    ],
    ['Paystack without data', paystackVerifier, '{"status":true}'],
    [
      'Paystack without an amount',
      paystackVerifier,
      '{"status":true,"data":{"status":"success","currency":"NGN"}}',
    ],
    [
      'Paystack with a fractional subunit amount',
      paystackVerifier,
      '{"status":true,"data":{"status":"success","amount":10.5,"currency":"NGN"}}',
    ],
    [
      'Flutterwave saying the call failed',
      flutterwaveVerifier,
      '{"status":"error","data":{"status":"successful","amount":1,"currency":"NGN"}}',
    ],
    [
      'Flutterwave with an unknown status word',
      flutterwaveVerifier,
      '{"status":"success","data":{"status":"succeeded","amount":1,"currency":"NGN"}}',
    ],
    [
      'Razorpay with an order list that is not a list',
      razorpayVerifier,
      '{"entity":"collection","items":{}}',
    ],
    [
      'Razorpay with an unknown payment status',
      razorpayVerifier,
      '{"id":"pay_1","status":"settled","amount":1,"currency":"INR"}',
    ],
    [
      'OXA Pay with an error envelope',
      oxapayVerifier,
      '{"data":{},"message":"x","error":{"type":"validation","key":"track_id","message":"bad"},"status":400}',
    ],
    [
      'OXA Pay with an error message but a 200 status',
      oxapayVerifier,
      '{"data":{"status":"paid","amount":1,"currency":"USDT"},"error":{"message":"bad"},"status":200}',
    ],
    [
      'Stripe with another object',
      stripeVerifier,
      '{"object":"charge","status":"succeeded","amount":1,"currency":"usd"}',
    ],
    [
      'Stripe with a status word that is an Object.prototype key',
      stripeVerifier,
      '{"object":"payment_intent","status":"constructor","amount":1,"currency":"usd"}',
    ],
    [
      'Stripe without a currency',
      stripeVerifier,
      '{"object":"payment_intent","status":"succeeded","amount":1}',
    ],
  ])('refuses %s as malformed', async (_, verifier, body) => {
    const error = await failure(ask(verifier, body));
    expect(error).toBeInstanceOf(VerifyMalformedError);
    expect(error.message).not.toContain(KEY);
  });

  it('reads an OXA Pay 200 whose envelope says 404 as not found', async () => {
    const error = await failure(
      ask(oxapayVerifier, '{"data":{},"error":{"message":"not found"},"status":404}'),
    );
    expect(error).toBeInstanceOf(VerifyNotFoundError);
  });

  it('reads a Paystack amount sent as a string of subunits', async () => {
    const result = await ask(
      paystackVerifier,
      '{"status":true,"data":{"status":"success","amount":"5000","currency":"GHS"}}',
    );
    expect(result.money).toEqual({ amountMinor: 5000n, currency: 'GHS', exponent: 2 });
  });

  it('reads a Razorpay payment id answered by the gateway, and no reference from empty notes', async () => {
    const result = await ask(
      razorpayVerifier,
      '{"id":"pay_1","status":"captured","amount":100,"currency":"INR","notes":[],"order_id":"order_9"}',
    );
    expect(result).toEqual({
      status: 'succeeded',
      money: { amountMinor: 100n, currency: 'INR', exponent: 2 },
      gatewayPaymentId: 'pay_1',
      factId: 'pay_1',
      gatewayStatus: 'captured',
    });
  });

  it('keeps every digit of a crypto amount longer than a double holds', async () => {
    const result = await ask(
      oxapayVerifier,
      '{"data":{"track_id":"1","status":"Paid","amount":9007199254740993.000000000000000001,"currency":"ETH"},"error":{},"status":200}',
    );
    expect(result.money?.amountMinor).toBe(9007199254740993000000000000000001n);
  });

  it('refuses to settle an OXA Pay static address from the verify API: its deposits are counted from their webhooks', async () => {
    const answer = ask(
      oxapayVerifier,
      '{"data":{"track_id":"1","type":"static_address","status":"Paid","amount":"1.5","currency":"BTC"},"error":{},"status":200}',
    );
    await expect(answer).rejects.toBeInstanceOf(VerifyUnsupportedError);
  });

  function askStripe(gatewayPaymentId: string, body: string) {
    nextBody = body;
    return stripeVerifier.verify(
      { gateway: 'stripe', gatewayPaymentId },
      { apiKey: KEY },
      { baseUrl: base, attempts: 1 },
    );
  }

  it.each([
    ['paid', 'complete', 'succeeded'],
    ['unpaid', 'open', 'pending'],
    ['unpaid', 'expired', 'expired'],
  ])(
    'reads a Checkout Session made without a PaymentIntent (%s, %s) as %s, naming the money by its own id',
    async (paid, state, status) => {
      const result = await askStripe(
        'cs_1',
        `{"id":"cs_1","object":"checkout.session","payment_status":"${paid}","status":"${state}","amount_total":1500,"currency":"usd","payment_intent":null,"client_reference_id":"pi_someone_else","metadata":{"reference":"ORDER-9"}}`,
      );
      expect(result).toMatchObject({
        status,
        gatewayPaymentId: 'cs_1',
        factId: 'cs_1',
        reference: 'ORDER-9',
      });
      expect(result.money).toEqual({ amountMinor: 1500n, currency: 'USD', exponent: 2 });
    },
  );

  it('names a session paid through a PaymentIntent by that intent, as the webhooks do', async () => {
    const result = await askStripe(
      'cs_2',
      '{"id":"cs_2","object":"checkout.session","payment_status":"paid","status":"complete","amount_total":700,"currency":"usd","payment_intent":"pi_77"}',
    );
    expect(result).toMatchObject({ status: 'succeeded', gatewayPaymentId: 'cs_2', factId: 'pi_77' });
  });

  it.each([
    ['succeeded', true, 'succeeded'],
    ['succeeded', false, 'authorized'],
    ['failed', false, 'failed'],
    ['pending', false, 'pending'],
  ])(
    'reads a charge made without a PaymentIntent (%s, captured %s) as %s',
    async (word, captured, status) => {
      const result = await askStripe(
        'ch_1',
        `{"id":"ch_1","object":"charge","status":"${word}","captured":${captured},"amount":2000,"amount_captured":${captured ? 1800 : 0},"currency":"usd","payment_intent":null}`,
      );
      expect(result).toMatchObject({ status, gatewayPaymentId: 'ch_1', factId: 'ch_1' });
      expect(result.money?.amountMinor).toBe(captured ? 1800n : 2000n);
    },
  );

  it('refuses an answer that is not the object asked for, and an id of no known kind', async () => {
    await expect(
      askStripe('cs_3', '{"id":"cs_3","object":"charge","status":"succeeded"}'),
    ).rejects.toBeInstanceOf(VerifyMalformedError);
    await expect(askStripe('sub_1', '{}')).rejects.toBeInstanceOf(VerifyUnsupportedError);
  });
});
