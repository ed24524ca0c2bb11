import { createHash } from 'node:crypto';
import { devSecret, SIGNERS, type SignedWebhook } from '../events/index.js';

/**
 * The soak's side of the gateways: for one payment and one thing that happened at the gateway, the exact webhook
 * body the gateway would send, the event id payhook derives from it (the dedupe key), the queue it lands on, and
 * what the gateway told by it (the fact, in its own ids and states, and any running refunded total). Bodies follow
 * the shapes of the samples in `events/<gateway>/`, with only the fields payhook reads.
 *
 * What an event tells (`Told`) is written here from each gateway's documented meaning of its events, not from
 * payhook's adapters: the model (soak/model.ts) builds the expected record from it.
 */
export const SOAK_GATEWAYS = ['paystack', 'stripe', 'flutterwave', 'razorpay', 'oxapay'] as const;
export type SoakGateway = (typeof SOAK_GATEWAYS)[number];
export type SoakPriority = 'high' | 'normal' | 'low';

/** Gateways whose refund and dispute events the soak plays. */
export const REFUNDABLE: ReadonlySet<SoakGateway> = new Set(['paystack', 'stripe', 'razorpay']);

export interface SoakPayment {
  readonly gateway: SoakGateway;
  readonly index: number;
  /** The merchant's reference. */
  readonly reference: string;
  /**
   * The gateway's id of the payment: Stripe PaymentIntent, Razorpay order, Paystack/Flutterwave transaction, OXA Pay
   * static-address track id.
   */
  readonly gatewayId: string;
  /** What `/local/payments/<gateway>/<key>` finds it by, and what announcement ids are derived from. */
  readonly key: string;
  /** The amount asked for (each OXA Pay deposit has its own). */
  readonly amountMinor: number;
  readonly currency: string;
  /** Run id and index, for the ids of refunds, disputes and events. */
  readonly tag: string;
  /**
   * Razorpay only: a payment made without an order (a Payment Page), keyed by its own `pay_` id. Its `notes` hold what
   * the payer typed into the page, so its `reference` is payer-controlled.
   */
  readonly orderless?: true;
}

export type FactType = 'money_in' | 'refund' | 'dispute' | 'attempt';

/** One fact in one state, as the gateway tells it, in its own ids. */
export interface Told {
  readonly type: FactType;
  readonly id: string;
  /** money in: received; refund: pending, succeeded, failed; dispute: opened, won, lost; attempt: authorized, ... */
  readonly state: string;
  readonly amountMinor: number;
}

/** What one gateway event says about its payment. */
export interface Truth {
  readonly fact?: Told;
  /**
   * A running total of refunds the payload carries and payhook reads as a floor (Stripe charge.refunded
   * `amount_refunded`; Razorpay's payment `amount_refunded` is sent but not read).
   */
  readonly refundedMinor?: number;
}

/**
 * One thing that happened at the gateway, from which its webhook is rendered. `type` is the gateway's event type;
 * `status` the object's status where the gateway's event says it in the body.
 */
export interface EventSpec {
  readonly type: string;
  /** `session`: a Stripe Checkout Session made without a PaymentIntent (`status` is its `payment_status`). */
  readonly about:
    | 'pending'
    | 'attempt'
    | 'money_in'
    | 'refund'
    | 'refund_total'
    | 'dispute'
    | 'noise'
    | 'session';
  /** The gateway's own id of the thing: capture/deposit, attempt, refund, dispute. */
  readonly id?: string;
  readonly status?: string;
  readonly amountMinor?: number;
  /** The running refunded total the gateway would put in this payload (see {@link Truth.refundedMinor}). */
  readonly refundedMinor?: number;
  /** Sequence number within the payment: makes the gateway's event ids unique and stable. */
  readonly seq: number;
}

export interface GatewayEvent {
  readonly spec: EventSpec;
  /** For the report and problem lines: the gateway's event type (and status). */
  readonly step: string;
  /** payhook's event id (`WebhookEvent.eventId`): what history items are keyed by. */
  readonly sourceEventId: string;
  readonly priority: SoakPriority;
  readonly payload: string;
  /** For header-borne event ids (Razorpay's, sent as Razorpay does but not payhook's event id: it is unsigned). */
  readonly headerEventId?: string;
  readonly truth: Truth;
  /**
   * An unverified claim (Flutterwave `verif-hash` without a valid body signature): no fact, whatever it says. `money`
   * when it claims money arrived (it becomes a claim marker with that amount), `failure` when it claims a failure
   * (history only). `sourceEventId` is then the claim's own id (see {@link claimEventId}).
   */
  readonly claim?: { readonly says: 'money'; readonly amountMinor: number } | { readonly says: 'failure' };
  /**
   * The signature a claim carries beside its correct `verif-hash`: none, or the `flutterwave-signature` of the
   * genuine body it was made from (a captured delivery, tampered with: the HMAC no longer matches).
   */
  readonly claimSignatureOf?: string;
}

const CURRENCY: Readonly<Record<SoakGateway, string>> = {
  paystack: 'NGN',
  stripe: 'USD',
  flutterwave: 'NGN',
  razorpay: 'INR',
  oxapay: 'USDT',
};

/** Minor units per major unit, for the gateways that send major units. */
export const MINOR_DIGITS: Readonly<Record<string, number>> = { NGN: 2, USDT: 6, USD: 2, INR: 2 };

export function makePayment(
  gateway: SoakGateway,
  index: number,
  run: string,
  amountMinor: number,
): SoakPayment {
  const reference = `SOAK-${run}-${index}`;
  const tag = `${run}x${index}`;
  const gatewayId =
    gateway === 'stripe'
      ? `pi_soak${tag}`
      : gateway === 'razorpay'
        ? `order_soak${tag}`
        : gateway === 'oxapay'
          ? String(500_000_000 + index)
          : String(7_000_000_000 + index);
  const key = gateway === 'stripe' || gateway === 'razorpay' ? gatewayId : reference;
  return { gateway, index, reference, gatewayId, key, amountMinor, currency: CURRENCY[gateway], tag };
}

/**
 * A payment whose merchant reference the PAYER chose, set to another payment's gateway id: a Stripe Checkout Session
 * made without a PaymentIntent (Payment Links take `client_reference_id` from the URL), keyed by its own `cs_` id; or a
 * Razorpay payment made without an order (a Payment Page, whose `notes` hold what the payer typed), keyed by its own
 * `pay_` id. Its record must be its own, and the payment whose id it names must not change.
 */
export function makePayerReferencedPayment(
  gateway: 'stripe' | 'razorpay',
  index: number,
  run: string,
  amountMinor: number,
  victim: SoakPayment,
): SoakPayment {
  const tag = `${run}x${index}`;
  const gatewayId = gateway === 'stripe' ? `cs_soak${tag}` : `pay_soak${tag}`;
  return {
    gateway,
    index,
    reference: victim.gatewayId,
    gatewayId,
    key: gatewayId,
    amountMinor,
    currency: CURRENCY[gateway],
    tag,
    ...(gateway === 'razorpay' && { orderless: true as const }),
  };
}

/** A merchant reference for a payment the soak only registers (its own run id and number). */
export function makeRegisteredOnlyPayment(
  gateway: 'paystack' | 'flutterwave',
  index: number,
  run: string,
  amountMinor: number,
): SoakPayment {
  const payment = makePayment(gateway, index, run, amountMinor);
  return { ...payment, reference: `SOAK-${run}-reg${index}`, key: `SOAK-${run}-reg${index}` };
}

/** Ids of the things a payment's lifecycle creates, in each gateway's format. */
export const ids = {
  refund(payment: SoakPayment, n: number): string {
    switch (payment.gateway) {
      case 'stripe':
        return `re_soak${payment.tag}r${n}`;
      case 'razorpay':
        return `rfnd_soak${payment.tag}r${n}`;
      default:
        return `RFD-${payment.reference}-${n}`;
    }
  },
  dispute(payment: SoakPayment, n: number): string {
    switch (payment.gateway) {
      case 'stripe':
        return `dp_soak${payment.tag}d${n}`;
      case 'razorpay':
        return `disp_soak${payment.tag}d${n}`;
      default:
        return String(9_000_000_000 + payment.index * 10 + n);
    }
  },
  /** The capture (Stripe: the PaymentIntent; Razorpay: the payment; Paystack, Flutterwave: the transaction). */
  capture(payment: SoakPayment): string {
    return payment.gateway === 'razorpay' && !payment.orderless
      ? `pay_soak${payment.tag}`
      : payment.gatewayId;
  },
  /** A failed attempt before the one that pays: its own payment (Razorpay) or transaction (Flutterwave). */
  failedAttempt(payment: SoakPayment): string {
    if (payment.gateway === 'razorpay') return `pay_soak${payment.tag}f`;
    if (payment.gateway === 'flutterwave') return String(6_000_000_000 + payment.index);
    return payment.gatewayId;
  },
  /** An OXA Pay deposit's transaction hash. */
  deposit(payment: SoakPayment, n: number): string {
    return createHash('sha256').update(`soak-deposit-${payment.tag}-${n}`).digest('hex');
  },
};

const at = (offsetSeconds: number) => new Date(Date.UTC(2026, 10, 20, 10) + offsetSeconds * 1000);
const unix = (offsetSeconds: number) => Math.floor(at(offsetSeconds).getTime() / 1000);

/** Major-unit decimal text from minor units, exactly (no float): `123456` NGN is `1234.56`. */
export function majorText(minor: number, digits: number): string {
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, text.length - digits)}.${text.slice(text.length - digits)}`;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`soak: event spec without ${what}`);
  return value;
}

/**
 * The webhook for one spec. `amountMinor` overrides the amount the event carries (poison: the same event id, another
 * amount).
 */
export function buildEvent(
  payment: SoakPayment,
  spec: EventSpec,
  options: { readonly amountMinor?: number } = {},
): GatewayEvent {
  const amount = options.amountMinor ?? spec.amountMinor ?? payment.amountMinor;
  switch (payment.gateway) {
    case 'paystack':
      return paystackEvent(payment, spec, amount);
    case 'stripe':
      return stripeEvent(payment, spec, amount);
    case 'flutterwave':
      return flutterwaveEvent(payment, spec, amount);
    case 'razorpay':
      return razorpayEvent(payment, spec, amount);
    case 'oxapay':
      return oxapayEvent(payment, spec, amount);
  }
}

const REFUND_STATE: Readonly<Record<string, string>> = {
  pending: 'pending',
  processing: 'pending',
  processed: 'succeeded',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'failed',
};

function paystackEvent(payment: SoakPayment, spec: EventSpec, amount: number): GatewayEvent {
  const { reference, gatewayId, currency, index } = payment;
  const base = { spec, step: spec.type };
  switch (spec.about) {
    case 'pending':
    case 'money_in': {
      const pending = spec.about === 'pending';
      // A payment request has its own id; the charge is the transaction.
      const id = pending ? String(8_000_000_000 + index) : gatewayId;
      return {
        ...base,
        sourceEventId: `${spec.type}:${id}`,
        priority: pending ? 'normal' : 'high',
        payload: JSON.stringify({
          event: spec.type,
          data: {
            id: Number(id),
            domain: 'test',
            status: pending ? 'pending' : 'success',
            reference,
            amount,
            currency,
            ...(pending ? {} : { paid_at: at(index).toISOString() }),
            created_at: at(index - 30).toISOString(),
          },
        }),
        truth: pending
          ? {}
          : { fact: { type: 'money_in', id: gatewayId, state: 'received', amountMinor: amount } },
      };
    }
    case 'refund': {
      const refundReference = need(spec.id, 'refund id');
      const status = need(spec.status, 'status');
      return {
        ...base,
        // Paystack sends no event id: payhook's is `<event>:<refund_reference>` for a refund without an id.
        sourceEventId: `${spec.type}:${refundReference}`,
        priority: 'normal',
        payload: JSON.stringify({
          event: spec.type,
          data: {
            status,
            transaction_reference: reference,
            refund_reference: refundReference,
            amount: String(amount),
            currency,
            domain: 'test',
          },
        }),
        truth: {
          fact: {
            type: 'refund',
            id: refundReference,
            state: REFUND_STATE[status] ?? '?',
            amountMinor: amount,
          },
        },
      };
    }
    case 'dispute': {
      const disputeId = need(spec.id, 'dispute id');
      const resolution =
        spec.status === 'lost' ? 'merchant-accepted' : spec.status === 'won' ? 'declined' : null;
      const payload = JSON.stringify({
        event: spec.type,
        data: {
          id: Number(disputeId),
          refund_amount: amount,
          currency,
          status: resolution === null ? 'awaiting-merchant-feedback' : 'resolved',
          resolution,
          domain: 'test',
          transaction: {
            id: Number(gatewayId),
            domain: 'test',
            status: 'success',
            reference,
            amount: payment.amountMinor,
            currency,
          },
          category: 'chargeback',
          created_at: at(index + 600 + spec.seq).toISOString(),
        },
      });
      // A reminder can recur for one dispute: its event id carries a digest of the body.
      const digest = createHash('sha256').update(payload).digest('hex').slice(0, 16);
      // A reminder is history only: it changes nothing about the dispute.
      const state =
        spec.type === 'charge.dispute.create'
          ? 'opened'
          : spec.type === 'charge.dispute.resolve'
            ? spec.status
            : undefined;
      return {
        ...base,
        step: resolution ? `${spec.type}/${resolution}` : spec.type,
        sourceEventId:
          spec.type === 'charge.dispute.remind'
            ? `${spec.type}:${disputeId}:${digest}`
            : `${spec.type}:${disputeId}`,
        priority: 'high',
        payload,
        // A Paystack dispute names no amount of its own (refund_amount is what the customer would get back): its
        // money is its transaction's.
        truth:
          state === 'opened' || state === 'won' || state === 'lost'
            ? { fact: { type: 'dispute', id: disputeId, state, amountMinor: payment.amountMinor } }
            : {},
      };
    }
    default:
      throw new Error(`paystack: no ${spec.about} event in the soak`);
  }
}

function stripeEvent(payment: SoakPayment, spec: EventSpec, amount: number): GatewayEvent {
  const { reference, gatewayId, currency, index } = payment;
  const eventId = `evt_soak${payment.tag}e${spec.seq}`;
  const chargeId = `ch_${gatewayId.slice(3)}`;
  let object: Record<string, unknown>;
  let truth: Truth = {};
  let priority: SoakPriority = 'normal';
  let step = spec.type;
  switch (spec.about) {
    case 'pending':
    case 'attempt': {
      const status = need(spec.status, 'status');
      object = {
        id: gatewayId,
        object: 'payment_intent',
        amount,
        amount_capturable: status === 'requires_capture' ? amount : 0,
        amount_received: 0,
        capture_method: 'automatic',
        currency: currency.toLowerCase(),
        livemode: false,
        metadata: { reference },
        status,
      };
      const state =
        spec.type === 'payment_intent.amount_capturable_updated'
          ? 'authorized'
          : spec.type === 'payment_intent.payment_failed'
            ? 'failed'
            : spec.type === 'payment_intent.canceled'
              ? 'expired'
              : undefined;
      if (state) truth = { fact: { type: 'attempt', id: gatewayId, state, amountMinor: amount } };
      break;
    }
    case 'money_in':
      object =
        spec.type === 'charge.succeeded'
          ? {
              id: chargeId,
              object: 'charge',
              amount,
              amount_captured: amount,
              amount_refunded: 0,
              captured: true,
              currency: currency.toLowerCase(),
              livemode: false,
              metadata: { reference },
              paid: true,
              payment_intent: gatewayId,
              status: 'succeeded',
            }
          : {
              id: gatewayId,
              object: 'payment_intent',
              amount,
              amount_capturable: 0,
              amount_received: amount,
              capture_method: 'automatic',
              currency: currency.toLowerCase(),
              livemode: false,
              metadata: { reference },
              status: 'succeeded',
            };
      // A charge and its PaymentIntent are one capture: Stripe's PaymentIntent is what was paid.
      truth = { fact: { type: 'money_in', id: gatewayId, state: 'received', amountMinor: amount } };
      priority = 'high';
      break;
    case 'refund': {
      const status = need(spec.status, 'status');
      const refundId = need(spec.id, 'refund id');
      object = {
        id: refundId,
        object: 'refund',
        amount,
        charge: chargeId,
        currency: currency.toLowerCase(),
        metadata: {},
        payment_intent: gatewayId,
        status,
      };
      step = `${spec.type}/${status}`;
      truth = {
        fact: { type: 'refund', id: refundId, state: REFUND_STATE[status] ?? '?', amountMinor: amount },
      };
      break;
    }
    case 'refund_total': {
      // charge.refunded names no refund: its amount_refunded is the charge's running total.
      const total = amount;
      object = {
        id: chargeId,
        object: 'charge',
        amount: payment.amountMinor,
        amount_captured: payment.amountMinor,
        amount_refunded: total,
        captured: true,
        currency: currency.toLowerCase(),
        livemode: false,
        metadata: { reference },
        paid: true,
        payment_intent: gatewayId,
        refunded: total >= payment.amountMinor,
        status: 'succeeded',
      };
      truth = { refundedMinor: total };
      break;
    }
    case 'dispute': {
      const status = need(spec.status, 'status');
      const disputeId = need(spec.id, 'dispute id');
      object = {
        id: disputeId,
        object: 'dispute',
        amount,
        charge: chargeId,
        currency: currency.toLowerCase(),
        livemode: false,
        metadata: {},
        payment_intent: gatewayId,
        reason: 'fraudulent',
        status,
      };
      step = `${spec.type}/${status}`;
      const state =
        spec.type === 'charge.dispute.created'
          ? 'opened'
          : spec.type === 'charge.dispute.closed' && (status === 'won' || status === 'lost')
            ? status
            : undefined;
      if (state) truth = { fact: { type: 'dispute', id: disputeId, state, amountMinor: amount } };
      priority = 'high';
      break;
    }
    case 'session': {
      // A Checkout Session that made no PaymentIntent: keyed by its own cs_ id. Its client_reference_id is the
      // payer's to choose (here another payment's pi_ id): only a label, never the key of a record.
      const status = need(spec.status, 'status');
      object = {
        id: gatewayId,
        object: 'checkout.session',
        amount_total: amount,
        client_reference_id: reference,
        currency: currency.toLowerCase(),
        livemode: false,
        metadata: {},
        mode: 'payment',
        payment_intent: null,
        payment_status: status,
        status: 'complete',
      };
      step = `${spec.type}/${status}`;
      if (status === 'paid') {
        truth = { fact: { type: 'money_in', id: gatewayId, state: 'received', amountMinor: amount } };
        priority = 'high';
      }
      break;
    }
    case 'noise':
      // An event payhook has no meaning for (charge.updated: a description changed): history only, low priority.
      object = {
        id: chargeId,
        object: 'charge',
        amount: payment.amountMinor,
        captured: true,
        currency: currency.toLowerCase(),
        livemode: false,
        metadata: { reference },
        payment_intent: gatewayId,
        status: 'succeeded',
        description: `updated ${spec.seq}`,
      };
      priority = 'low';
      break;
  }
  return {
    spec,
    step,
    sourceEventId: eventId,
    priority,
    payload: JSON.stringify({
      id: eventId,
      object: 'event',
      api_version: '2024-06-20',
      created: unix(index + spec.seq),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      type: spec.type,
    }),
    truth,
  };
}

function flutterwaveEvent(payment: SoakPayment, spec: EventSpec, amount: number): GatewayEvent {
  const { reference, currency, index } = payment;
  const status = need(spec.status, 'status');
  const id = need(spec.id, 'transaction id');
  const major = majorText(amount, MINOR_DIGITS[currency] ?? 2);
  // Amounts in major units, written as JSON number text (`1234.50`), as Flutterwave sends them.
  const payload = `{"event":"charge.completed","data":{"id":${id},"tx_ref":"${reference}","flw_ref":"FLW-SOAK-${index}-${spec.seq}","amount":${major},"currency":"${currency}","charged_amount":${major},"status":"${status}","payment_type":"card","created_at":"${at(index + spec.seq).toISOString()}"},"event.type":"CARD_TRANSACTION"}`;
  const truth: Truth =
    status === 'successful'
      ? { fact: { type: 'money_in', id, state: 'received', amountMinor: amount } }
      : status === 'failed'
        ? { fact: { type: 'attempt', id, state: 'failed', amountMinor: amount } }
        : {};
  return {
    spec,
    step: `charge.completed/${status}`,
    sourceEventId: `charge.completed:${id}:${status}`,
    priority: status === 'successful' ? 'high' : 'normal',
    payload,
    truth,
  };
}

function razorpayEvent(payment: SoakPayment, spec: EventSpec, amount: number): GatewayEvent {
  const { reference, gatewayId, currency, index } = payment;
  const headerEventId = `evt_soak${payment.tag}e${spec.seq}`;
  const paymentId =
    spec.about === 'attempt' || spec.about === 'money_in'
      ? need(spec.id, 'payment id')
      : ids.capture(payment);
  const paymentStatus =
    spec.type === 'payment.authorized'
      ? 'authorized'
      : spec.type === 'payment.failed'
        ? 'failed'
        : 'captured';
  const paymentAmount = spec.about === 'attempt' || spec.about === 'money_in' ? amount : payment.amountMinor;
  const paymentEntity = {
    id: paymentId,
    entity: 'payment',
    amount: paymentAmount,
    currency,
    status: paymentStatus,
    order_id: payment.orderless ? null : gatewayId,
    captured: paymentStatus === 'captured',
    amount_refunded: spec.refundedMinor ?? 0,
    notes: { reference },
    created_at: unix(index),
  };
  let payload: Record<string, unknown>;
  let truth: Truth = {};
  let priority: SoakPriority = 'normal';
  // payhook's event id comes from the signed body (the header is not signed): see lambdas/gateways/razorpay.ts.
  let sourceEventId = `${spec.type}:${paymentId}`;
  switch (spec.about) {
    case 'attempt':
      payload = { payment: { entity: paymentEntity } };
      truth = {
        fact: {
          type: 'attempt',
          id: paymentId,
          state: paymentStatus === 'authorized' ? 'authorized' : 'failed',
          amountMinor: amount,
        },
      };
      break;
    case 'money_in':
      payload =
        spec.type === 'order.paid'
          ? {
              payment: { entity: paymentEntity },
              order: {
                entity: {
                  id: gatewayId,
                  entity: 'order',
                  amount,
                  amount_paid: amount,
                  amount_due: 0,
                  currency,
                  receipt: reference,
                  status: 'paid',
                },
              },
            }
          : { payment: { entity: paymentEntity } };
      if (spec.type === 'order.paid') sourceEventId = `order.paid:${gatewayId}:${paymentId}`;
      // payment.captured and order.paid are about one payment: one capture.
      truth = { fact: { type: 'money_in', id: paymentId, state: 'received', amountMinor: amount } };
      priority = 'high';
      break;
    case 'refund': {
      const status = need(spec.status, 'status');
      const refundId = need(spec.id, 'refund id');
      sourceEventId = `${spec.type}:${refundId}`;
      payload = {
        refund: {
          entity: { id: refundId, entity: 'refund', amount, currency, payment_id: paymentId, status },
        },
        payment: { entity: paymentEntity },
      };
      // The payment's amount_refunded counts refunds still under way, and every refund has its own id: payhook
      // takes no running total from it (the payload carries it all the same).
      truth = {
        fact: { type: 'refund', id: refundId, state: REFUND_STATE[status] ?? '?', amountMinor: amount },
      };
      break;
    }
    case 'dispute': {
      const disputeId = need(spec.id, 'dispute id');
      const status = need(spec.status, 'status');
      sourceEventId = `${spec.type}:${disputeId}:${status}`;
      payload = {
        payment: { entity: paymentEntity },
        dispute: {
          entity: {
            id: disputeId,
            entity: 'dispute',
            payment_id: paymentId,
            amount,
            currency,
            status,
            phase: 'chargeback',
            created_at: unix(index + 600),
          },
        },
      };
      const state =
        spec.type === 'payment.dispute.created'
          ? 'opened'
          : spec.type === 'payment.dispute.won'
            ? 'won'
            : spec.type === 'payment.dispute.lost'
              ? 'lost'
              : undefined;
      if (state) truth = { fact: { type: 'dispute', id: disputeId, state, amountMinor: amount } };
      priority = 'high';
      break;
    }
    default:
      throw new Error(`razorpay: no ${spec.about} event in the soak`);
  }
  return {
    spec,
    step: spec.type,
    sourceEventId,
    priority,
    payload: JSON.stringify({
      entity: 'event',
      account_id: 'acc_PayhookSoak01',
      event: spec.type,
      contains: Object.keys(payload),
      payload,
      created_at: unix(index + spec.seq),
    }),
    headerEventId,
    truth,
  };
}

function oxapayEvent(payment: SoakPayment, spec: EventSpec, amount: number): GatewayEvent {
  const { reference, gatewayId, currency, index } = payment;
  const hash = need(spec.id, 'transaction hash');
  const status = need(spec.status, 'status');
  const major = majorText(amount, MINOR_DIGITS[currency] ?? 6);
  // Static address: one address (one track id) takes many deposits, each its own transaction.
  const payload = `{"track_id":"${gatewayId}","type":"static_address","status":"${status}","amount":${major},"value":${major},"sent_value":${major},"currency":"${currency}","order_id":"${reference}","description":"soak deposit","date":${unix(index + spec.seq)},"fee_paid_by_payer":0,"under_paid_coverage":0,"txs":[{"tx_hash":"${hash}","status":"${status === 'Paid' ? 'confirmed' : 'confirming'}"}]}`;
  const paid = status === 'Paid';
  return {
    spec,
    step: `static_address/${status}`,
    sourceEventId: `${gatewayId}:${status.toLowerCase()}:${hash}`,
    priority: paid ? 'high' : 'normal',
    payload,
    truth: paid ? { fact: { type: 'money_in', id: hash, state: 'received', amountMinor: amount } } : {},
  };
}

/**
 * The id payhook gives an unverified claim: in its synthetic namespace, named by the digest of the exact body (so
 * only byte-identical copies collapse, and no claim can take the id a signed webhook carries).
 */
export function claimEventId(body: string): string {
  return `payhook:claim:sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * An unverified Flutterwave claim about a payment: the body of `genuine` (an event of the payment's lifecycle) with
 * `amountMinor` instead of its own amount (a success claim with a wrong amount), or `genuine` itself (a failure told
 * again by someone holding the verif-hash). `beside`: whether it also carries the `flutterwave-signature` of the
 * genuine body (a captured delivery tampered with), which no longer matches.
 */
export function flutterwaveClaim(
  payment: SoakPayment,
  genuine: EventSpec,
  says: 'money' | 'failure',
  options: { readonly amountMinor?: number; readonly beside: boolean },
): GatewayEvent {
  const original = buildEvent(payment, genuine);
  const claimed = buildEvent(payment, genuine, {
    ...(options.amountMinor !== undefined && { amountMinor: options.amountMinor }),
  });
  if (options.beside && claimed.payload === original.payload) {
    // The genuine body's signature would match it: that is a signed webhook, not a claim.
    throw new Error('soak: a claim beside its own valid signature');
  }
  return {
    spec: genuine,
    step: `claim ${claimed.step}`,
    sourceEventId: claimEventId(claimed.payload),
    priority: claimed.priority,
    payload: claimed.payload,
    truth: {},
    claim:
      says === 'money'
        ? { says, amountMinor: options.amountMinor ?? genuine.amountMinor ?? payment.amountMinor }
        : { says },
    ...(options.beside && { claimSignatureOf: original.payload }),
  };
}

/**
 * What an unverified claim is sent with: the correct `verif-hash` (the dashboard secret hash, leaked), and possibly the
 * `flutterwave-signature` of another body (the genuine one it was tampered from).
 */
export function claimHeaders(event: GatewayEvent): SignedWebhook {
  const secret = devSecret('flutterwave');
  const signatureOf = event.claimSignatureOf;
  return {
    body: event.payload,
    headers: {
      'content-type': 'application/json',
      'verif-hash': secret,
      ...(signatureOf !== undefined && {
        'flutterwave-signature':
          SIGNERS.flutterwave(signatureOf, { secret }).headers['flutterwave-signature'] ?? '',
      }),
    },
  };
}

/** Signs once: every (re)delivery of this webhook sends these exact bytes and headers, as a gateway's retry does. */
export function sign(
  gateway: SoakGateway,
  event: GatewayEvent,
  headerEventId: string | undefined = event.headerEventId,
): SignedWebhook {
  return SIGNERS[gateway](event.payload, {
    secret: devSecret(gateway),
    ...(headerEventId ? { eventId: headerEventId } : {}),
  });
}

/**
 * A webhook whose body was changed after signing (as a tampering proxy would): every scheme signs the body, so the
 * stack must refuse it with a 401 and store nothing.
 */
export function forge(gateway: SoakGateway, event: GatewayEvent): SignedWebhook {
  const signed = sign(gateway, event);
  // A tamperer without Flutterwave's verif-hash: beside a correct one, a changed body is an unverified claim that
  // ingest accepts and the gateway's verify API settles (modelled apart, as an attack: not this forgery).
  const { 'verif-hash': _verifHash, ...headers } = signed.headers;
  return { body: `${signed.body} `, headers: gateway === 'flutterwave' ? headers : signed.headers };
}
