import type { SandboxPayment } from '../local/gateway-sandbox.js';
import {
  buildEvent,
  type EventSpec,
  flutterwaveClaim,
  type GatewayEvent,
  ids,
  MINOR_DIGITS,
  majorText,
  makePayerReferencedPayment,
  makePayment,
  makeRegisteredOnlyPayment,
  REFUNDABLE,
  SOAK_GATEWAYS,
  type SoakPayment,
  type Told,
} from './gateways.js';
import { type ModelExtras, modelPayment, type PaymentModel } from './model.js';
import type { Random } from './prng.js';

/**
 * The soak plan: payments with whole lifecycles (pending, attempts, money in or several deposits, refunds announced
 * by one to three event types, disputes opened then won or lost, chargebacks after refunds, noise), cut into phases.
 *
 * The record is a set of facts and must not depend on arrival order, so most payments send ALL their events in one
 * phase, in random order among every other payment's, with duplicates, some held back by a random delay, some sent
 * in a burst (all at once, racing for the record). Others are staged (the gateway's early events in the first phase,
 * the rest in the second) or sent refunds-first (refunds and disputes a phase before the money they are about).
 * Poison needs an order: the original is applied in the first phase, the replay (same event id, another amount) comes
 * in the second. The queues are drained between phases, and the reconciler is run after each (the local stack's timer
 * is off), then the queues drained again.
 *
 * The attacks of issue #14, each at a small rate (and at least once however small the run):
 * - captured signed Razorpay bodies replayed under fresh unsigned `x-razorpay-event-id` headers (the other gateways
 *   carry no unsigned header that could name an event: nothing to replay there);
 * - unverified Flutterwave claims (`verif-hash` alone, or beside the `flutterwave-signature` of the genuine body they
 *   were tampered from): of money with a wrong amount, a phase before the payment's webhooks or after them, and of
 *   failure (often the exact body of a genuine failed attempt); the gateway sandbox answers what the gateway knows;
 * - payments whose payer-chosen reference is another payment's id (a Stripe Checkout Session without a PaymentIntent
 *   whose `client_reference_id` is another payment's `pi_`; a Razorpay payment without an order whose `notes` name
 *   another payment's `order_`), each its own payment;
 * - registrations (`POST /payments`) before or during a payment's webhooks, several at once, again with the same
 *   values (200), then with another amount or currency (409 naming the field, the first expectation kept); and
 *   registrations of payments that exist only as registrations, naming another payment's reference as their gateway
 *   id (which must not touch it).
 */
export type Lifecycle =
  | 'unpaid'
  | 'paid'
  | 'deposits'
  | 'refunded'
  | 'disputed'
  | 'refunded+disputed'
  | 'poison'
  | 'payer-reference'
  | 'registered-only';

/**
 * How a payment's events are spread over the phases. `claim-first`: a claim of money in the first phase, every webhook
 * of the payment in the second.
 */
export type Spread = 'shuffled' | 'staged' | 'refunds-first' | 'poison' | 'claim-first' | 'none';

export interface Delivery {
  readonly kind: 'webhook';
  readonly payment: SoakPayment;
  readonly event: GatewayEvent;
  /** Copies sent one after the other (each once the previous was answered): 1 = no duplicate. */
  readonly sequentialCopies: number;
  /** Copies sent at the same time, after the sequential ones: 0 = none. */
  readonly concurrentCopies: number;
  /** A tampered copy (body changed after signing), sent too: must be refused (401). */
  readonly forged: boolean;
  /**
   * Copies of a Razorpay webhook replayed under fresh `x-razorpay-event-id` values (an attacker with one captured,
   * signed body; the header is not signed): each must be accepted as the same event, changing nothing.
   */
  readonly headerReplays: number;
  /** The same event id as an already-applied event with another amount: must end in the DLQ (payload_mismatch). */
  readonly poison: boolean;
  /** Held back this long before the first copy is sent (random delays within a phase). */
  readonly delayMs: number;
}

/** One conflicting registration: another amount or currency than the first. */
export interface RegistrationConflict {
  readonly field: 'amount' | 'currency';
  readonly amountMinor: number;
  readonly currency: string;
}

/**
 * The merchant's checkout registering a payment (`POST /payments`): the first registration (sent `firstCopies` times
 * at once; 0 when an earlier step made it), then `again` more with the same values (each answered 200), then each
 * conflict (answered 409 naming its field, the first expectation kept), in that order, each once the previous was
 * answered.
 */
export interface RegistrationStep {
  readonly kind: 'registration';
  readonly payment: SoakPayment;
  readonly amountMinor: number;
  readonly currency: string;
  readonly gatewayPaymentId?: string;
  /** How `amount` is written: exact major-unit text (`"2500.00"`) or an integer of minor units. */
  readonly amountAs: 'major' | 'minor';
  readonly firstCopies: number;
  readonly again: number;
  readonly conflicts: readonly RegistrationConflict[];
  readonly delayMs: number;
}

/** What a phase sends: webhooks (signed, or unverified claims) and registrations. */
export type Step = Delivery | RegistrationStep;

export interface PlannedPayment {
  readonly payment: SoakPayment;
  readonly lifecycle: Lifecycle;
  readonly spread: Spread;
  /** Every valid event of the payment, in the gateway's order (not the order sent). */
  readonly events: readonly GatewayEvent[];
  readonly model: PaymentModel;
  /** What the gateway itself holds as refunded (its own final running total), for the report's comparison. */
  readonly gatewayRefundedMinor: number;
  /** Unverified claims sent about it. */
  readonly claims: readonly GatewayEvent[];
  /** The other payment whose id its payer-chosen reference names (attack: payer-controlled references). */
  readonly names?: SoakPayment;
}

/** What the plan holds, for the report. */
export interface PlanFigures {
  events: number;
  deliveries: number;
  byPriority: Record<string, number>;
  spreads: Record<string, number>;
  burstPayments: number;
  delayedDeliveries: number;
  duplicateCopies: number;
  forged: number;
  headerReplays: number;
  pending: number;
  authorisations: number;
  failedAttempts: number;
  unpaid: number;
  deposits: number;
  multiDepositPayments: number;
  /** Money in told by two event types (Stripe charge.succeeded + payment_intent.succeeded, Razorpay order.paid). */
  moneyInTwice: number;
  refunds: number;
  refundsByOutcome: Record<string, number>;
  paymentsByRefundCount: Record<string, number>;
  /** Refunds told by 1, 2 or 3 event types. */
  refundsByEventCount: Record<string, number>;
  refundEventTypes: Record<string, number>;
  /** Refunds told only by a running total (Stripe charge.refunded alone). */
  floorOnlyRefunds: number;
  /**
   * Refunds that failed or were reversed after a Stripe charge.refunded running total had counted them: payhook
   * keeps the largest total as a floor, less the refunds it knows failed.
   */
  failedRefundsInTotals: number;
  fullyRefundedPayments: number;
  disputes: number;
  disputesByOutcome: Record<string, number>;
  chargebacksAfterRefunds: number;
  refundsBeforePayment: number;
  noise: number;
  expectedStatuses: Record<string, number>;
  /**
   * Payments whose refunded total, by payhook's rules from the events it was sent, is not what the gateway itself
   * holds (a refund told only by a running total that a later failed refund is subtracted from, ...): not a soak
   * failure (the model follows the rules), but where the rules lose information. With a few examples.
   */
  refundedUnlikeGateway: number;
  refundedUnlikeGatewayExamples: string[];
  expectedAnnouncements: number;
  possibleExceptions: number;
  /** Unverified Flutterwave claims of money, each with a wrong amount: sent a phase before or after the webhooks. */
  claimsOfMoney: number;
  claimsBeforeWebhooks: number;
  claimsAfterWebhooks: number;
  /** Unverified claims of failure (of them, byte-identical to a genuine failed attempt's body). */
  claimsOfFailure: number;
  claimsOfFailureCaptured: number;
  /** Claims sent beside the (no longer matching) `flutterwave-signature` of the genuine body. */
  claimsBesideSignature: number;
  /** Claim webhooks planned, copies included (every one must be answered 200). */
  claimWebhooks: number;
  /**
   * Claims of money the gateway's verified answer settles (money in or a failure), and claims left open: on a payment
   * whose money was already in (never asked about), or whose gateway says pending (the payment reads `authorized`).
   */
  claimsSettled: number;
  claimsLeftOpen: number;
  claimsKeepingAuthorized: number;
  /** Payments whose payer-chosen reference is another payment's id, by kind. */
  payerReferences: Record<string, number>;
  /** Payments registered (`POST /payments`), of them before any webhook. */
  registered: number;
  registeredBefore: number;
  /** Registration requests planned, and their expected answers. */
  registrationRequests: number;
  registrationsAgain: number;
  registrationConflicts: Record<string, number>;
  /** Payments that exist only as registrations, naming another payment's reference as their gateway id. */
  registeredOnly: number;
}

/** What the gateway's verify API answers about a payment (the local gateway sandbox is set to it). */
export interface SandboxRecord {
  readonly gateway: 'flutterwave';
  readonly payment: SandboxPayment;
}

export interface Plan {
  readonly seed: number;
  readonly payments: readonly PlannedPayment[];
  /** Registrations sent before anything else. */
  readonly prelude: readonly RegistrationStep[];
  readonly phases: readonly (readonly Step[])[];
  /** What the gateways' verify APIs know (only payments someone sent a claim about). */
  readonly sandbox: readonly SandboxRecord[];
  /** Payments whose claim the gateway's verified answer settles, and the phase after which the reconciler does. */
  readonly confirmations: readonly { readonly payment: SoakPayment; readonly phase: number }[];
  /** Poison deliveries and the DLQ (priority) each must end in. */
  readonly poison: readonly { readonly delivery: Delivery; readonly priority: 'high' | 'normal' | 'low' }[];
  readonly figures: PlanFigures;
}

export interface PlanOptions {
  /** Webhooks to plan (every copy, duplicate and forgery counted; the gateway's retries on 5xx come on top). */
  readonly webhooks: number;
  readonly seed: number;
}

/** HTTP requests one webhook delivery makes when nothing answers 5xx. */
export function webhooksIn(delivery: Delivery): number {
  return (
    delivery.sequentialCopies + delivery.concurrentCopies + (delivery.forged ? 1 : 0) + delivery.headerReplays
  );
}

function bump(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    const a = items[i];
    const b = items[j];
    if (a === undefined || b === undefined) continue;
    items[i] = b;
    items[j] = a;
  }
  return items;
}

/** `total` cut into `parts` positive amounts. */
function split(random: Random, total: number, parts: number): number[] {
  const amounts: number[] = [];
  let left = total;
  for (let part = parts; part > 1; part -= 1) {
    const share = Math.max(1, Math.min(left - (part - 1), Math.floor(left * (0.2 + 0.5 * random.next()))));
    amounts.push(share);
    left -= share;
  }
  amounts.push(left);
  return amounts;
}

type RefundOutcome = 'succeeded' | 'failed' | 'reversed';

/**
 * One refund's moments at the gateway that become webhooks, each with its event type and the status it carries.
 * Both gateways count a refund in their running total (Stripe charge `amount_refunded`, Razorpay payment
 * `amount_refunded`) from its creation until it fails.
 */
interface RefundMoment {
  readonly type: string;
  readonly status: string;
  /** Stripe charge.refunded: announces the running total, not the refund. */
  readonly total?: true;
  /** A webhook is sent for it (the endpoint is subscribed to its type). */
  readonly sent: boolean;
}

/**
 * Which refund event types a merchant's endpoint is subscribed to, chosen once per payment (a gateway sends every
 * subscribed event): Stripe refund.created/refund.updated and charge.refunded (at least one of the two); Razorpay
 * refund.created or not (refund.processed and refund.failed always); Paystack refund.pending and refund.processing
 * or not (refund.processed and refund.failed always).
 */
interface RefundSubscription {
  readonly refundEvents: boolean;
  readonly totals: boolean;
  readonly created: boolean;
  readonly processing: boolean;
}

function refundSubscription(random: Random): RefundSubscription {
  const roll = random.next();
  return {
    refundEvents: roll < 0.75,
    totals: roll < 0.4 || roll >= 0.75,
    created: random.chance(0.6),
    processing: random.chance(0.5),
  };
}

function refundMoments(
  random: Random,
  gateway: SoakPayment['gateway'],
  outcome: RefundOutcome,
  subscribed: RefundSubscription,
): RefundMoment[] {
  const final = (sent: boolean): RefundMoment =>
    outcome === 'failed'
      ? { type: 'refund.failed', status: 'failed', sent }
      : { type: 'refund.processed', status: 'processed', sent };
  switch (gateway) {
    case 'stripe': {
      const sent = subscribed.refundEvents;
      const created = (status: string): RefundMoment => ({ type: 'refund.created', status, sent });
      const updated = (status: string): RefundMoment => ({ type: 'refund.updated', status, sent });
      // A card refund is often created already succeeded; else pending, then updated.
      const [first, ...later] =
        outcome === 'failed'
          ? random.pick([[created('pending'), updated('failed')], [created('failed')]])
          : [
              ...random.pick([[created('succeeded')], [created('pending'), updated('succeeded')]]),
              // Reversed: it succeeded, then failed, and the money came back.
              ...(outcome === 'reversed' ? [updated('failed')] : []),
            ];
      if (first === undefined) return [];
      // charge.refunded comes with the refund's creation, its running total counting it (not for a refund that
      // failed as it was created).
      const total: RefundMoment[] =
        subscribed.totals && first.status !== 'failed'
          ? [{ type: 'charge.refunded', status: 'succeeded', total: true, sent: true }]
          : [];
      return [first, ...total, ...later];
    }
    case 'razorpay':
      return [{ type: 'refund.created', status: 'pending', sent: subscribed.created }, final(true)];
    default:
      return [
        { type: 'refund.pending', status: 'pending', sent: subscribed.created },
        { type: 'refund.processing', status: 'processing', sent: subscribed.processing },
        final(true),
      ];
  }
}

interface Drafted {
  readonly specs: EventSpec[];
  readonly lifecycle: Exclude<Lifecycle, 'poison'>;
  /** Money came in (the lifecycle is not `unpaid`). */
  readonly paid: boolean;
  /** What the gateway itself holds as refunded at the end: its refunds that succeeded and stayed so. */
  readonly gatewayRefundedMinor: number;
}

/** One payment's lifecycle at the gateway: the events it sends, in its own order. */
function draftLifecycle(
  random: Random,
  payment: SoakPayment,
  figures: PlanFigures,
  mustPay: boolean,
): Drafted {
  const specs: EventSpec[] = [];
  const add = (spec: Omit<EventSpec, 'seq'>) => specs.push({ ...spec, seq: specs.length });
  const { gateway } = payment;
  const unpaid = !mustPay && random.chance(0.08);
  /** A declined attempt, as each gateway that reports one says it. */
  const addFailedAttempt = () => {
    const id = ids.failedAttempt(payment);
    if (gateway === 'stripe') {
      add({ type: 'payment_intent.payment_failed', about: 'attempt', id, status: 'requires_payment_method' });
    }
    if (gateway === 'razorpay') add({ type: 'payment.failed', about: 'attempt', id });
    if (gateway === 'flutterwave') add({ type: 'charge.completed', about: 'attempt', id, status: 'failed' });
  };

  // Before the money: a pending payment, an authorisation, a failed attempt.
  if (gateway !== 'razorpay' && gateway !== 'oxapay' && random.chance(0.35)) {
    figures.pending += 1;
    if (gateway === 'paystack') add({ type: 'paymentrequest.pending', about: 'pending' });
    if (gateway === 'stripe')
      add({ type: 'payment_intent.processing', about: 'pending', status: 'processing' });
    if (gateway === 'flutterwave')
      add({ type: 'charge.completed', about: 'pending', id: payment.gatewayId, status: 'pending' });
  }
  if (gateway === 'stripe' || gateway === 'razorpay' || gateway === 'flutterwave') {
    if (random.chance(0.15)) {
      figures.failedAttempts += 1;
      addFailedAttempt();
    }
  }
  if ((gateway === 'razorpay' && random.chance(0.6)) || (gateway === 'stripe' && random.chance(0.1))) {
    figures.authorisations += 1;
    if (gateway === 'razorpay')
      add({ type: 'payment.authorized', about: 'attempt', id: ids.capture(payment) });
    else {
      add({
        type: 'payment_intent.amount_capturable_updated',
        about: 'attempt',
        id: payment.gatewayId,
        status: 'requires_capture',
      });
    }
  }
  if (unpaid) {
    figures.unpaid += 1;
    if (gateway === 'stripe' && random.chance(0.5)) {
      add({ type: 'payment_intent.canceled', about: 'attempt', id: payment.gatewayId, status: 'canceled' });
    }
    if (gateway === 'oxapay') {
      add({ type: 'static_address', about: 'pending', id: ids.deposit(payment, 0), status: 'Confirming' });
    }
    if (specs.length === 0) {
      // Something must have been said about a payment that never paid: it failed (or is still pending).
      if (gateway === 'paystack') add({ type: 'paymentrequest.pending', about: 'pending' });
      addFailedAttempt();
    }
    return { specs, lifecycle: 'unpaid', paid: false, gatewayRefundedMinor: 0 };
  }

  // The money: one capture (told by one or two event types), or for OXA Pay one to three deposits.
  let paid = payment.amountMinor;
  if (gateway === 'oxapay') {
    const count = random.pick([1, 1, 2, 3]);
    figures.deposits += count;
    if (count > 1) figures.multiDepositPayments += 1;
    paid = 0;
    for (let n = 0; n < count; n += 1) {
      const amountMinor = n === 0 ? payment.amountMinor : random.int(1_000, 5_000_000) * 100;
      paid += amountMinor;
      const id = ids.deposit(payment, n);
      if (random.chance(0.4))
        add({ type: 'static_address', about: 'pending', id, status: 'Confirming', amountMinor });
      add({ type: 'static_address', about: 'money_in', id, status: 'Paid', amountMinor });
    }
  } else if (gateway === 'flutterwave') {
    add({ type: 'charge.completed', about: 'money_in', id: payment.gatewayId, status: 'successful' });
  } else if (gateway === 'paystack') {
    add({ type: 'charge.success', about: 'money_in', id: payment.gatewayId });
  } else if (gateway === 'stripe') {
    const both = random.chance(0.4);
    if (both) figures.moneyInTwice += 1;
    const order = random.chance(0.5)
      ? ['payment_intent.succeeded', 'charge.succeeded']
      : ['charge.succeeded', 'payment_intent.succeeded'];
    for (const type of both ? order : [random.pick(order)]) {
      add({ type, about: 'money_in', id: payment.gatewayId });
    }
  } else {
    add({ type: 'payment.captured', about: 'money_in', id: ids.capture(payment) });
    if (random.chance(0.5)) {
      figures.moneyInTwice += 1;
      add({ type: 'order.paid', about: 'money_in', id: ids.capture(payment) });
    }
  }

  if (!REFUNDABLE.has(gateway)) {
    return {
      specs,
      lifecycle: gateway === 'oxapay' && paid !== payment.amountMinor ? 'deposits' : 'paid',
      paid: true,
      gatewayRefundedMinor: 0,
    };
  }

  // Refunds (0-3, partial, or adding up to the whole payment) and disputes, before or after the refunds.
  const refundCount = random.pick([0, 0, 0, 0, 1, 1, 1, 2, 2, 3]);
  const disputeCount = random.chance(0.2) ? (gateway === 'razorpay' && random.chance(0.15) ? 2 : 1) : 0;
  const disputesFirst = random.chance(0.3);
  const subscribed = refundSubscription(random);
  bump(figures.paymentsByRefundCount, String(refundCount));
  // The gateway's running total of refunds, as its payloads report it.
  const counted = new Map<string, number>();
  const runningTotal = () => [...counted.values()].reduce((sum, amount) => sum + amount, 0);
  let disputed = 0;
  const disputes = () => {
    for (let n = 0; n < disputeCount; n += 1) {
      const left = paid - runningTotal();
      if (left <= 0) return;
      disputed += 1;
      figures.disputes += 1;
      if (!disputesFirst && refundCount > 0) figures.chargebacksAfterRefunds += 1;
      const id = ids.dispute(payment, n);
      const outcome = random.pick(['won', 'won', 'lost', 'lost', 'opened']);
      bump(figures.disputesByOutcome, outcome);
      const amountMinor = left;
      const opened = random.chance(0.9) || outcome === 'opened';
      const updated = random.chance(0.4);
      if (gateway === 'stripe') {
        if (opened)
          add({
            type: 'charge.dispute.created',
            about: 'dispute',
            id,
            status: 'needs_response',
            amountMinor,
          });
        if (updated)
          add({ type: 'charge.dispute.updated', about: 'dispute', id, status: 'under_review', amountMinor });
        if (outcome !== 'opened')
          add({ type: 'charge.dispute.closed', about: 'dispute', id, status: outcome, amountMinor });
      } else if (gateway === 'razorpay') {
        if (opened)
          add({ type: 'payment.dispute.created', about: 'dispute', id, status: 'open', amountMinor });
        if (updated)
          add({
            type: 'payment.dispute.under_review',
            about: 'dispute',
            id,
            status: 'under_review',
            amountMinor,
          });
        if (outcome !== 'opened')
          add({ type: `payment.dispute.${outcome}`, about: 'dispute', id, status: outcome, amountMinor });
      } else {
        if (opened)
          add({ type: 'charge.dispute.create', about: 'dispute', id, status: 'opened', amountMinor });
        if (updated)
          add({ type: 'charge.dispute.remind', about: 'dispute', id, status: 'opened', amountMinor });
        if (outcome !== 'opened')
          add({ type: 'charge.dispute.resolve', about: 'dispute', id, status: outcome, amountMinor });
      }
    }
  };
  if (disputesFirst) disputes();
  const full = random.chance(0.35);
  const refundTotal = full ? paid : Math.max(refundCount, Math.floor(paid * (0.05 + 0.85 * random.next())));
  const amounts = refundCount > 0 ? split(random, refundTotal, refundCount) : [];
  let refundedInFull = full && refundCount > 0;
  for (const [n, amountMinor] of amounts.entries()) {
    // Refunds are settled in turn: one is over before the next starts (a dispute takes the rest of the money).
    const roll = random.next();
    const outcome: RefundOutcome =
      roll < 0.1 ? 'failed' : roll < 0.15 && gateway === 'stripe' ? 'reversed' : 'succeeded';
    if (outcome !== 'succeeded') refundedInFull = false;
    figures.refunds += 1;
    bump(figures.refundsByOutcome, outcome);
    const id = ids.refund(payment, n);
    // The refund's life at the gateway, whether or not a webhook tells each step: created (and from then counted in
    // the running total, unless it failed at once), then maybe succeeded, failed or reversed.
    const moments = refundMoments(random, gateway, outcome, subscribed);
    const sent = moments.filter((moment) => moment.sent);
    const told = new Set(sent.map((moment) => moment.type));
    bump(figures.refundsByEventCount, `${told.size} type${told.size === 1 ? '' : 's'}`);
    if (sent.length > 0 && sent.every((moment) => moment.total)) figures.floorOnlyRefunds += 1;
    let inTotals = false;
    if (moments[0]?.status !== 'failed') counted.set(id, amountMinor);
    for (const moment of moments) {
      if (moment.status === 'failed') counted.delete(id);
      if (!moment.sent) continue;
      bump(figures.refundEventTypes, `${gateway} ${moment.type}`);
      if (moment.total && counted.has(id)) inTotals = true;
      if (moment.total) {
        const total = runningTotal();
        add({ type: moment.type, about: 'refund_total', amountMinor: total, refundedMinor: total });
      } else {
        add({
          type: moment.type,
          about: 'refund',
          id,
          status: moment.status,
          amountMinor,
          ...(gateway === 'razorpay' && { refundedMinor: runningTotal() }),
        });
      }
    }
    if (inTotals && outcome !== 'succeeded') figures.failedRefundsInTotals += 1;
  }
  if (refundedInFull) figures.fullyRefundedPayments += 1;
  if (!disputesFirst) disputes();
  if (gateway === 'stripe' && random.chance(0.15)) {
    figures.noise += 1;
    add({ type: 'charge.updated', about: 'noise' });
  }
  const refunded = amounts.length > 0;
  const lifecycle =
    refunded && disputed > 0
      ? 'refunded+disputed'
      : refunded
        ? 'refunded'
        : disputed > 0
          ? 'disputed'
          : 'paid';
  return { specs, lifecycle, paid: true, gatewayRefundedMinor: Math.min(paid, runningTotal()) };
}

export function emptyFigures(): PlanFigures {
  return {
    events: 0,
    deliveries: 0,
    byPriority: {},
    spreads: {},
    burstPayments: 0,
    delayedDeliveries: 0,
    duplicateCopies: 0,
    forged: 0,
    headerReplays: 0,
    pending: 0,
    authorisations: 0,
    failedAttempts: 0,
    unpaid: 0,
    deposits: 0,
    multiDepositPayments: 0,
    moneyInTwice: 0,
    refunds: 0,
    refundsByOutcome: {},
    paymentsByRefundCount: {},
    refundsByEventCount: {},
    refundEventTypes: {},
    floorOnlyRefunds: 0,
    failedRefundsInTotals: 0,
    fullyRefundedPayments: 0,
    disputes: 0,
    disputesByOutcome: {},
    chargebacksAfterRefunds: 0,
    refundsBeforePayment: 0,
    noise: 0,
    expectedStatuses: {},
    refundedUnlikeGateway: 0,
    refundedUnlikeGatewayExamples: [],
    expectedAnnouncements: 0,
    possibleExceptions: 0,
    claimsOfMoney: 0,
    claimsBeforeWebhooks: 0,
    claimsAfterWebhooks: 0,
    claimsOfFailure: 0,
    claimsOfFailureCaptured: 0,
    claimsBesideSignature: 0,
    claimWebhooks: 0,
    claimsSettled: 0,
    claimsLeftOpen: 0,
    claimsKeepingAuthorized: 0,
    payerReferences: {},
    registered: 0,
    registeredBefore: 0,
    registrationRequests: 0,
    registrationsAgain: 0,
    registrationConflicts: {},
    registeredOnly: 0,
  };
}

/** How often each attack of issue #14 is planned (besides once each however small the run). */
const ATTACK_RATES = {
  /** Of Flutterwave payments: an unverified claim of money with a wrong amount. */
  claimOfMoney: 0.07,
  /** Of Flutterwave payments never paid: where a claim could leave a payment `authorized` or undo a failure. */
  claimOfMoneyUnpaid: 0.5,
  /** Of Flutterwave payments: an unverified claim of failure. */
  claimOfFailure: 0.06,
  /** Of Stripe and Razorpay payments: another payment whose payer-chosen reference is this one's id. */
  payerReference: 0.05,
  /** Of payments (but OXA Pay ones paid in several deposits: their money in differs from any one amount on the way). */
  registration: 0.05,
  /** Of Paystack and Flutterwave payments: a registered-only payment naming this one's reference as its gateway id. */
  registeredOnly: 0.02,
} as const;

/** Another currency than the payment's with as many decimals (the amount stays valid), for a conflicting registration. */
const OTHER_CURRENCY: Readonly<Record<string, string>> = { NGN: 'GHS', USD: 'EUR', INR: 'USD', USDT: 'USDC' };

/** Payments the soak adds beside the gateways' lifecycles (payer-referenced, registered only) are numbered from here. */
const EXTRA_INDEX = 1_000_000;

export function buildPlan(options: PlanOptions, random: Random): Plan {
  const run = options.seed.toString(36);
  const payments: PlannedPayment[] = [];
  /** Each phase as units: one step, or a burst (a payment's deliveries kept together). */
  const phases: Step[][][] = [[], []];
  const prelude: RegistrationStep[] = [];
  const sandbox: SandboxRecord[] = [];
  const confirmations: { payment: SoakPayment; phase: number }[] = [];
  const poison: Plan['poison'][number][] = [];
  const figures = emptyFigures();

  let plannedWebhooks = 0;
  const delivery = (
    payment: SoakPayment,
    event: GatewayEvent,
    kind: 'signed' | 'poison' | 'claim' = 'signed',
  ): Delivery => {
    const isPoison = kind === 'poison';
    const roll = random.next();
    const planned: Delivery = {
      kind: 'webhook',
      payment,
      event,
      // 15% are sent again after the first was answered (2-3 times in all), 10% are sent 2-3 times at once.
      sequentialCopies: !isPoison && roll < 0.15 ? random.int(2, 3) : 1,
      concurrentCopies: !isPoison && roll >= 0.15 && roll < 0.25 ? random.int(2, 3) : 0,
      // A claim is unsigned already: there is no signature to tamper with.
      forged: kind !== 'claim' && random.chance(0.02),
      headerReplays:
        payment.gateway === 'razorpay' && kind === 'signed' && random.chance(0.1) ? random.int(1, 2) : 0,
      poison: isPoison,
      delayMs: random.chance(0.15) ? random.int(10, 250) : 0,
    };
    plannedWebhooks += webhooksIn(planned);
    if (kind === 'claim') figures.claimWebhooks += webhooksIn(planned);
    figures.deliveries += 1;
    figures.duplicateCopies += planned.sequentialCopies - 1 + planned.concurrentCopies;
    if (planned.forged) figures.forged += 1;
    figures.headerReplays += planned.headerReplays;
    if (planned.delayMs > 0) figures.delayedDeliveries += 1;
    return planned;
  };
  /** The phases each payment's webhooks went to (for registering it "during" them). */
  const phasesOf = new Map<SoakPayment, Set<0 | 1>>();
  /** Queues a payment's steps for a phase: one by one among everyone's, or as one burst. */
  const enqueue = (which: 0 | 1, steps: Step[], burst: boolean) => {
    if (steps.length === 0) return;
    for (const step of steps) {
      if (step.kind === 'webhook')
        phasesOf.set(step.payment, (phasesOf.get(step.payment) ?? new Set()).add(which));
    }
    const phase = phases[which] ?? [];
    if (burst) phase.push(shuffle(random, steps));
    else for (const one of steps) phase.push([one]);
  };
  const addPlanned = (planned: PlannedPayment) => {
    const { model, events } = planned;
    bump(figures.spreads, planned.spread);
    figures.events += events.length;
    for (const event of events) bump(figures.byPriority, event.priority);
    bump(figures.expectedStatuses, model.status);
    figures.expectedAnnouncements += model.announcements.length;
    figures.possibleExceptions += model.possibleExceptions.length;
    payments.push(planned);
  };

  const countRegistration = (step: RegistrationStep) => {
    figures.registrationRequests += step.firstCopies + step.again + step.conflicts.length;
    figures.registrationsAgain += step.again;
    for (const conflict of step.conflicts) bump(figures.registrationConflicts, conflict.field);
  };
  /**
   * Registers a payment (`POST /payments`) before anything is sent, or during its webhooks (among its phase's), and
   * sometimes again in the second phase; conflicting registrations come only after the first was answered, so which
   * expectation is "the first" never depends on timing. Returns the expectation the record must keep.
   */
  const planRegistration = (
    payment: SoakPayment,
    amountMinor: number,
    during: 0 | 1,
    gatewayPaymentId: string | undefined,
  ): NonNullable<ModelExtras['expected']> => {
    const otherAmount = (): RegistrationConflict => ({
      field: 'amount',
      amountMinor: random.pick([100, amountMinor * 2, amountMinor + 1]),
      currency: payment.currency,
    });
    const otherCurrency = (): RegistrationConflict => ({
      field: 'currency',
      amountMinor,
      currency: OTHER_CURRENCY[payment.currency] ?? 'EUR',
    });
    const roll = random.next();
    const conflicts =
      figures.registered === 0
        ? [otherAmount(), otherCurrency()]
        : roll < 0.45
          ? [otherAmount()]
          : roll < 0.7
            ? [otherCurrency()]
            : roll < 0.85
              ? [otherAmount(), otherCurrency()]
              : [];
    const step: RegistrationStep = {
      kind: 'registration',
      payment,
      amountMinor,
      currency: payment.currency,
      ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
      amountAs: random.chance(0.5) ? 'major' : 'minor',
      firstCopies: random.pick([1, 1, 2, 3]),
      again: random.int(1, 2),
      conflicts,
      delayMs: random.chance(0.3) ? random.int(10, 250) : 0,
    };
    figures.registered += 1;
    countRegistration(step);
    const before = random.chance(0.35);
    if (before) {
      figures.registeredBefore += 1;
      prelude.push(step);
    } else {
      enqueue(during, [step], false);
    }
    // Registered again a phase later (only where the first surely came before): still the first expectation.
    if ((before || during === 0) && random.chance(0.3)) {
      const later: RegistrationStep = {
        ...step,
        firstCopies: 0,
        again: 1,
        conflicts: random.chance(0.5) ? [otherAmount()] : [],
        delayMs: 0,
      };
      countRegistration(later);
      enqueue(1, [later], false);
    }
    return { amountMinor, currency: payment.currency };
  };

  let extras = 0;
  let halfwayPoisoned = false;
  for (let index = 0; plannedWebhooks < options.webhooks; index += 1) {
    const gateway = SOAK_GATEWAYS[index % SOAK_GATEWAYS.length] ?? 'paystack';
    const payment = makePayment(
      gateway,
      index,
      run,
      gateway === 'oxapay' ? random.int(1_000, 5_000_000) * 100 : random.int(100, 500_000) * 10,
    );
    // At least two poison messages however small the run: the first payment and the first past halfway.
    const mustPoison = index === 0 || (!halfwayPoisoned && plannedWebhooks >= options.webhooks / 2);
    if (mustPoison && index > 0) halfwayPoisoned = true;
    const drafted = draftLifecycle(random, payment, figures, mustPoison);
    const events = drafted.specs.map((spec) => buildEvent(payment, spec));
    const poisonable = drafted.paid && (mustPoison || random.chance(0.01));
    const hasRefunds = events.some(
      (event) => event.spec.about === 'refund' || event.spec.about === 'refund_total',
    );
    // Claims are about Flutterwave payments (the gateway with an unsigned scheme); at least one of each kind (of
    // money before the webhooks, of money after them, of failure) however small the run.
    const claimable = gateway === 'flutterwave' && !poisonable;
    const claimOfMoney =
      claimable &&
      (figures.claimsBeforeWebhooks === 0 ||
        figures.claimsAfterWebhooks === 0 ||
        random.chance(drafted.paid ? ATTACK_RATES.claimOfMoney : ATTACK_RATES.claimOfMoneyUnpaid));
    const claimBefore =
      claimOfMoney &&
      (figures.claimsBeforeWebhooks === 0
        ? true
        : figures.claimsAfterWebhooks === 0
          ? false
          : random.chance(0.5));
    const claimOfFailure =
      claimable && (figures.claimsOfFailure === 0 || random.chance(ATTACK_RATES.claimOfFailure));
    let spread: Spread;
    if (poisonable) spread = 'poison';
    else if (claimBefore) spread = 'claim-first';
    else if (claimOfMoney) spread = 'shuffled';
    else if (hasRefunds && random.chance(0.25)) spread = 'refunds-first';
    else if (events.length > 1 && random.chance(0.25)) spread = 'staged';
    else spread = 'shuffled';
    const burst = random.chance(0.2);
    if (burst) figures.burstPayments += 1;

    const sends = events.map((event) => delivery(payment, event));
    if (spread === 'staged') {
      const cut = random.int(1, events.length - 1);
      enqueue(0, sends.slice(0, cut), burst);
      enqueue(1, sends.slice(cut), burst);
    } else if (spread === 'refunds-first') {
      figures.refundsBeforePayment += 1;
      const early = (one: Delivery) => ['refund', 'refund_total', 'dispute'].includes(one.event.spec.about);
      enqueue(0, sends.filter(early), burst);
      enqueue(
        1,
        sends.filter((one) => !early(one)),
        burst,
      );
    } else if (spread === 'claim-first') {
      enqueue(1, sends, burst);
    } else {
      enqueue(0, sends, burst);
    }
    if (spread === 'poison') {
      // The same event id, another amount: never applied, dead-lettered on the event's own priority queue. Usually
      // the money in; a refund where there is one, half the time.
      const refunds = events.filter((event) => event.spec.about === 'refund');
      const moneyIn = events.find((event) => event.spec.about === 'money_in');
      const target = refunds.length > 0 && (random.chance(0.5) || !moneyIn) ? random.pick(refunds) : moneyIn;
      if (target === undefined) throw new Error('soak: a poisoned payment without money in');
      const replay = delivery(
        payment,
        buildEvent(payment, target.spec, {
          amountMinor: (target.spec.amountMinor ?? payment.amountMinor) + 100,
        }),
        'poison',
      );
      enqueue(1, [replay], false);
      poison.push({ delivery: replay, priority: target.priority });
    }

    // Unverified claims: sent with the leaked verif-hash, never signed.
    const claims: GatewayEvent[] = [];
    let verifiedAnswer: Told | undefined;
    if (claimOfMoney) {
      figures.claimsOfMoney += 1;
      const genuine = events.find((event) => event.spec.about === 'money_in')?.spec ?? {
        type: 'charge.completed',
        about: 'money_in',
        id: payment.gatewayId,
        status: 'successful',
        seq: events.length,
      };
      const beside = random.chance(0.5);
      if (beside) figures.claimsBesideSignature += 1;
      const claim = flutterwaveClaim(payment, genuine, 'money', {
        amountMinor: random.pick([100, payment.amountMinor * 10, payment.amountMinor - 10]),
        beside,
      });
      claims.push(claim);
      const phase = claimBefore ? 0 : 1;
      if (claimBefore) figures.claimsBeforeWebhooks += 1;
      else figures.claimsAfterWebhooks += 1;
      enqueue(phase, [delivery(payment, claim, 'claim')], false);
      // What Flutterwave's verify API answers for the reference: its latest transaction (the money, else the failed
      // attempt, else the pending one).
      const latest = events.at(-1)?.spec;
      const status = latest?.status;
      const id = latest?.id;
      if (latest === undefined || status === undefined || id === undefined) {
        throw new Error('soak: a Flutterwave payment without a transaction');
      }
      const amountMinor = latest.amountMinor ?? payment.amountMinor;
      sandbox.push({
        gateway: 'flutterwave',
        payment: {
          status,
          amount: majorText(amountMinor, MINOR_DIGITS[payment.currency] ?? 2),
          currency: payment.currency,
          reference: payment.reference,
          id,
        },
      });
      // The reconciler asks (after the claim's phase was drained) only while no money is in; a pending answer
      // settles nothing, so the claim stays open.
      const moneyByThen = !claimBefore && events.some((event) => event.truth.fact?.type === 'money_in');
      if (!moneyByThen && status !== 'pending') {
        verifiedAnswer =
          status === 'successful'
            ? { type: 'money_in', id, state: 'received', amountMinor }
            : { type: 'attempt', id, state: 'failed', amountMinor };
        confirmations.push({ payment, phase });
        figures.claimsSettled += 1;
      } else {
        figures.claimsLeftOpen += 1;
        if (!moneyByThen) figures.claimsKeepingAuthorized += 1;
      }
    }
    if (claimOfFailure) {
      figures.claimsOfFailure += 1;
      // The exact body of the payment's genuine failed attempt where it had one (captured: only the signature is
      // missing), else one made up about the payment itself.
      const failed = events.find((event) => event.spec.about === 'attempt' && event.spec.status === 'failed');
      if (failed) figures.claimsOfFailureCaptured += 1;
      const claim = flutterwaveClaim(
        payment,
        failed?.spec ?? {
          type: 'charge.completed',
          about: 'attempt',
          id: payment.gatewayId,
          status: 'failed',
          seq: events.length + 1,
        },
        'failure',
        { beside: false },
      );
      claims.push(claim);
      enqueue(random.chance(0.5) ? 0 : 1, [delivery(payment, claim, 'claim')], false);
    }

    // Registrations of what will arrive (so the status is as without one): never an OXA Pay payment paid in several
    // deposits, whose money in differs from any single expectation until the last deposit.
    const base = modelPayment(payment, events);
    let expected: ModelExtras['expected'];
    if (
      drafted.lifecycle !== 'deposits' &&
      (figures.registered === 0 || random.chance(ATTACK_RATES.registration))
    ) {
      const used = phasesOf.get(payment) ?? new Set([0]);
      expected = planRegistration(
        payment,
        base.paidMinor === null ? payment.amountMinor : Number(base.paidMinor),
        used.has(0) ? 0 : 1,
        gateway === 'stripe' || gateway === 'razorpay' || gateway === 'oxapay'
          ? payment.gatewayId
          : undefined,
      );
    }

    const model = modelPayment(payment, events, {
      claims,
      ...(verifiedAnswer && { verifiedAnswer }),
      ...(expected && { expected }),
    });
    const gatewayRefunded = drafted.gatewayRefundedMinor > 0 ? String(drafted.gatewayRefundedMinor) : null;
    if (model.refundedMinor !== gatewayRefunded) {
      figures.refundedUnlikeGateway += 1;
      if (figures.refundedUnlikeGatewayExamples.length < 3) {
        figures.refundedUnlikeGatewayExamples.push(
          `${payment.gateway} ${payment.key}: payhook ${model.refundedMinor ?? 0}, gateway ${gatewayRefunded ?? 0} (${events
            .filter((event) => event.spec.about === 'refund' || event.spec.about === 'refund_total')
            .map(
              (event) => `${event.step}${event.spec.id ? ` ${event.spec.id}` : ''} ${event.spec.amountMinor}`,
            )
            .join(', ')})`,
        );
      }
    }
    addPlanned({
      payment,
      lifecycle: spread === 'poison' ? 'poison' : drafted.lifecycle,
      spread,
      events,
      model,
      gatewayRefundedMinor: drafted.gatewayRefundedMinor,
      claims,
    });

    // Another payment whose payer-chosen reference is this one's id: its own record, this one unchanged.
    if (
      (gateway === 'stripe' || gateway === 'razorpay') &&
      (figures.payerReferences[gateway] === undefined || random.chance(ATTACK_RATES.payerReference))
    ) {
      const other = makePayerReferencedPayment(
        gateway,
        EXTRA_INDEX + extras,
        run,
        random.int(1, 100) * 100,
        payment,
      );
      extras += 1;
      const specs: EventSpec[] =
        gateway === 'stripe'
          ? random.chance(0.7)
            ? [{ type: 'checkout.session.completed', about: 'session', status: 'paid', seq: 0 }]
            : [
                // An asynchronous method (a bank debit): completed unpaid, then paid.
                { type: 'checkout.session.completed', about: 'session', status: 'unpaid', seq: 0 },
                {
                  type: 'checkout.session.async_payment_succeeded',
                  about: 'session',
                  status: 'paid',
                  seq: 1,
                },
              ]
          : [
              ...(random.chance(0.5)
                ? [{ type: 'payment.authorized', about: 'attempt', id: other.gatewayId, seq: 0 } as const]
                : []),
              { type: 'payment.captured', about: 'money_in', id: other.gatewayId, seq: 1 },
            ];
      const otherEvents = specs.map((spec) => buildEvent(other, spec));
      enqueue(
        random.chance(0.5) ? 0 : 1,
        otherEvents.map((event) => delivery(other, event)),
        random.chance(0.2),
      );
      bump(figures.payerReferences, gateway);
      addPlanned({
        payment: other,
        lifecycle: 'payer-reference',
        spread: 'shuffled',
        events: otherEvents,
        model: modelPayment(other, otherEvents),
        gatewayRefundedMinor: 0,
        claims: [],
        names: payment,
      });
    }

    // A payment only registered, whose gateway id is this one's reference: it must not touch this one.
    if (
      (gateway === 'paystack' || gateway === 'flutterwave') &&
      (figures.registeredOnly === 0 || random.chance(ATTACK_RATES.registeredOnly))
    ) {
      const only = makeRegisteredOnlyPayment(
        gateway,
        EXTRA_INDEX + extras,
        run,
        random.int(100, 500_000) * 10,
      );
      extras += 1;
      figures.registeredOnly += 1;
      const onlyExpected = planRegistration(only, only.amountMinor, 0, payment.reference);
      addPlanned({
        payment: only,
        lifecycle: 'registered-only',
        spread: 'none',
        events: [],
        model: modelPayment(only, [], { expected: onlyExpected }),
        gatewayRefundedMinor: 0,
        claims: [],
        names: payment,
      });
    }
  }
  // Shuffle each phase (Fisher-Yates), so gateways, lifecycles and a payment's own events interleave.
  return {
    seed: options.seed,
    payments,
    prelude,
    phases: phases.map((units) => shuffle(random, units).flat()),
    sandbox,
    confirmations,
    poison,
    figures,
  };
}
