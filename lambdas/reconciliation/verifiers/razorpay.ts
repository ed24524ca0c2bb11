import { type Money, moneyFromMinor } from '../../domain/money.js';
import { at, firstTextAt, isObject, type JsonObject, textAt } from '../../gateways/payload.js';
import { getFromGateway } from '../http.js';
import type {
  ApiCredentials,
  GatewayVerifier,
  VerifiedStatus,
  VerifyOptions,
  VerifyResult,
} from '../verify.js';
import { VerifyMalformedError, VerifyUnsupportedError } from '../verify.js';
import {
  apiUrl,
  errorMessageMatches,
  mapStatus,
  readMoney,
  readObject,
  requireId,
  requireText,
  segment,
  unknownStatus,
} from './shared.js';

/**
 * Razorpay: HTTP Basic auth with `keyId:keySecret`. What is asked depends on the id payhook holds:
 * - an order (`order_...`): `GET /v1/orders/{id}/payments`, the list of every attempt at paying it, as Razorpay's
 *   reconciliation guidance suggests; one order may see failed attempts before one that works.
 * - a payment (`pay_...`): `GET /v1/payments/{id}`.
 * Amounts are integers in the currency's smallest unit (paise).
 */
const GATEWAY = 'Razorpay';

/**
 * A payment entity's `status`. Judgement call: `refunded` is succeeded, because a refunded payment was captured
 * first: the money arrived, and refunds reach payhook as their own events, not through verification.
 */
const PAYMENT_STATUS: Readonly<Record<string, VerifiedStatus>> = {
  captured: 'succeeded',
  refunded: 'succeeded',
  authorized: 'authorized',
  failed: 'failed',
  created: 'pending',
};

/** The gatewayStatus reported for an order nobody has tried to pay yet (Razorpay has no word for it). */
export const NO_ATTEMPTS = 'no_attempts';

/**
 * Razorpay answers an unknown id with 400 and `{ error: { code: "BAD_REQUEST_ERROR", description: "The id provided
 * does not exist" } }` (UNCONFIRMED: wording reported by integrators, not in providers.md).
 */
function isUnknownId(status: number, body: string): boolean {
  return status === 400 && errorMessageMatches(body, [['error', 'description']], /does not exist/i);
}

function basicAuth(credentials: ApiCredentials): string {
  const { keyId, keySecret } = credentials;
  if (keyId === undefined || keyId.length === 0 || keySecret === undefined || keySecret.length === 0) {
    throw new VerifyUnsupportedError(
      'add "keyId" and "keySecret" (your Razorpay API key id and secret) to the razorpay secret',
    );
  }
  return `Basic ${Buffer.from(`${keyId}:${keySecret}`, 'utf8').toString('base64')}`;
}

interface ReadPayment {
  readonly status: VerifiedStatus | undefined;
  readonly word: string;
  readonly entity: JsonObject;
}

function readPayment(entity: JsonObject): ReadPayment {
  const word = requireText(entity, ['status'], GATEWAY);
  return { status: mapStatus(PAYMENT_STATUS, word), word, entity };
}

function moneyOf(entity: JsonObject): Money {
  const amount = requireText(entity, ['amount'], GATEWAY);
  return readMoney(GATEWAY, () => moneyFromMinor(amount, entity.currency));
}

/** The merchant's reference where it was put in the payment's notes (as the webhook adapter reads it). */
function referenceOf(entity: JsonObject): string | undefined {
  return firstTextAt(entity, [
    ['notes', 'reference'],
    ['notes', 'order_id'],
  ]);
}

function resultFor(payment: ReadPayment, status: VerifiedStatus, gatewayPaymentId: string): VerifyResult {
  const reference = referenceOf(payment.entity);
  return {
    status,
    money: moneyOf(payment.entity),
    ...(reference !== undefined && { reference }),
    gatewayPaymentId,
    // The payment (pay_...), as payment.captured and order.paid name it.
    ...(textAt(payment.entity, ['id']) !== undefined && { factId: textAt(payment.entity, ['id']) }),
    gatewayStatus: payment.word,
  };
}

/**
 * An order's state from its attempts: any captured (or refunded) one settles it; else any authorised one; else, if
 * every attempt failed, it failed; with no attempts, or some still `created`, it is pending. An attempt with an
 * unknown status can be outweighed by a captured or authorised one, but otherwise makes the answer malformed.
 */
function orderResult(orderId: string, items: readonly ReadPayment[]): VerifyResult {
  const unknown = items.find((item) => item.status === undefined);
  for (const wanted of ['succeeded', 'authorized'] as const) {
    const found = items.find((item) => item.status === wanted);
    if (found) return resultFor(found, wanted, orderId);
  }
  if (unknown) throw unknownStatus(GATEWAY, unknown.word);
  const last = items.at(-1);
  if (last === undefined) return { status: 'pending', gatewayPaymentId: orderId, gatewayStatus: NO_ATTEMPTS };
  const stillOpen = items.find((item) => item.status === 'pending');
  if (stillOpen) return resultFor(stillOpen, 'pending', orderId);
  // Every attempt failed: the order itself stays payable at Razorpay, but nothing is in flight for it.
  return resultFor(last, 'failed', orderId);
}

async function ask(path: string, credentials: ApiCredentials, options: VerifyOptions): Promise<JsonObject> {
  const authorization = basicAuth(credentials);
  const answer = await getFromGateway(
    {
      gateway: GATEWAY,
      url: apiUrl(options.baseUrl, path),
      headers: { authorization },
      isNotFound: isUnknownId,
    },
    options,
  );
  return readObject(answer.text, GATEWAY);
}

export const razorpayVerifier: GatewayVerifier = {
  gateway: 'razorpay',
  defaultBaseUrl: 'https://api.razorpay.com',
  requiredCredentials: ['keyId', 'keySecret'],
  async verify(target, credentials, options): Promise<VerifyResult> {
    const id = requireId(target.gatewayPaymentId, GATEWAY, 'the order or payment id');
    if (id.startsWith('order_')) {
      const body = await ask(`/v1/orders/${segment(id)}/payments`, credentials, options);
      const items = at(body, ['items']);
      if (!Array.isArray(items)) throw new VerifyMalformedError(`${GATEWAY} answer has no "items" list`);
      const payments = items.map((item: unknown) => {
        if (!isObject(item))
          throw new VerifyMalformedError(`${GATEWAY} answer lists a payment that is not an object`);
        return readPayment(item);
      });
      return orderResult(id, payments);
    }
    if (id.startsWith('pay_')) {
      const payment = readPayment(await ask(`/v1/payments/${segment(id)}`, credentials, options));
      if (payment.status === undefined) throw unknownStatus(GATEWAY, payment.word);
      return resultFor(payment, payment.status, textAt(payment.entity, ['id']) ?? id);
    }
    throw new VerifyUnsupportedError(`${GATEWAY} ids must start with "order_" or "pay_"`);
  },
};
