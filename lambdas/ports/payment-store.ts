import type { Money } from '../domain/money.js';
import type { FactRef, Payment, PaymentStatus } from '../domain/payment.js';
import type { EventKind, GatewayName } from '../domain/webhook-event.js';

/** One event in a payment's history: the audit trail `payhook payments show` prints. */
export interface HistoryEntry extends EventRecord {
  readonly paymentKey: string;
  /** The status before and after the event; absent when it changed nothing but the history. */
  readonly transition?: StatusChange;
  /** The facts (in a state) it announced, each published once. */
  readonly announced?: readonly FactRef[];
  /** Why nothing moved, when nothing did. */
  readonly note?: string;
}

/** What any stored record of one gateway event holds: a history item, an unmatched item. */
export interface EventRecord {
  readonly gateway: GatewayName;
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: EventKind;
  readonly receivedAt: string;
  readonly occurredAt?: string;
  readonly requestId: string;
  readonly money?: Money;
  /** The raw payload, only where the deployment keeps payloads (customer data). */
  readonly payload?: string;
}

/** The record's status before and after one event (equal when the event added facts but moved no status). */
export interface StatusChange {
  readonly from: PaymentStatus | null;
  readonly to: PaymentStatus;
}

/** Writes to a payment that lost a race: the caller re-reads and decides again. */
export class StaleWriteError extends Error {
  override readonly name = 'StaleWriteError';
}

/** What {@link PaymentStore.pendingPayments} answers: the payments in asking order, and how to record the asking. */
export interface PendingPayments extends ReadonlyArray<Payment> {
  /** The first `count` of these payments were asked about (the gateway answered): they go behind the others. */
  asked(count: number): Promise<void>;
}

/** Payments and their histories. On AWS: the DynamoDB payments table of `lambdas/definitions.ts`. */
export interface PaymentStore {
  /** The payment, read consistently; `undefined` when it has never been seen. */
  get(gateway: GatewayName, paymentKey: string): Promise<Payment | undefined>;
  /**
   * Stores `next` only if the stored version is still `next.version - 1` (or, for version 1, if none is stored);
   * throws {@link StaleWriteError} otherwise. One conditional write: two racing events cannot both win.
   */
  save(next: Payment): Promise<void>;
  /**
   * The payment an identifier names: its key, the merchant's reference or the gateway's payment id (in that order),
   * so a payment can be found by whichever the person looking has at hand.
   */
  find(gateway: GatewayName, identifier: string): Promise<Payment | undefined>;
  /**
   * Up to `limit` payments of one gateway still pending (or awaiting confirmation) since before `before` (ISO time),
   * from the sparse pending index, in the order the reconciler asks the gateway about them: those never asked about
   * first, oldest first; then the others round-robin, from the one after the last asked about (wrapping around).
   * Calling `asked(count)` on the answer records that its first `count` were asked about, so that the next call puts
   * them behind the rest; the store keeps that progress in an item of its own, never in a payment.
   */
  pendingPayments(gateway: GatewayName, before: string, limit: number): Promise<PendingPayments>;
  /**
   * Up to `limit` of the gateway's payments awaiting confirmation of an unverified claim since before `before`, in
   * the same asking order as {@link pendingPayments} (never asked first, then round-robin), with progress of its own.
   */
  confirmationsDue(gateway: GatewayName, before: string, limit: number): Promise<PendingPayments>;
  /** A payment's history, oldest first. */
  history(gateway: GatewayName, paymentKey: string): Promise<HistoryEntry[]>;
}
