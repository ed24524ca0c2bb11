import { devSecret, SIGNERS, type SignedWebhook } from '../events/index.js';

/**
 * The soak's side of the gateways: for one payment and one lifecycle step, the exact webhook body a gateway would
 * send, the event id payhook derives from it (the dedupe key, which the model needs for the domain-event ids) and the
 * queue it lands on. Bodies are built from the shapes of the samples in `events/<gateway>/`, with only the fields
 * payhook reads.
 */
export const SOAK_GATEWAYS = ['paystack', 'stripe', 'flutterwave', 'razorpay'] as const;
export type SoakGateway = (typeof SOAK_GATEWAYS)[number];

/** `pending` is Razorpay's `payment.authorized` (its only pre-capture event); `refund` exists where samples do. */
export type Step = 'pending' | 'succeeded' | 'refund';

export const REFUNDABLE: ReadonlySet<SoakGateway> = new Set(['paystack', 'stripe', 'razorpay']);

export interface SoakPayment {
  readonly gateway: SoakGateway;
  readonly index: number;
  /** The merchant's reference. */
  readonly reference: string;
  /** The gateway's id of the payment (Stripe PaymentIntent, Razorpay order, Paystack/Flutterwave transaction). */
  readonly gatewayId: string;
  /** What `/local/payments/<gateway>/<key>` finds it by. */
  readonly key: string;
  readonly amountMinor: number;
  readonly currency: string;
}

export interface GatewayEvent {
  readonly step: Step;
  /** payhook's event id (`WebhookEvent.eventId`), from which the domain-event id is derived. */
  readonly sourceEventId: string;
  readonly priority: 'high' | 'normal';
  readonly payload: string;
  /** For header-borne event ids (Razorpay). */
  readonly headerEventId?: string;
}

const CURRENCY: Readonly<Record<SoakGateway, string>> = {
  paystack: 'NGN',
  stripe: 'USD',
  flutterwave: 'NGN',
  razorpay: 'INR',
};

export function makePayment(
  gateway: SoakGateway,
  index: number,
  run: string,
  amountMinor: number,
): SoakPayment {
  const reference = `SOAK-${run}-${index}`;
  const numericId = String(7_000_000_000 + index);
  const gatewayId =
    gateway === 'stripe'
      ? `pi_soak${run}x${index}`
      : gateway === 'razorpay'
        ? `order_soak${run}x${index}`
        : numericId;
  const key = gateway === 'stripe' || gateway === 'razorpay' ? gatewayId : reference;
  return { gateway, index, reference, gatewayId, key, amountMinor, currency: CURRENCY[gateway] };
}

const at = (offsetSeconds: number) => new Date(Date.UTC(2026, 10, 20, 10) + offsetSeconds * 1000);

/** `amountMinor` overrides the payment's amount (poison: the same event id, another amount). */
export function buildEvent(
  payment: SoakPayment,
  step: Step,
  options: { readonly amountMinor?: number; readonly refundMinor?: number } = {},
): GatewayEvent {
  const amount = options.amountMinor ?? payment.amountMinor;
  const refund = options.refundMinor ?? 0;
  const { reference, gatewayId, currency, index } = payment;
  switch (payment.gateway) {
    case 'paystack': {
      if (step === 'refund') {
        const refundReference = `RFD-${reference}`;
        return {
          step,
          sourceEventId: `refund.processed:${refundReference}`,
          priority: 'normal',
          payload: JSON.stringify({
            event: 'refund.processed',
            data: {
              status: 'processed',
              transaction_reference: reference,
              refund_reference: refundReference,
              amount: String(refund),
              currency,
              domain: 'test',
            },
          }),
        };
      }
      const type = step === 'pending' ? 'paymentrequest.pending' : 'charge.success';
      // A payment request has its own id; the charge is the transaction.
      const id = step === 'pending' ? String(8_000_000_000 + index) : gatewayId;
      return {
        step,
        sourceEventId: `${type}:${id}`,
        priority: step === 'pending' ? 'normal' : 'high',
        payload: JSON.stringify({
          event: type,
          data: {
            id: Number(id),
            domain: 'test',
            status: step === 'pending' ? 'pending' : 'success',
            reference,
            amount,
            currency,
            ...(step === 'succeeded' ? { paid_at: at(index).toISOString() } : {}),
            created_at: at(index - 30).toISOString(),
          },
        }),
      };
    }
    case 'stripe': {
      const eventId = `evt_soak${index}${step}${gatewayId.slice(7)}`;
      const created = Math.floor(at(index).getTime() / 1000);
      const object =
        step === 'refund'
          ? {
              id: `ch_${gatewayId.slice(3)}`,
              object: 'charge',
              amount,
              amount_captured: amount,
              amount_refunded: refund,
              captured: true,
              currency: currency.toLowerCase(),
              livemode: false,
              metadata: { reference },
              paid: true,
              payment_intent: gatewayId,
              refunded: refund >= amount,
              status: 'succeeded',
            }
          : {
              id: gatewayId,
              object: 'payment_intent',
              amount,
              amount_capturable: 0,
              amount_received: step === 'succeeded' ? amount : 0,
              capture_method: 'automatic',
              currency: currency.toLowerCase(),
              livemode: false,
              metadata: { reference },
              status: step === 'succeeded' ? 'succeeded' : 'processing',
            };
      const type =
        step === 'refund'
          ? 'charge.refunded'
          : step === 'succeeded'
            ? 'payment_intent.succeeded'
            : 'payment_intent.processing';
      return {
        step,
        sourceEventId: eventId,
        priority: step === 'succeeded' ? 'high' : 'normal',
        payload: JSON.stringify({
          id: eventId,
          object: 'event',
          api_version: '2024-06-20',
          created,
          data: { object },
          livemode: false,
          pending_webhooks: 1,
          type,
        }),
      };
    }
    case 'flutterwave': {
      if (step === 'refund') throw new Error('flutterwave has no refund events');
      const status = step === 'succeeded' ? 'successful' : 'pending';
      const major = (amount / 100).toFixed(2);
      // Amounts in major units, written as JSON number text (`1234.50`), as Flutterwave sends them.
      const payload = `{"event":"charge.completed","data":{"id":${gatewayId},"tx_ref":"${reference}","flw_ref":"FLW-SOAK-${index}","amount":${major},"currency":"${currency}","charged_amount":${major},"status":"${status}","payment_type":"card","created_at":"${at(index).toISOString()}"},"event.type":"CARD_TRANSACTION"}`;
      return {
        step,
        sourceEventId: `charge.completed:${gatewayId}:${status}`,
        priority: step === 'succeeded' ? 'high' : 'normal',
        payload,
      };
    }
    case 'razorpay': {
      const paymentId = `pay_soak${gatewayId.slice(10)}`;
      const headerEventId = `evt_soak${index}${step}${gatewayId.slice(10)}`;
      const paymentEntity = {
        id: paymentId,
        entity: 'payment',
        amount,
        currency,
        status: step === 'pending' ? 'authorized' : 'captured',
        order_id: gatewayId,
        captured: step !== 'pending',
        amount_refunded: refund,
        notes: { reference },
        created_at: Math.floor(at(index).getTime() / 1000),
      };
      const type =
        step === 'refund'
          ? 'refund.processed'
          : step === 'succeeded'
            ? 'payment.captured'
            : 'payment.authorized';
      const payload = {
        entity: 'event',
        account_id: 'acc_PayhookSoak01',
        event: type,
        contains: step === 'refund' ? ['refund', 'payment'] : ['payment'],
        payload:
          step === 'refund'
            ? {
                refund: {
                  entity: {
                    id: `rfnd_soak${gatewayId.slice(10)}`,
                    entity: 'refund',
                    amount: refund,
                    currency,
                    payment_id: paymentId,
                    status: 'processed',
                  },
                },
                payment: { entity: paymentEntity },
              }
            : { payment: { entity: paymentEntity } },
        created_at: Math.floor(at(index + 5).getTime() / 1000),
      };
      return {
        step,
        sourceEventId: headerEventId,
        priority: step === 'succeeded' ? 'high' : 'normal',
        payload: JSON.stringify(payload),
        headerEventId,
      };
    }
  }
}

/** Signs once: every (re)delivery of this webhook sends these exact bytes and headers, as a gateway's retry does. */
export function sign(gateway: SoakGateway, event: GatewayEvent): SignedWebhook {
  return SIGNERS[gateway](event.payload, {
    secret: devSecret(gateway),
    ...(event.headerEventId ? { eventId: event.headerEventId } : {}),
  });
}

/**
 * A webhook whose body was changed after signing (as a tampering proxy would): every scheme signs the body, so the
 * stack must refuse it with a 401 and store nothing.
 */
export function forge(gateway: SoakGateway, event: GatewayEvent): SignedWebhook {
  const signed = sign(gateway, event);
  return { body: `${signed.body} `, headers: signed.headers };
}
