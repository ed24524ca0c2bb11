/**
 * What the local stack tells the outside world: where it runs (a file in the data dir, so the CLI finds it with no
 * endpoints to type) and the JSON of its local-only HTTP routes, which the CLI and the end-to-end tests read.
 * These routes exist only in the local stack; on AWS the same facts come from the stack's outputs and DynamoDB.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DestinationSettings } from '../lambdas/delivery/destinations.js';

/** `.payhook/` under the current directory, unless `PAYHOOK_DATA_DIR` says otherwise. */
export function dataDirFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return resolve(env.PAYHOOK_DATA_DIR?.trim() || '.payhook');
}

/** Written to `<data dir>/stack.json` once the stack is ready; removed when it stops. */
export interface StackInfo {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly pid: number;
  readonly startedAt: string;
  /** `null` when running fully in memory. */
  readonly dataDir: string | null;
  /** JSON-lines file of the payment events published so far. */
  readonly eventsFile: string;
  /** Where the on-call commands (`payhook dlq`, `payhook status`) reach the local SQS, and its queues. */
  readonly sqs?: {
    readonly endpoint: string;
    readonly queues: Readonly<
      Record<string, { readonly queueUrl: string; readonly deadLetterQueueUrl: string }>
    >;
  };
  /**
   * Where `payhook rejects list` and `payhook unmatched list` reach the local DynamoDB, with the refused-requests
   * table and the payments table (absent from a stack.json written by an older release).
   */
  readonly dynamodb?: {
    readonly endpoint: string;
    readonly rejectsTable: string;
    readonly paymentsTable?: string;
  };
  /**
   * The delivery destinations (`PAYHOOK_DESTINATIONS`) by name, for `payhook deliveries ...`: each one's settings and
   * its queue and dead-letter queue on `sqs.endpoint` (`deliveries-<name>`, `deliveries-<name>-dlq`). A stopped
   * destination is the item `DESTINATION#<name>` of `dynamodb.paymentsTable`. `{}` when none is configured; absent
   * from a stack.json written by an older release.
   */
  readonly destinations?: Readonly<Record<string, DestinationInfo>>;
}

/** One delivery destination of the local stack, in `stack.json`. */
export interface DestinationInfo {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** As parsed from `PAYHOOK_DESTINATIONS`, defaults filled in (`url`, `timeoutSeconds`, `retryHours`, ...). */
  readonly settings: DestinationSettings;
}

export const STACK_INFO_FILE = 'stack.json';

export function stackInfoPath(dataDir: string): string {
  return join(dataDir, STACK_INFO_FILE);
}

/** The running stack recorded in `dataDir`, or `undefined` when none is recorded. */
export function readStackInfo(dataDir: string): StackInfo | undefined {
  const path = stackInfoPath(dataDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as StackInfo;
}

/** Money as the local routes print it: exact decimal text in major units, the currency, and the minor units. */
export interface MoneyView {
  /** e.g. `"7500.00"`; never a float. */
  readonly amount: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly exponent: number;
}

/** `GET /local/payments/:gateway/:identifier` (identifier: the merchant reference or the gateway payment id). */
export interface PaymentView {
  readonly gateway: string;
  readonly paymentKey: string;
  readonly reference: string | null;
  readonly gatewayPaymentId: string | null;
  readonly status: string;
  /** The total money in (major units); `null` while none has arrived (or it came without an amount). */
  readonly amount: string | null;
  readonly currency: string | null;
  readonly money: MoneyView | null;
  readonly expected: MoneyView | null;
  /** The refunded total: the refunds known and any running total a gateway reported, capped at the money in. */
  readonly refunded: MoneyView | null;
  /** The largest running refunded total a gateway reported (Stripe `amount_refunded`), if any. */
  readonly refundedFloor: MoneyView | null;
  /** One entry per capture or deposit, refund, dispute and attempt, keyed by the gateway's own id. */
  readonly moneyIn: readonly FactView[];
  readonly refunds: readonly FactView[];
  readonly disputes: readonly FactView[];
  readonly attempts: readonly FactView[];
  readonly mode: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly pendingSince: string | null;
  readonly history: readonly HistoryView[];
}

/** One fact of a payment: the gateway's id, its money, its state and the event ids that told us. */
export interface FactView {
  readonly id: string;
  readonly amount: MoneyView | null;
  /** money in: `received`; refunds: `pending`, `succeeded`, `failed`, `reversed`; disputes: `opened`, `won`, `lost`. */
  readonly state: string;
  readonly eventIds: readonly string[];
}

export interface HistoryView {
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: string;
  readonly receivedAt: string;
  readonly occurredAt: string | null;
  readonly requestId: string;
  readonly money: MoneyView | null;
  /** `null` when the event changed nothing but the history. */
  readonly transition: { readonly from: string | null; readonly to: string } | null;
  /** The facts this event announced (each published once as a payment event). */
  readonly announced: readonly { readonly type: string; readonly id: string; readonly state: string }[];
  readonly note: string | null;
}

/** Counts for one queue, from SQS's approximate attributes. */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** `GET /local/queues` */
export interface QueuesView {
  readonly queues: readonly {
    readonly priority: string;
    readonly queue: QueueCounts;
    readonly deadLetter: QueueCounts;
  }[];
}

/** `GET /local/events?limit=N`: the newest N published payment events, oldest first. */
export interface EventsView {
  readonly events: readonly {
    readonly detailType: string;
    readonly detail: Record<string, unknown>;
    readonly publishedAt: string;
  }[];
}

/** Errors from the local routes: `{ "error": "payment_not_found", "message": "..." }` with 404, and so on. */
export interface ErrorView {
  readonly error: string;
  readonly message: string;
}
