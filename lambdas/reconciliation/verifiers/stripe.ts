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
 * Stripe: `GET /v1/payment_intents/{id}` with `Authorization: Bearer <secret key>`. The PaymentIntent's `amount` and
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

export const stripeVerifier: GatewayVerifier = {
  gateway: 'stripe',
  defaultBaseUrl: 'https://api.stripe.com',
  async verify(target, credentials, options): Promise<VerifyResult> {
    const id = requireId(target.gatewayPaymentId, GATEWAY, 'the PaymentIntent id');
    if (!id.startsWith('pi_')) {
      throw new VerifyUnsupportedError(
        `${GATEWAY} payments are verified by PaymentIntent ids ("pi_...") only`,
      );
    }
    const apiKey = requireApiKey(credentials, 'stripe', 'your Stripe secret key');
    const answer = await getFromGateway(
      {
        gateway: GATEWAY,
        url: apiUrl(options.baseUrl, `/v1/payment_intents/${segment(id)}`),
        headers: { authorization: `Bearer ${apiKey}` },
      },
      options,
    );
    const intent = readObject(answer.text, GATEWAY);
    if (intent.object !== undefined && intent.object !== 'payment_intent') {
      throw new VerifyMalformedError(`${GATEWAY} answered an object that is not a payment_intent`);
    }
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
