import { isIso4217, type Money } from './money.js';
import type { EventKind, EventMode, GatewayName, WebhookEvent } from './webhook-event.js';

export const PAYMENT_STATUSES = [
  'pending',
  'authorized',
  'succeeded',
  'failed',
  'expired',
  'amount_mismatch',
  'partially_refunded',
  'refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** How many recently applied event ids a payment remembers, to recognise its own announcements after a crash. */
export const RECENT_EVENTS_KEPT = 25;

/** How many event ids one fact keeps (the smallest, so the list does not depend on arrival order). */
export const EVENT_IDS_KEPT = 10;

/**
 * The facts a payment is made of. Each is keyed by the gateway's own identity of the thing it describes (a capture or
 * deposit, a refund, a dispute, an attempt) and records every state the gateways reported for it: the record is the
 * union of what it was told, so it does not depend on the order it was told in.
 */
export type RefundState = 'pending' | 'succeeded' | 'failed';
export type DisputeState = 'opened' | 'lost' | 'won';
export type AttemptState = 'authorized' | 'failed' | 'expired';

/** What every fact has: the gateway's id for it, its money, and the events that told us. */
export interface Fact {
  readonly id: string;
  /** Absent when no event about it carried an amount. */
  readonly money?: Money;
  /** Event ids that told us (at most {@link EVENT_IDS_KEPT}, smallest first). */
  readonly eventIds: readonly string[];
  /**
   * Read from a payment item of the previous format, which kept no id: the first real fact of its kind that arrives
   * takes its place (and what was announced of it).
   */
  readonly upgraded?: true;
}

/** A fact that goes through states: every state reported is kept, and its state derived from them. */
export interface StatedFact<S extends string> extends Fact {
  readonly states: readonly S[];
}

/** Money that arrived: one capture, charge or deposit. */
export type MoneyInFact = Fact;

/** A refund; its state is derived from every state reported (see {@link refundState}). */
export type RefundFact = StatedFact<RefundState>;

export type DisputeFact = StatedFact<DisputeState>;

/** An attempt at paying that moved no money: authorised (a hold), failed or expired. */
export interface AttemptFact extends StatedFact<AttemptState> {
  /**
   * An unverified claim of money (Flutterwave `verif-hash`), for the reconciler to confirm: a marker, not a fact. It
   * announces nothing, ranks only above `pending`, and waits until the gateway's verified answer settles it.
   */
  readonly claim?: true;
  /** The gateway's verified answer about this claim has been applied (see `WebhookEvent.settlesClaims`). */
  readonly settled?: true;
}

/** What one applied event announced, remembered so a retry after a crash publishes exactly the same again. */
export interface Announcement {
  readonly fact: FactRef;
  /** The detail-type's status word: `payment.<to>`. */
  readonly to: PaymentStatus;
  readonly money?: Money;
}

export type FactType = 'money_in' | 'refund' | 'refund_total' | 'dispute' | 'attempt' | 'expectation';

/** One fact in one state: what an announcement is about, and what its id is derived from. */
export interface FactRef {
  readonly type: FactType;
  readonly id: string;
  readonly state: string;
}

export interface RecentEvent {
  readonly eventId: string;
  /** The status before and after the event (equal when it changed nothing of the status). */
  readonly from: PaymentStatus | null;
  readonly to: PaymentStatus;
  readonly announced: readonly Announcement[];
  /** Money in and refunded once the event was applied (what its announcements carry), while money has arrived. */
  readonly paid?: Money;
  readonly refundedMinor?: bigint;
  /** What the announcements carry besides: kept so that a re-publish after a crash is identical. */
  readonly occurredAt?: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
}

/** One payment, as the consumers keep it: its facts, and the status derived from them. */
export interface Payment {
  readonly gateway: GatewayName;
  /** The key the record is found by within its gateway (see `paymentKeyOf`). */
  readonly paymentKey: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  /** Derived from the facts ({@link deriveStatus}); stored for the indexes and readers. */
  readonly status: PaymentStatus;
  /** Bumped by every write; writes are conditional on it, so two racing events cannot both win. */
  readonly version: number;
  readonly mode: EventMode;
  /** The amount the merchant registered as expected (reconciliation), if any. */
  readonly expected?: Money;
  readonly moneyIn: readonly MoneyInFact[];
  readonly refunds: readonly RefundFact[];
  readonly disputes: readonly DisputeFact[];
  readonly attempts: readonly AttemptFact[];
  /**
   * The largest running total of refunds a gateway reported (Stripe `charge.refunded` `amount_refunded`): the
   * refunded total is at least this, whichever refunds it is made of.
   */
  readonly refundedFloor?: Money;
  /** When the payment entered `pending` (or awaiting confirmation), while it is: the reconciler's index. */
  readonly pendingSince?: string;
  /** When a pending payment stops being payable (registered; else the reconciler's default applies). */
  readonly expiresAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The last {@link RECENT_EVENTS_KEPT} applied events and what they announced, newest last. */
  readonly recentEvents: readonly RecentEvent[];
  /**
   * Every fact (in a state) announced so far: a fact is announced once, even if it stops and starts being
   * announceable again (a running total that exceeded the known refunds, then did not, then did after a reversal).
   */
  readonly announced: readonly FactRef[];
}

/** Event data that cannot describe a real payment change: a permanent error, dead-lettered for a human. */
export class ImpossibleEventError extends Error {
  override readonly name = 'ImpossibleEventError';
}

/**
 * Which identifier a gateway's payment record is keyed by: the one every event about that payment carries.
 * Stripe and Razorpay events always carry the gateway's id (PaymentIntent; order else payment), while the merchant's
 * reference lives in optional metadata; the other gateways always carry the merchant's reference.
 */
const KEY_PREFERENCE: Readonly<Record<GatewayName, 'reference' | 'gatewayPaymentId'>> = {
  paystack: 'reference',
  flutterwave: 'reference',
  oxapay: 'reference',
  adyen: 'reference',
  standard: 'reference',
  stripe: 'gatewayPaymentId',
  razorpay: 'gatewayPaymentId',
};

/**
 * The mark that starts every payment key not made of the gateway's preferred identifier as it is. The preferred
 * identifier is the key itself (so existing records keep their keys) unless it starts with the mark; the other kind of
 * identifier, used only when an event lacks the preferred one, is always marked with its kind. So within a gateway
 * a merchant reference and a gateway id can never share a key: a Paystack event naming only transaction `4975361`
 * is `@id:4975361`, never the payment whose reference is `4975361`.
 */
export const PAYMENT_KEY_MARK = '@';

const KEY_KIND_LABEL: Readonly<Record<'reference' | 'gatewayPaymentId', string>> = {
  reference: 'ref',
  gatewayPaymentId: 'id',
};

type PaymentIdentifiers = Pick<WebhookEvent, 'gateway' | 'reference' | 'gatewayPaymentId'>;

export function paymentKeyOf(event: PaymentIdentifiers): string | undefined {
  const preferred = KEY_PREFERENCE[event.gateway];
  const other = preferred === 'reference' ? 'gatewayPaymentId' : 'reference';
  const own = event[preferred];
  if (own !== undefined) {
    return own.startsWith(PAYMENT_KEY_MARK) ? `${PAYMENT_KEY_MARK}${KEY_KIND_LABEL[preferred]}:${own}` : own;
  }
  const fallback = event[other];
  return fallback === undefined ? undefined : `${PAYMENT_KEY_MARK}${KEY_KIND_LABEL[other]}:${fallback}`;
}

/**
 * Stripe ids that earlier releases did not take as a payment's identity: a Checkout Session or a charge made without
 * a PaymentIntent was keyed by its merchant reference (`client_reference_id` included) instead.
 */
const ONCE_KEYED_BY_REFERENCE = /^(cs|ch|py)_/;

/**
 * The keys earlier releases gave the same identifiers, where a record they wrote may still live (today's key
 * excluded): the preferred identifier, else the other, both as they were (before {@link PAYMENT_KEY_MARK}); and a
 * Stripe session's or charge's reference (before such payments were keyed by Stripe's id).
 */
export function previousPaymentKeysOf(event: PaymentIdentifiers): string[] {
  const unmarked =
    KEY_PREFERENCE[event.gateway] === 'reference'
      ? (event.reference ?? event.gatewayPaymentId)
      : (event.gatewayPaymentId ?? event.reference);
  const byReference =
    event.gateway === 'stripe' &&
    event.gatewayPaymentId !== undefined &&
    ONCE_KEYED_BY_REFERENCE.test(event.gatewayPaymentId)
      ? event.reference
      : undefined;
  const today = paymentKeyOf(event);
  return [...new Set([unmarked, byReference])].filter(
    (key): key is string => key !== undefined && key !== today,
  );
}

/**
 * Whether a record stored under a previous key is the payment these identifiers name today: its own identifiers give
 * the same key (a record keyed by reference `4975361` is not the payment an event naming only transaction `4975361`
 * is about, though earlier releases gave both that key); or, for a record keyed by a reference alone, one of its facts
 * carries the gateway id this event names (a Stripe session's money was named by the session's id). A reference alone
 * never matches: the payer may have chosen it.
 */
export function isPaymentNamed(payment: Payment, event: PaymentIdentifiers): boolean {
  const key = paymentKeyOf(event);
  if (key === undefined) return false;
  const own = paymentKeyOf({
    gateway: payment.gateway,
    ...(payment.reference !== undefined && { reference: payment.reference }),
    ...(payment.gatewayPaymentId !== undefined && { gatewayPaymentId: payment.gatewayPaymentId }),
  });
  if (own === key) return true;
  const id = event.gatewayPaymentId;
  if (payment.gatewayPaymentId !== undefined || id === undefined) return false;
  return [...payment.moneyIn, ...payment.attempts].some((fact) => fact.id === id);
}

/** Kinds that say nothing about a payment's facts; they are kept in the history only. */
const HISTORY_ONLY: ReadonlySet<EventKind> = new Set(['dispute.updated', 'other']);

export function affectsStatus(kind: EventKind): boolean {
  return !HISTORY_ONLY.has(kind);
}

export function sameMoney(a: Money, b: Money): boolean {
  return (
    a.currency === b.currency &&
    a.amountMinor * 10n ** BigInt(b.exponent) === b.amountMinor * 10n ** BigInt(a.exponent)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Derived values
// ---------------------------------------------------------------------------------------------------------------

/** A refund's state from every state reported: `reversed` when it succeeded and then failed (money came back). */
export function refundState(fact: Pick<RefundFact, 'states'>): RefundState | 'reversed' {
  const has = (state: RefundState) => fact.states.includes(state);
  if (has('succeeded') && has('failed')) return 'reversed';
  if (has('succeeded')) return 'succeeded';
  if (has('failed')) return 'failed';
  return 'pending';
}

/**
 * A dispute's state: a `won` outranks a `lost` (Adyen reverses a chargeback with CHARGEBACK_REVERSED; a later
 * second chargeback is a dispute of its own), and either outranks `opened`.
 */
export function disputeState(fact: Pick<DisputeFact, 'states'>): DisputeState {
  if (fact.states.includes('won')) return 'won';
  if (fact.states.includes('lost')) return 'lost';
  return 'opened';
}

/**
 * An attempt's state: once it failed or expired it has ended, whatever authorisation came before (a hold released,
 * a cancelled intent); failed outranks expired.
 */
export function attemptState(fact: Pick<AttemptFact, 'states'>): AttemptState {
  if (fact.states.includes('failed')) return 'failed';
  if (fact.states.includes('expired')) return 'expired';
  return 'authorized';
}

/** Sum of the money in, or `undefined` when there is none or some of it has no amount. */
export function paidTotal(payment: Pick<Payment, 'moneyIn'>): Money | undefined {
  return sumMoney(payment.moneyIn.map((fact) => fact.money));
}

function sumMoney(amounts: readonly (Money | undefined)[]): Money | undefined {
  let total: Money | undefined;
  for (const money of amounts) {
    if (money === undefined) return undefined;
    total = total === undefined ? money : { ...total, amountMinor: total.amountMinor + money.amountMinor };
  }
  return total;
}

/** The refunds that count: succeeded and not reversed. */
function countedRefunds(payment: Pick<Payment, 'refunds'>): readonly RefundFact[] {
  return payment.refunds.filter((fact) => refundState(fact) === 'succeeded');
}

function itemisedRefundedMinor(payment: Pick<Payment, 'refunds'>): bigint {
  return countedRefunds(payment).reduce((sum, fact) => sum + (fact.money?.amountMinor ?? 0n), 0n);
}

/** Refunds that failed (or were reversed): a running total reported while they were under way counted them. */
function failedRefundedMinor(payment: Pick<Payment, 'refunds'>): bigint {
  return payment.refunds
    .filter((fact) => fact.states.includes('failed'))
    .reduce((sum, fact) => sum + (fact.money?.amountMinor ?? 0n), 0n);
}

/** Refunds succeeded or still under way: what a gateway's running total can be made of. */
function knownRefundedMinor(payment: Pick<Payment, 'refunds'>): bigint {
  return payment.refunds
    .filter((fact) => !fact.states.includes('failed'))
    .reduce((sum, fact) => sum + (fact.money?.amountMinor ?? 0n), 0n);
}

/**
 * The refunded total in minor units: the larger of the refunds we know of and the largest running total a gateway
 * reported (less the refunds known to have failed, which a total reported while they were under way counted), never
 * more than the money in (nothing, while no money has arrived). When some money in has no amount the cap is unknown
 * and the total is left uncapped.
 */
export function refundedTotalMinor(payment: Pick<Payment, 'moneyIn' | 'refunds' | 'refundedFloor'>): bigint {
  const itemised = itemisedRefundedMinor(payment);
  const floor = (payment.refundedFloor?.amountMinor ?? 0n) - failedRefundedMinor(payment);
  const total = itemised > floor ? itemised : floor;
  if (payment.moneyIn.length === 0) return 0n;
  const paid = paidTotal(payment);
  if (paid === undefined) return total;
  return total > paid.amountMinor ? paid.amountMinor : total;
}

/** Money in differs from the registered expectation. */
export function expectationMismatch(payment: Pick<Payment, 'moneyIn' | 'expected'>): boolean {
  const paid = paidTotal(payment);
  return payment.expected !== undefined && paid !== undefined && !sameMoney(paid, payment.expected);
}

/** An unverified claim of money still waiting for the gateway's word: the reconciler keeps asking. */
export function awaitingConfirmation(payment: Pick<Payment, 'moneyIn' | 'attempts'>): boolean {
  return payment.moneyIn.length === 0 && payment.attempts.some(isOpenClaim);
}

/** An unverified claim the gateway's verified answer has not settled yet. */
function isOpenClaim(fact: AttemptFact): boolean {
  return fact.claim === true && fact.settled !== true;
}

/** The claims still waiting for the gateway's word: what the reconciler's answer settles. */
export function openClaimIds(payment: Pick<Payment, 'attempts'>): string[] {
  return payment.attempts.filter(isOpenClaim).map((fact) => fact.id);
}

/** The money an unverified claim said arrived, for the reconciler to compare with the gateway's answer. */
export function claimedMoney(payment: Pick<Payment, 'attempts'>): Money | undefined {
  return payment.attempts.find((fact) => isOpenClaim(fact) && fact.money !== undefined)?.money;
}

/**
 * The status, from the facts alone; the first rule that holds wins (the README's table):
 * a dispute open, a dispute lost, refunded in full, refunded in part, a dispute won, money in that differs from the
 * expectation, money in, an authorisation, a failure or an expiry, else pending.
 */
export function deriveStatus(
  payment: Pick<Payment, 'moneyIn' | 'refunds' | 'disputes' | 'attempts' | 'refundedFloor' | 'expected'>,
): PaymentStatus {
  const disputes = payment.disputes.map(disputeState);
  if (disputes.includes('opened')) return 'disputed';
  if (disputes.includes('lost')) return 'dispute_lost';
  const refunded = refundedTotalMinor(payment);
  const paid = paidTotal(payment);
  if (refunded > 0n && paid !== undefined && refunded >= paid.amountMinor) return 'refunded';
  if (refunded > 0n) return 'partially_refunded';
  if (disputes.includes('won')) return 'dispute_won';
  if (payment.moneyIn.length > 0) return expectationMismatch(payment) ? 'amount_mismatch' : 'succeeded';
  // Across attempts: one still authorised outranks others that failed (a retry after a declined card). Unverified
  // claims are not attempts: an open one ranks only above pending, so a forged claim cannot undo a failure.
  const verified = payment.attempts.filter((fact) => fact.claim !== true);
  const attempts = verified.map(attemptState);
  if (attempts.includes('authorized')) return 'authorized';
  if (attempts.includes('failed')) return 'failed';
  if (attempts.includes('expired')) return 'expired';
  if (payment.attempts.some(isOpenClaim)) return 'authorized';
  return 'pending';
}

/**
 * What a payment announces in its present state: each fact in each state, keyed by {@link factKey}. `settle`
 * publishes those not announced before, so each is published once, when it first appears.
 */
export function announceable(payment: Payment): Announcement[] {
  const found: Announcement[] = [];
  const paidSoFar = payment.moneyIn.length > 0;
  for (const fact of payment.moneyIn) {
    const money = fact.money ? { money: fact.money } : {};
    found.push({ fact: { type: 'money_in', id: fact.id, state: 'received' }, to: 'succeeded', ...money });
  }
  // Money in that differs from the expectation (whichever came first): the expectation is the fact announced.
  const { expected } = payment;
  if (expected !== undefined && expectationMismatch(payment)) {
    // Its money is the expectation's; the money that arrived is in the announcement's `paid`.
    found.push({
      fact: { type: 'expectation', id: moneyKey(expected), state: 'mismatch' },
      to: 'amount_mismatch',
      money: expected,
    });
  }
  // Refunds are announced once there is money in to refund: a refund seen first waits for its payment.
  if (paidSoFar) {
    const refundTo = refundedStatus(payment);
    for (const fact of payment.refunds) {
      const state = refundState(fact);
      const money = fact.money ? { money: fact.money } : {};
      if (state === 'succeeded' || state === 'reversed') {
        found.push({ fact: { type: 'refund', id: fact.id, state: 'succeeded' }, to: refundTo, ...money });
      }
      if (state === 'reversed') {
        found.push({ fact: { type: 'refund', id: fact.id, state: 'reversed' }, to: refundTo, ...money });
      }
    }
    // A running total says something new only beyond the refunds known (under way ones included).
    const floor = payment.refundedFloor;
    if (floor !== undefined && floor.amountMinor > knownRefundedMinor(payment)) {
      found.push({
        fact: { type: 'refund_total', id: floor.amountMinor.toString(), state: 'succeeded' },
        to: refundTo,
        money: floor,
      });
    }
  }
  for (const fact of payment.disputes) {
    const money = fact.money ? { money: fact.money } : {};
    for (const state of fact.states) {
      const to = state === 'opened' ? 'disputed' : state === 'won' ? 'dispute_won' : 'dispute_lost';
      found.push({ fact: { type: 'dispute', id: fact.id, state }, to, ...money });
    }
  }
  // Authorisations, failures and expiries matter only while no money has arrived.
  if (!paidSoFar) {
    // An unverified claim announces nothing: only what the gateway confirms does.
    for (const fact of payment.attempts.filter((attempt) => attempt.claim !== true)) {
      const money = fact.money ? { money: fact.money } : {};
      for (const state of fact.states) {
        found.push({ fact: { type: 'attempt', id: fact.id, state }, to: state, ...money });
      }
    }
  }
  return found;
}

function moneyKey(money: Money): string {
  return `${money.amountMinor}:${money.currency}:${money.exponent}`;
}

/** `refunded` when the refunded total reaches the money in, else `partially_refunded`. */
function refundedStatus(payment: Payment): PaymentStatus {
  const paid = paidTotal(payment);
  const refunded = refundedTotalMinor(payment);
  return paid !== undefined && refunded > 0n && refunded >= paid.amountMinor
    ? 'refunded'
    : 'partially_refunded';
}

export function factKey(fact: FactRef): string {
  return `${fact.type}\n${fact.id}\n${fact.state}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Folding one event into the facts
// ---------------------------------------------------------------------------------------------------------------

/** Adds an id to a sorted list, keeping the smallest {@link EVENT_IDS_KEPT}: the same whatever the arrival order. */
function withEventId(eventIds: readonly string[], eventId: string): readonly string[] {
  if (eventIds.includes(eventId)) return eventIds;
  return [...eventIds, eventId].sort().slice(0, EVENT_IDS_KEPT);
}

function withState<S extends string>(states: readonly S[], state: S): readonly S[] {
  return states.includes(state) ? states : [...states, state].sort();
}

/** The larger of two amounts of one fact (events about one thing should agree; if not, the result is still unique). */
function largerMoney(a: Money | undefined, b: Money | undefined): Money | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.amountMinor > a.amountMinor ? b : a;
}

/** Merges an event into the fact with `id` (creating it), keeping the list sorted by id. */
function upsert<F extends Fact>(
  facts: readonly F[],
  id: string,
  merge: (existing: F | undefined) => F,
): readonly F[] {
  const existing = facts.find((fact) => fact.id === id);
  const merged = merge(existing);
  return [...facts.filter((fact) => fact.id !== id), merged].sort((a, b) => compareText(a.id, b.id));
}

/** One fact told (again) by an event: the larger money, the event id added, a stand-in kept as such. */
function told(fact: Fact | undefined, id: string, event: WebhookEvent): Fact {
  const money = largerMoney(fact?.money, event.money);
  return {
    id,
    ...(money && { money }),
    eventIds: withEventId(fact?.eventIds ?? [], event.eventId),
    ...(fact?.upgraded && { upgraded: true as const }),
  };
}

/** One fact told (again) in a state: {@link told}, with the state added to those reported. */
function toldIn<S extends string>(
  fact: StatedFact<S> | undefined,
  id: string,
  event: WebhookEvent,
  state: S,
): StatedFact<S> {
  return { ...told(fact, id, event), states: withState(fact?.states ?? [], state) };
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** The gateway's id of what the event is about; where the adapter found none, the payment (or the event) itself. */
function factIdOf(event: WebhookEvent, paymentKey: string): string {
  // Each unverified claim is its own marker, named by its own (synthetic, body-digest) id, never by an id its
  // unsigned body chose.
  if (event.needsConfirmation) return event.eventId;
  if (event.factId !== undefined) return event.factId;
  if (event.kind.startsWith('refund.')) return event.eventId;
  return event.gatewayPaymentId ?? paymentKey;
}

function checkCurrency(event: WebhookEvent, money: Money | undefined, facts: Payment): void {
  if (money === undefined) return;
  const others = [
    ...facts.moneyIn.map((fact) => fact.money),
    ...facts.refunds.map((fact) => fact.money),
    facts.refundedFloor,
  ].filter((other): other is Money => other !== undefined);
  const clash = others.find(
    (other) => other.currency !== money.currency || other.exponent !== money.exponent,
  );
  if (clash) {
    throw new ImpossibleEventError(
      `${event.kind} ${event.eventId} is in ${money.currency} but the payment's money is in ${clash.currency}`,
    );
  }
}

/** The facts after one event; the same facts whatever order the events come in, and unchanged by a repeat. */
export function foldEvent(payment: Payment, event: WebhookEvent): Payment {
  checkMoney(event);
  return settleClaims(foldFact(payment, event), event);
}

/** Marks the claims the gateway's verified answer settles (on the reconciler's events only). */
function settleClaims(payment: Payment, event: WebhookEvent): Payment {
  const settles = event.settlesClaims;
  if (!settles || settles.length === 0) return payment;
  return {
    ...payment,
    attempts: payment.attempts.map((fact) =>
      fact.claim === true && settles.includes(fact.id) ? { ...fact, settled: true as const } : fact,
    ),
  };
}

function foldFact(payment: Payment, event: WebhookEvent): Payment {
  const id = factIdOf(event, payment.paymentKey);
  switch (event.kind) {
    case 'payment.succeeded': {
      checkCurrency(event, event.money, payment);
      return absorbUpgraded(payment, 'moneyIn', 'money_in', id, event.money, (moneyIn) => ({
        ...payment,
        moneyIn: upsert(moneyIn, id, (fact) => told(fact, id, event)),
      }));
    }
    case 'payment.authorized':
    case 'payment.failed':
    case 'payment.expired': {
      const state: AttemptState =
        event.kind === 'payment.authorized'
          ? 'authorized'
          : event.kind === 'payment.failed'
            ? 'failed'
            : 'expired';
      return {
        ...payment,
        attempts: upsert(payment.attempts, id, (fact) => ({
          ...toldIn(fact, id, event, state),
          ...((fact?.claim || (state === 'authorized' && event.needsConfirmation)) && {
            claim: true as const,
          }),
          // A claim told again (a retry of the same body) stays settled once the gateway answered it.
          ...(fact?.settled && { settled: true as const }),
        })),
      };
    }
    case 'refund.pending':
    case 'refund.succeeded':
    case 'refund.failed': {
      checkCurrency(event, event.money ?? event.refundedTotal, payment);
      const state: RefundState =
        event.kind === 'refund.pending'
          ? 'pending'
          : event.kind === 'refund.succeeded'
            ? 'succeeded'
            : 'failed';
      const withFloor = withRefundedFloor(payment, event);
      // An event that reports only a running total (Stripe charge.refunded) names no refund of its own.
      if (event.refundedTotal !== undefined && event.factId === undefined) return withFloor;
      return {
        ...withFloor,
        refunds: upsert(withFloor.refunds, id, (fact) => toldIn(fact, id, event, state)),
      };
    }
    case 'dispute.opened':
    case 'dispute.won':
    case 'dispute.lost': {
      const state: DisputeState =
        event.kind === 'dispute.opened' ? 'opened' : event.kind === 'dispute.won' ? 'won' : 'lost';
      return absorbUpgraded(payment, 'disputes', 'dispute', id, undefined, (disputes) => ({
        ...payment,
        disputes: upsert(disputes, id, (fact) => toldIn(fact, id, event, state)),
      }));
    }
    default:
      return payment;
  }
}

/**
 * A fact read from the previous item format kept no id (see `fromLegacyItem`). While it is the only one of its kind,
 * the first real fact that arrives under another id takes its place (for money in: only with the same money, else it
 * is another capture): it inherits the placeholder's money and states, and what was announced of the placeholder
 * counts as announced of it, so the previous release's announcements are not repeated.
 */
function absorbUpgraded<K extends 'moneyIn' | 'disputes'>(
  payment: Payment,
  list: K,
  type: FactType,
  id: string,
  money: Money | undefined,
  fold: (facts: Payment[K]) => Payment,
): Payment {
  const facts = payment[list];
  const [only] = facts;
  const sameMoneyOrUnknown = money === undefined || only?.money === undefined || sameMoney(only.money, money);
  if (facts.length !== 1 || only === undefined || !only.upgraded || only.id === id || !sameMoneyOrUnknown) {
    return fold(facts);
  }
  const { upgraded: _upgraded, ...inherited } = only;
  const folded = fold([{ ...inherited, id }] as unknown as Payment[K]);
  return {
    ...folded,
    announced: payment.announced.map((fact) =>
      fact.type === type && fact.id === only.id ? { ...fact, id } : fact,
    ),
  };
}

function withRefundedFloor(payment: Payment, event: WebhookEvent): Payment {
  const total = event.refundedTotal;
  if (total === undefined) return payment;
  const floor = largerMoney(payment.refundedFloor, total);
  return floor ? { ...payment, refundedFloor: floor } : payment;
}

/** Gateways that move only fiat money, whose currencies must be ISO 4217 codes (OXA Pay's crypto and Standard
 * Webhooks' senders, which may be anything, are exempt). */
const FIAT_GATEWAYS: ReadonlySet<GatewayName> = new Set([
  'paystack',
  'flutterwave',
  'razorpay',
  'stripe',
  'adyen',
]);

/**
 * Money that cannot be real: a money-in or refund amount of zero or less, or a fiat gateway's currency that is not an
 * ISO 4217 code. Dead-lettered as `impossible_event` (the webhook itself was validly signed and was answered 2xx).
 */
function checkMoney(event: WebhookEvent): void {
  if (event.kind !== 'payment.succeeded' && !event.kind.startsWith('refund.')) return;
  if (event.money && event.money.amountMinor <= 0n) {
    throw new ImpossibleEventError(
      `${event.kind} ${event.eventId} has a non-positive amount ${event.money.amountMinor}`,
    );
  }
  if (event.refundedTotal && event.refundedTotal.amountMinor < 0n) {
    throw new ImpossibleEventError(`${event.kind} ${event.eventId} reports a negative refunded total`);
  }
  const currency = (event.money ?? event.refundedTotal)?.currency;
  if (currency !== undefined && FIAT_GATEWAYS.has(event.gateway) && !isIso4217(currency)) {
    throw new ImpossibleEventError(
      `${event.kind} ${event.eventId} is in ${JSON.stringify(currency)}, which is not an ISO 4217 currency`,
    );
  }
}

/** A payment with no facts yet: what the first event (or a registration) about it starts from. */
export function emptyPayment(
  gateway: GatewayName,
  paymentKey: string,
  at: string,
  mode: EventMode = 'unknown',
): Payment {
  return {
    gateway,
    paymentKey,
    status: 'pending',
    version: 0,
    mode,
    moneyIn: [],
    refunds: [],
    disputes: [],
    attempts: [],
    createdAt: at,
    updatedAt: at,
    recentEvents: [],
    announced: [],
  };
}

/** `live` if any event said live, else `test` if any said test: the same whatever the order. */
function mergedMode(a: EventMode, b: EventMode): EventMode {
  if (a === 'live' || b === 'live') return 'live';
  if (a === 'test' || b === 'test') return 'test';
  return 'unknown';
}

export interface Decision {
  /** The payment as it should be stored, or `undefined` when nothing about it changes. */
  readonly next?: Payment;
  /** The status before and after, when the event changed the record. */
  readonly transition?: { readonly from: PaymentStatus | null; readonly to: PaymentStatus };
  /** What to publish: facts (in a state) the payment had not announced before this event. */
  readonly announcements: readonly Announcement[];
  /** Why nothing changed, for the history and the logs. */
  readonly note?: string;
}

/**
 * Stores the derived values and what was announced. `from` is the status before the change (`null` for a new record).
 */
export function settle(
  before: Payment | undefined,
  folded: Payment,
  eventId: string,
  at: string,
  occurredAt: string = at,
): Decision {
  const status = deriveStatus(folded);
  const candidate: Payment = { ...folded, status };
  // What was announced so far, as the fold left it (a fact that took an upgraded one's place inherits its entries).
  const previously = new Set(folded.announced.map(factKey));
  const announcements = announceable(candidate).filter((item) => !previously.has(factKey(item.fact)));
  const from = before?.status ?? null;
  if (before !== undefined && sameFacts(before, candidate) && announcements.length === 0) {
    return { announcements: [], note: 'nothing new: every fact in it is already recorded' };
  }
  const waiting = status === 'pending' || awaitingConfirmation(candidate);
  const { pendingSince: _pendingSince, ...rest } = candidate;
  const next: Payment = {
    ...rest,
    version: (before?.version ?? 0) + 1,
    ...(waiting && { pendingSince: before?.pendingSince ?? at }),
    updatedAt: at,
    announced: [...folded.announced, ...announcements.map((item) => item.fact)],
    recentEvents: [
      ...(before?.recentEvents ?? []),
      recentEvent(candidate, eventId, from, announcements, occurredAt),
    ].slice(-RECENT_EVENTS_KEPT),
  };
  return { next, transition: { from, to: status }, announcements };
}

function recentEvent(
  payment: Payment,
  eventId: string,
  from: PaymentStatus | null,
  announced: readonly Announcement[],
  occurredAt: string,
): RecentEvent {
  const paid = paidTotal(payment);
  return {
    eventId,
    from,
    to: payment.status,
    announced,
    ...(paid && { paid }),
    ...(payment.moneyIn.length > 0 && { refundedMinor: refundedTotalMinor(payment) }),
    // Only what a re-publish needs: events that announced nothing carry no more than their id and statuses.
    ...(announced.length > 0 && {
      occurredAt,
      ...(payment.reference !== undefined && { reference: payment.reference }),
      ...(payment.gatewayPaymentId !== undefined && { gatewayPaymentId: payment.gatewayPaymentId }),
    }),
  };
}

/** The facts and derived status of a payment, for comparing records: nothing that depends on when it was written. */
export function factsOf(payment: Payment) {
  return {
    status: payment.status,
    expected: payment.expected,
    moneyIn: payment.moneyIn,
    refunds: payment.refunds,
    disputes: payment.disputes,
    attempts: payment.attempts,
    refundedFloor: payment.refundedFloor,
    mode: payment.mode,
  };
}

function sameFacts(a: Payment, b: Payment): boolean {
  return (
    canonical(factsOf(a)) === canonical(factsOf(b)) &&
    a.reference === b.reference &&
    a.gatewayPaymentId === b.gatewayPaymentId &&
    a.expiresAt === b.expiresAt &&
    canonical(a.announced) === canonical(b.announced)
  );
}

/** JSON with object keys sorted and bigints as text: a record read back from DynamoDB may list its keys in any order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => compareText(a, b)));
  });
}

/**
 * What an event does to a payment: the pure heart of processing. `payment` is the stored record (or `undefined` when
 * this is the first event seen for it); the result is the record to store and what to announce.
 */
export function decide(payment: Payment | undefined, event: WebhookEvent, now: Date): Decision {
  const paymentKey = paymentKeyOf(event);
  if (paymentKey === undefined) {
    throw new ImpossibleEventError(
      `${event.kind} event ${event.eventId} names no payment (no reference, no payment id)`,
    );
  }
  if (!affectsStatus(event.kind)) {
    return { announcements: [], note: `${event.kind} does not change a payment's facts` };
  }
  const at = now.toISOString();
  const base = payment ?? emptyPayment(event.gateway, paymentKey, at, event.mode);
  const folded = foldEvent(
    {
      ...base,
      reference: base.reference ?? event.reference,
      gatewayPaymentId: base.gatewayPaymentId ?? event.gatewayPaymentId,
      mode: mergedMode(base.mode, event.mode),
    },
    event,
  );
  return settle(payment, stripUndefined(folded), event.eventId, at, event.occurredAt ?? event.receivedAt);
}

/** Drops keys whose value is `undefined`, so stored records and comparisons carry no empty fields. */
function stripUndefined(payment: Payment): Payment {
  return Object.fromEntries(Object.entries(payment).filter(([, value]) => value !== undefined)) as Payment;
}
