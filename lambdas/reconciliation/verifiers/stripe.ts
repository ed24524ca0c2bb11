import { moneyFromMinor } from '../../domain/money.js';
import { firstTextAt, textAt } from '../../gateways/payload.js';
import { STRIPE_CURRENCY_EXPONENTS } from '../../gateways/stripe.js';
import { getFromGateway } from '../http.js';
import type { GatewayVerifier, VerifiedStatus, VerifyResult } from '../verify.js';
import { VerifyMalformedError, VerifyUnsupportedError } from '../verify.js';
import {
  apiUrl,
  mapStatus,
  readMoney,
  readObject,
  requireApiKey,
  requireId,
  requireText,
  segment,
  unknownStatus,
} from './shared.js';

/**
 * Stripe: `GET /v1/payment_intents/{id}` with `Authorization: Bearer <secret key>` (a Checkout Session or a charge
 * made without a PaymentIntent: `GET /v1/checkout/sessions/{id}`, `GET /v1/charges/{id}`). The PaymentIntent's `amount` and
 * `amount_received` are integers in the currency's smallest unit; `currency` is lower-case ISO.
 */
const GATEWAY = 'Stripe';

/**
 * PaymentIntent `status`. `requires_payment_method` is pending even after a failed attempt: the intent stays payable
 * with another method, so a decline is not the end of the payment. `canceled` is expired: it can no longer complete.
 */
const STATUS: Readonly<Record<string, VerifiedStatus>> = {
  succeeded: 'succeeded',
  requires_capture: 'authorized',
  canceled: 'expired',
  processing: 'pending',
  requires_payment_method: 'pending',
  requires_confirmation: 'pending',
  requires_action: 'pending',
};

/** Metadata keys the webhook adapter reads the merchant's reference from by default. */
const REFERENCE_PATHS = [
  ['metadata', 'reference'],
  ['metadata', 'order_id'],
] as const;

/** Checkout Session: `payment_status` says whether it was paid; `status` whether it can still be. */
function sessionStatus(session: Readonly<Record<string, unknown>>): { status: VerifiedStatus; word: string } {
  const paid = requireText(session, ['payment_status'], GATEWAY);
  if (paid === 'paid' || paid === 'no_payment_required') return { status: 'succeeded', word: paid };
  const state = requireText(session, ['status'], GATEWAY);
  if (state === 'expired') return { status: 'expired', word: state };
  if (state === 'open' || state === 'complete') return { status: 'pending', word: `${state}/${paid}` };
  throw unknownStatus(GATEWAY, state);
}

/** Charge made without a PaymentIntent: captured money, an authorisation, a failure, or still pending. */
function chargeStatus(charge: Readonly<Record<string, unknown>>): { status: VerifiedStatus; word: string } {
  const word = requireText(charge, ['status'], GATEWAY);
  if (word === 'succeeded') return { status: charge.captured === false ? 'authorized' : 'succeeded', word };
  if (word === 'failed') return { status: 'failed', word };
  if (word === 'pending') return { status: 'pending', word };
  throw unknownStatus(GATEWAY, word);
}

/**
 * What each kind of Stripe id is asked at, the object it answers, how its status and money are read. A payment keyed
 * by a Checkout Session or a charge made without a PaymentIntent (`cs_`, `ch_`) is asked about as such; the money is
 * then named as the webhooks name it: by its PaymentIntent if it has one, else by its own id.
 */
const LOOKUPS = {
  pi_: { path: 'payment_intents', object: 'payment_intent' },
  cs_: { path: 'checkout/sessions', object: 'checkout.session' },
  ch_: { path: 'charges', object: 'charge' },
} as const;

function lookupOf(id: string) {
  const prefix = (Object.keys(LOOKUPS) as (keyof typeof LOOKUPS)[]).find((known) => id.startsWith(known));
  if (prefix === undefined) {
    throw new VerifyUnsupportedError(
      `${GATEWAY} payments are verified by PaymentIntent, Checkout Session or charge ids ("pi_", "cs_", "ch_") only`,
    );
  }
  return { prefix, ...LOOKUPS[prefix] };
}

export const stripeVerifier: GatewayVerifier = {
  gateway: 'stripe',
  defaultBaseUrl: 'https://api.stripe.com',
  requiredCredentials: ['apiKey'],
  async verify(target, credentials, options): Promise<VerifyResult> {
    const id = requireId(target.gatewayPaymentId, GATEWAY, 'the PaymentIntent id');
    const lookup = lookupOf(id);
    const apiKey = requireApiKey(credentials, 'stripe', 'your Stripe secret key');
    const answer = await getFromGateway(
      {
        gateway: GATEWAY,
        url: apiUrl(options.baseUrl, `/v1/${lookup.path}/${segment(id)}`),
        headers: { authorization: `Bearer ${apiKey}` },
      },
      options,
    );
    const found = readObject(answer.text, GATEWAY);
    if (found.object !== undefined && found.object !== lookup.object) {
      throw new VerifyMalformedError(`${GATEWAY} answered an object that is not a ${lookup.object}`);
    }
    if (lookup.prefix !== 'pi_') {
      const { status, word } = lookup.prefix === 'cs_' ? sessionStatus(found) : chargeStatus(found);
      const amount = requireText(
        found,
        lookup.prefix === 'cs_'
          ? ['amount_total']
          : found.captured === true
            ? ['amount_captured']
            : ['amount'],
        GATEWAY,
      );
      const currency = requireText(found, ['currency'], GATEWAY).toUpperCase();
      const money = readMoney(GATEWAY, () => moneyFromMinor(amount, currency, STRIPE_CURRENCY_EXPONENTS));
      const reference = firstTextAt(found, REFERENCE_PATHS);
      const ownId = textAt(found, ['id']) ?? id;
      return {
        status,
        money,
        ...(reference !== undefined && { reference }),
        gatewayPaymentId: ownId,
        factId: firstTextAt(found, [['payment_intent'], ['payment_intent', 'id']]) ?? ownId,
        gatewayStatus: word,
      };
    }
    const intent = found;
    const word = requireText(intent, ['status'], GATEWAY);
    const status = mapStatus(STATUS, word);
    if (status === undefined) throw unknownStatus(GATEWAY, word);
    // What actually arrived once anything has; before that, what is being asked for.
    const received = textAt(intent, ['amount_received']);
    const amount =
      received !== undefined && /^0*[1-9]\d*$/.test(received)
        ? received
        : requireText(intent, ['amount'], GATEWAY);
    const currency = requireText(intent, ['currency'], GATEWAY).toUpperCase();
    const money = readMoney(GATEWAY, () => moneyFromMinor(amount, currency, STRIPE_CURRENCY_EXPONENTS));
    const reference = firstTextAt(intent, REFERENCE_PATHS);
    return {
      status,
      money,
      ...(reference !== undefined && { reference }),
      gatewayPaymentId: textAt(intent, ['id']) ?? id,
      factId: textAt(intent, ['id']) ?? id,
      gatewayStatus: word,
    };
  },
};
