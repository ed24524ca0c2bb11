import { paymentEventId } from '../lambdas/domain/payment-event.js';
import type { FactType, GatewayEvent, SoakPayment, Told } from './gateways.js';

/**
 * The soak's own account of what a payment record must end up as, kept apart from the code it checks
 * (`lambdas/domain/payment.ts` is not imported; only the announcement id hash is shared). It works from the SET of
 * valid events a payment was sent, never their order: the record is the union of the facts the gateway told.
 *
 * - Facts are keyed by the gateway's own id: money in (a capture, a deposit), refunds, disputes, attempts. Each keeps
 *   every state told, the largest amount told, and the smallest {@link EVENT_IDS_KEPT} event ids that told it.
 * - A refund is `reversed` once told both succeeded and failed, else succeeded, else failed, else pending; a dispute
 *   is won over lost over opened; an attempt has ended once failed (over expired), else it is authorised.
 * - The refunded total is the larger of the succeeded refunds and the largest running total a gateway reported less
 *   the refunds known to have failed (a total reported while they were under way counted them), capped at the money
 *   in, and nothing while no money is in.
 * - The status is the first that holds of: disputed (a dispute still open), dispute_lost, refunded (in full),
 *   partially_refunded, dispute_won, succeeded (money in), authorized (an attempt still authorised), failed,
 *   expired, pending.
 *
 * Attacks (issue #14):
 * - An unverified claim (Flutterwave `verif-hash` alone) is no fact. One that says money arrived is a marker among
 *   the attempts (its own id, `authorized`, the amount it claimed, its own id as the event that told it); one that
 *   says a payment failed is history only. While a claim of money is open (no verified answer of the gateway applied
 *   yet) and no money is in, the payment reads `authorized`, below every verified attempt's state; a claim announces
 *   nothing and never fails a payment.
 * - The gateway's verified answer (what the reconciler's verify call found, applied while a claim awaited
 *   confirmation) is a fact like a webhook's, under the same id the gateway's webhooks use: it settles the claim.
 * - A registered expectation shows in the record; money in that differs from it reads `amount_mismatch` (the soak
 *   registers what arrives, so none of its payments does, and that announcement is not modelled).
 *
 * Announcements: every fact in each of its states is announced once ever, so the final set is known from the final
 * facts: money in once each; a refund once succeeded (and again once reversed) while money is in; a dispute once per
 * state; an attempt's states only while no money is in; a reported running total only while it exceeds the refunds
 * known (succeeded or under way) and money is in. The last two are order-dependent: an attempt seen before the money,
 * or a running total seen before the refunds it counts, is announced, else not. Those are the documented exceptions:
 * the model lists which ids they could take, and the checks count them apart.
 */
export const EVENT_IDS_KEPT = 10;

/**
 * Stands in for the event id of the gateway's verified answer (the reconciler's event, in payhook's synthetic
 * namespace): its exact form is payhook's business, so the model says only where one must appear. The checks read any
 * `payhook:` id that is not a claim's as this.
 */
export const VERIFIED_ANSWER_ID = 'payhook:<verified answer>';

export interface ModelFact {
  readonly id: string;
  /** Minor units as decimal text, or `null` when no event about it carried an amount. */
  readonly amountMinor: string | null;
  readonly state: string;
  readonly eventIds: readonly string[];
}

export interface ModelFactRef {
  readonly type: FactType | 'refund_total';
  readonly id: string;
  readonly state: string;
}

export interface ModelAnnouncement {
  readonly fact: ModelFactRef;
  /** `detail.id` of the payment event announcing it. */
  readonly id: string;
}

export interface PaymentModel {
  readonly status: string;
  /** Money in, minor units as text; `null` while none. */
  readonly paidMinor: string | null;
  /** Refunded total as the view prints it: `null` when nothing counts as refunded. */
  readonly refundedMinor: string | null;
  readonly floorMinor: string | null;
  readonly moneyIn: readonly ModelFact[];
  readonly refunds: readonly ModelFact[];
  readonly disputes: readonly ModelFact[];
  readonly attempts: readonly ModelFact[];
  /** Announced exactly once whatever the order (republished copies with the same id aside). */
  readonly announcements: readonly ModelAnnouncement[];
  /** The order-dependent exceptions: what may also be announced, by id. */
  readonly possibleExceptions: readonly ModelAnnouncement[];
  /** Valid events that must each have one history item (unverified claims included, under their own ids). */
  readonly historyEventIds: ReadonlySet<string>;
  /** The registered expectation, minor units as text; `null` when the payment was not registered. */
  readonly expected: { readonly amountMinor: string; readonly currency: string } | null;
  /** The gateway's verified answer was applied: one {@link VERIFIED_ANSWER_ID} in a fact and in the history. */
  readonly verifiedAnswer: boolean;
  /** Claims of money no verified answer has settled (markers that keep a payment without money `authorized`). */
  readonly openClaims: number;
}

/** What the soak did to a payment besides its gateway's signed webhooks. */
export interface ModelExtras {
  /** Unverified claims sent about it (copies are the same claim). */
  readonly claims?: readonly GatewayEvent[];
  /** The gateway's verified answer, applied while a claim of money awaited confirmation. */
  readonly verifiedAnswer?: Told;
  /** What the merchant registered (`POST /payments`), in the payment's currency's minor units. */
  readonly expected?: { readonly amountMinor: number; readonly currency: string };
}

interface Gathered {
  readonly states: Set<string>;
  amountMinor: number | undefined;
  readonly eventIds: Set<string>;
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function refundState(states: ReadonlySet<string>): string {
  if (states.has('succeeded') && states.has('failed')) return 'reversed';
  if (states.has('succeeded')) return 'succeeded';
  if (states.has('failed')) return 'failed';
  return 'pending';
}

function disputeState(states: ReadonlySet<string>): string {
  if (states.has('won')) return 'won';
  if (states.has('lost')) return 'lost';
  return 'opened';
}

function attemptState(states: ReadonlySet<string>): string {
  if (states.has('failed')) return 'failed';
  if (states.has('expired')) return 'expired';
  return 'authorized';
}

/** The record and announcements the stack must end with, from the valid events sent (in any order, any copies). */
export function modelPayment(
  payment: SoakPayment,
  events: readonly GatewayEvent[],
  extras: ModelExtras = {},
): PaymentModel {
  const facts: Record<FactType, Map<string, Gathered>> = {
    money_in: new Map(),
    refund: new Map(),
    dispute: new Map(),
    attempt: new Map(),
  };
  const floors = new Set<number>();
  const historyEventIds = new Set<string>();
  const gather = (told: Told, eventId: string) => {
    const byId = facts[told.type];
    const found = byId.get(told.id) ?? { states: new Set(), amountMinor: undefined, eventIds: new Set() };
    found.states.add(told.state);
    found.amountMinor =
      found.amountMinor === undefined ? told.amountMinor : Math.max(found.amountMinor, told.amountMinor);
    found.eventIds.add(eventId);
    byId.set(told.id, found);
  };
  for (const event of events) {
    historyEventIds.add(event.sourceEventId);
    if (event.truth.fact) gather(event.truth.fact, event.sourceEventId);
    if (event.truth.refundedMinor !== undefined) floors.add(event.truth.refundedMinor);
  }
  if (extras.verifiedAnswer) gather(extras.verifiedAnswer, VERIFIED_ANSWER_ID);
  const claimMarkers = new Map<string, ModelFact>();
  for (const claim of extras.claims ?? []) {
    historyEventIds.add(claim.sourceEventId);
    if (claim.claim?.says !== 'money') continue;
    const id = claim.sourceEventId;
    claimMarkers.set(id, {
      id,
      amountMinor: String(claim.claim.amountMinor),
      state: 'authorized',
      eventIds: [id],
    });
  }

  const list = (type: FactType, stateOf: (states: ReadonlySet<string>) => string): ModelFact[] =>
    [...facts[type].entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([id, gathered]) => ({
        id,
        amountMinor: gathered.amountMinor === undefined ? null : String(gathered.amountMinor),
        state: stateOf(gathered.states),
        eventIds: [...gathered.eventIds].sort().slice(0, EVENT_IDS_KEPT),
      }));
  const moneyIn = list('money_in', () => 'received');
  const refunds = list('refund', refundState);
  const disputes = list('dispute', disputeState);
  const attempts = [
    ...list('attempt', (states) => [...states].sort().join(',')),
    ...claimMarkers.values(),
  ].sort((a, b) => compareText(a.id, b.id));
  const openClaims = extras.verifiedAnswer ? 0 : claimMarkers.size;

  const hasMoney = moneyIn.length > 0;
  const paid = moneyIn.reduce((sum, fact) => sum + Number(fact.amountMinor ?? 0), 0);
  const sumOf = (keep: (states: ReadonlySet<string>) => boolean) =>
    [...facts.refund.values()]
      .filter((gathered) => keep(gathered.states))
      .reduce((sum, gathered) => sum + (gathered.amountMinor ?? 0), 0);
  const itemised = sumOf((states) => refundState(states) === 'succeeded');
  const failed = sumOf((states) => states.has('failed'));
  const known = sumOf((states) => !states.has('failed'));
  const floor = floors.size > 0 ? Math.max(...floors) : undefined;
  const refunded = hasMoney ? Math.min(paid, Math.max(itemised, (floor ?? 0) - failed)) : 0;

  const disputeStates = disputes.map((fact) => fact.state);
  const attemptStates = new Set([...facts.attempt.values()].map((gathered) => attemptState(gathered.states)));
  let status: string;
  if (disputeStates.includes('opened')) status = 'disputed';
  else if (disputeStates.includes('lost')) status = 'dispute_lost';
  else if (refunded > 0 && refunded >= paid) status = 'refunded';
  else if (refunded > 0) status = 'partially_refunded';
  else if (disputeStates.includes('won')) status = 'dispute_won';
  else if (hasMoney && extras.expected && String(paid) !== String(extras.expected.amountMinor))
    status = 'amount_mismatch';
  else if (hasMoney) status = 'succeeded';
  else if (attemptStates.has('authorized')) status = 'authorized';
  else if (attemptStates.has('failed')) status = 'failed';
  else if (attemptStates.has('expired')) status = 'expired';
  else if (openClaims > 0) status = 'authorized';
  else status = 'pending';

  const announce = (type: ModelFactRef['type'], id: string, state: string): ModelAnnouncement => ({
    fact: { type, id, state },
    id: paymentEventId(payment.gateway, payment.key, { type, id, state }),
  });
  const announcements: ModelAnnouncement[] = [];
  const possibleExceptions: ModelAnnouncement[] = [];
  for (const fact of moneyIn) announcements.push(announce('money_in', fact.id, 'received'));
  if (hasMoney) {
    for (const fact of refunds) {
      if (fact.state === 'succeeded' || fact.state === 'reversed') {
        announcements.push(announce('refund', fact.id, 'succeeded'));
      }
      if (fact.state === 'reversed') announcements.push(announce('refund', fact.id, 'reversed'));
    }
    // The final running total, when it still exceeds the refunds known, was announced by whichever event made it
    // so; any running total reported may have been announced on the way (it exceeded what was known then).
    if (floor !== undefined && floor > known) {
      announcements.push(announce('refund_total', String(floor), 'succeeded'));
    }
    for (const total of floors) {
      if (total > 0 && !(total === floor && floor > known)) {
        possibleExceptions.push(announce('refund_total', String(total), 'succeeded'));
      }
    }
  }
  for (const [id, gathered] of [...facts.dispute.entries()].sort(([a], [b]) => compareText(a, b))) {
    for (const state of [...gathered.states].sort()) announcements.push(announce('dispute', id, state));
  }
  for (const [id, gathered] of [...facts.attempt.entries()].sort(([a], [b]) => compareText(a, b))) {
    for (const state of [...gathered.states].sort()) {
      (hasMoney ? possibleExceptions : announcements).push(announce('attempt', id, state));
    }
  }

  return {
    status,
    paidMinor: hasMoney ? String(paid) : null,
    refundedMinor: refunded > 0 ? String(refunded) : null,
    floorMinor: floor === undefined ? null : String(floor),
    moneyIn,
    refunds,
    disputes,
    attempts,
    announcements,
    possibleExceptions,
    historyEventIds,
    expected: extras.expected
      ? { amountMinor: String(extras.expected.amountMinor), currency: extras.expected.currency }
      : null,
    verifiedAnswer: extras.verifiedAnswer !== undefined,
    openClaims,
  };
}
