import type { Money } from '../domain/money.js';
import type { FactRef, Payment, PaymentStatus } from '../domain/payment.js';
import type { EventKind, GatewayName } from '../domain/webhook-event.js';

/** One event in a payment's history: the audit trail `payhook payments show` prints. */
export interface HistoryEntry {
  readonly gateway: GatewayName;
  readonly paymentKey: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: EventKind;
  readonly receivedAt: string;
  readonly occurredAt?: string;
  readonly requestId: string;
  readonly money?: Money;
  /** The status before and after the event; absent when it changed nothing but the history. */
  readonly transition?: StatusChange;
  /** The facts (in a state) it announced, each published once. */
  readonly announced?: readonly FactRef[];
  /** Why nothing moved, when nothing did. */
  readonly note?: string;
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

/** Payments and their histories. On AWS: the DynamoDB payments table of `lambdas/definitions.ts`. */
export interface PaymentStore {
  /** The payment, read consistently; `undefined` when it has never been seen. */
  get(gateway: GatewayName, paymentKey: string): Promise<Payment | undefined>;
  /**
   * Stores `next` only if the stored version is still `next.version - 1` (or, for version 1, if none is stored);
   * throws {@link StaleWriteError} otherwise. One conditional write: two racing events cannot both win.
   */
  save(next: Payment): Promise<void>;
  /** Adds (or rewrites identically) the history item of one event. */
  recordHistory(entry: HistoryEntry): Promise<void>;
  /**
   * The payment an identifier names: its key, the merchant's reference or the gateway's payment id (in that order),
   * so a payment can be found by whichever the person looking has at hand.
   */
  find(gateway: GatewayName, identifier: string): Promise<Payment | undefined>;
  /**
   * Payments of one gateway still pending since before `before` (ISO time), oldest first, from the sparse pending
   * index: what the reconciler asks the gateway about.
   */
  pendingPayments(gateway: GatewayName, before: string, limit: number): Promise<Payment[]>;
  /** A payment's history, oldest first. */
  history(gateway: GatewayName, paymentKey: string): Promise<HistoryEntry[]>;
}
