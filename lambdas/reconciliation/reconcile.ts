import type { StructuredLog } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { METRICS } from '../definitions.js';
import { awaitingConfirmation, claimedMoney, type Payment, sameMoney } from '../domain/payment.js';
import {
  defaultPriority,
  type EventKind,
  GATEWAYS,
  type GatewayName,
  type WebhookEvent,
} from '../domain/webhook-event.js';
import type { EventQueue } from '../intake/event-queue.js';
import type { PaymentStore } from '../processing/ports.js';
import {
  type ApiCredentials,
  type GatewayVerifier,
  type VerifiedStatus,
  VerifyMalformedError,
  VerifyNotFoundError,
  type VerifyOptions,
  type VerifyResult,
  VerifyUnavailableError,
  VerifyUnsupportedError,
} from './verify.js';

export interface ReconcileSettings {
  /** Only payments pending for longer than this are asked about (their webhook may still be on its way). @default 600 */
  readonly graceSeconds: number;
  /** Payments asked about per run, across gateways (the API calls and the run time stay bounded). @default 200 */
  readonly budget: number;
  /** Concurrent requests per gateway. @default 4 */
  readonly concurrencyPerGateway: number;
  /** A pending payment without a registered expiry expires this long after it became pending. @default 86400 */
  readonly defaultExpirySeconds: number;
  readonly verify: Omit<VerifyOptions, 'baseUrl'>;
}

export const DEFAULT_RECONCILE_SETTINGS: ReconcileSettings = {
  graceSeconds: 600,
  budget: 200,
  concurrencyPerGateway: 4,
  defaultExpirySeconds: 86_400,
  verify: { timeoutMs: 5000, attempts: 3, backoffMs: 500 },
};

export interface ReconcileDependencies {
  readonly store: PaymentStore;
  readonly verifiers: Readonly<Partial<Record<GatewayName, GatewayVerifier>>>;
  /** The gateway's API credentials (from its secret); `undefined` when none are configured. */
  readonly credentials: (gateway: GatewayName) => Promise<ApiCredentials | undefined>;
  /** Base URL per gateway, where it differs from the verifier's production URL (tests, the local sandbox). */
  readonly baseUrls: Readonly<Partial<Record<GatewayName, string>>>;
  /** Where synthetic events go: the same priority queues webhooks go to. */
  readonly queue: EventQueue;
  readonly settings: ReconcileSettings;
  readonly now: () => Date;
  readonly log: StructuredLog;
  /** Payments checked, moved (by status), still pending, and gateway API errors, per gateway. @default NO_METRICS */
  readonly metrics?: MetricsRecorder;
}

export interface ReconcileReport {
  readonly runId: string;
  readonly checked: number;
  /** Synthetic events queued, by the kind they carry. */
  readonly queued: Readonly<Partial<Record<EventKind, number>>>;
  readonly stillPending: number;
  /** Gateway errors by gateway: unavailable, malformed, unsupported. */
  readonly errors: Readonly<Partial<Record<GatewayName, Record<string, number>>>>;
}

const KIND_OF: Readonly<Record<Exclude<VerifiedStatus, 'pending'>, EventKind>> = {
  authorized: 'payment.authorized',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  expired: 'payment.expired',
};

/**
 * A synthetic event, applied by the consumer exactly like a webhook. Its id is deterministic (payment and outcome),
 * so a second run that finds the same answer before the first was applied is deduplicated, not applied twice.
 */
export function reconcilerEvent(
  payment: Payment,
  kind: EventKind,
  detail: { readonly gatewayStatus: string; readonly result?: VerifyResult },
  now: Date,
  runId: string,
): WebhookEvent {
  const money = detail.result?.money;
  const gatewayPaymentId = payment.gatewayPaymentId ?? detail.result?.gatewayPaymentId;
  // The same id the gateway's webhook names this money by, so a webhook and this answer are one fact, not two.
  const factId = detail.result?.factId;
  return {
    gateway: payment.gateway,
    eventId: `reconciler:${payment.paymentKey}:${kind}`,
    eventType: `reconciler.${detail.gatewayStatus}`,
    kind,
    ...(payment.reference !== undefined && { reference: payment.reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    ...(money && { money }),
    ...(factId !== undefined && { factId }),
    mode: payment.mode,
    receivedAt: now.toISOString(),
    priority: defaultPriority(kind),
    requestId: runId,
    // What the reconciler learned, not the gateway's raw answer (which holds customer data).
    payload: JSON.stringify({ source: 'reconciler', gatewayStatus: detail.gatewayStatus, runId }),
  };
}

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(workers);
}

/**
 * One reconciler run: for each gateway, the payments pending since before the grace period, oldest first, within
 * the run's budget. Each either expires, or is asked about at its gateway; an answer that moves it is queued as a
 * synthetic event. A gateway that cannot answer leaves the payment pending for the next run; an answer payhook
 * cannot read is logged and skipped, never applied.
 */
/** Counters one run (or one immediate confirmation) fills in. */
interface Tally {
  readonly queued: Partial<Record<EventKind, number>>;
  readonly errors: Partial<Record<GatewayName, Record<string, number>>>;
  stillPending: number;
}

function errorKind(error: unknown): string {
  if (error instanceof VerifyUnavailableError) return 'unavailable';
  if (error instanceof VerifyMalformedError) return 'malformed';
  if (error instanceof VerifyUnsupportedError) return 'unsupported';
  if (error instanceof VerifyNotFoundError) return 'not_found';
  return 'unexpected';
}

/**
 * A claim confirmed only when the gateway reports what the webhook claimed: the same money and, where the gateway
 * says it, the same merchant reference (Flutterwave's `tx_ref`).
 */
function confirms(payment: Payment, result: VerifyResult): boolean {
  const claimed = claimedMoney(payment);
  const moneyMatches = !claimed || !result.money || sameMoney(claimed, result.money);
  const referenceMatches = !payment.reference || !result.reference || payment.reference === result.reference;
  return moneyMatches && referenceMatches && result.money !== undefined;
}

/**
 * Asks the gateway about one pending (or awaiting-confirmation) payment, and queues what the answer means: the path
 * both the scheduled run and an immediate confirmation take.
 */
export async function checkPayment(
  deps: ReconcileDependencies,
  payment: Payment,
  context: { readonly runId: string; readonly now: Date; readonly credentials?: ApiCredentials },
  tally: Tally = { queued: {}, errors: {}, stillPending: 0 },
): Promise<Tally> {
  const { runId, now } = context;
  const gateway = payment.gateway;
  const metrics = deps.metrics ?? NO_METRICS;
  metrics.add(METRICS.paymentsChecked, gateway, 1);
  const enqueue = async (kind: EventKind, detail: { gatewayStatus: string; result?: VerifyResult }) => {
    await deps.queue.enqueue([reconcilerEvent(payment, kind, detail, now, runId)]);
    tally.queued[kind] = (tally.queued[kind] ?? 0) + 1;
    // payment.succeeded -> succeeded: the status the queued event moves the payment to.
    metrics.add(METRICS.paymentsMoved, gateway, 1, kind.slice(kind.indexOf('.') + 1));
    // Money found that no webhook announced; a confirmed claim had its webhook, and failures are often never sent.
    if (kind === 'payment.succeeded' && !awaitingConfirmation(payment)) {
      metrics.add(METRICS.paymentsSettled, gateway, 1);
    }
  };
  const count = (kind: string) => {
    const forGateway = tally.errors[gateway] ?? {};
    forGateway[kind] = (forGateway[kind] ?? 0) + 1;
    tally.errors[gateway] = forGateway;
    metrics.add(METRICS.gatewayApiErrors, gateway, 1, kind);
  };
  const stillPending = () => {
    tally.stillPending += 1;
    metrics.add(METRICS.paymentsStillPending, gateway, 1);
  };
  const expiresAt =
    payment.expiresAt ??
    new Date(
      Date.parse(payment.pendingSince ?? payment.createdAt) + deps.settings.defaultExpirySeconds * 1000,
    ).toISOString();
  const expireOrWait = async () => {
    if (expiresAt <= now.toISOString()) await enqueue('payment.expired', { gatewayStatus: 'expired' });
    else stillPending();
  };
  const verifier = deps.verifiers[gateway];
  if (!verifier) {
    // No verify API (Adyen, Standard Webhooks): such payments can only expire.
    await expireOrWait();
    return tally;
  }
  try {
    const result = await verifier.verify(
      {
        gateway,
        ...(payment.reference !== undefined && { reference: payment.reference }),
        ...(payment.gatewayPaymentId !== undefined && { gatewayPaymentId: payment.gatewayPaymentId }),
      },
      context.credentials ?? (await deps.credentials(gateway)) ?? {},
      { ...deps.settings.verify, baseUrl: deps.baseUrls[gateway] ?? verifier.defaultBaseUrl },
    );
    if (awaitingConfirmation(payment) && result.status === 'succeeded' && !confirms(payment, result)) {
      // The gateway says paid, but not what the unverified webhook claimed: a human must look, nothing is applied.
      count('confirmation_mismatch');
      deps.log.warn('gateway does not confirm the claimed payment', {
        runId,
        gateway,
        paymentKey: payment.paymentKey,
      });
      stillPending();
      return tally;
    }
    if (result.status !== 'pending' && !(awaitingConfirmation(payment) && result.status === 'authorized')) {
      await enqueue(KIND_OF[result.status], { gatewayStatus: result.gatewayStatus, result });
      return tally;
    }
  } catch (error) {
    const kind = errorKind(error);
    count(kind);
    deps.log.warn('reconciler could not verify a payment', {
      runId,
      gateway,
      paymentKey: payment.paymentKey,
      reason: kind,
      error: (error as Error).message,
    });
    if (kind === 'unavailable' || kind === 'malformed' || kind === 'unexpected') {
      // The gateway may know it was paid: an outage must not expire a paid order. Ask again next run.
      stillPending();
      return tally;
    }
  }
  // Still pending at the gateway (or it cannot be asked): expire it if its time is up, else ask again next run.
  await expireOrWait();
  return tally;
}

/**
 * One reconciler run: the payments pending (or awaiting confirmation) since before the grace period, oldest first
 * across gateways, within the run's budget, each checked with {@link checkPayment}.
 */
export async function reconcile(deps: ReconcileDependencies, runId: string): Promise<ReconcileReport> {
  try {
    return await reconcileRun(deps, runId);
  } finally {
    // Written even when the run fails part-way, so its counts are not carried into the next run.
    deps.metrics?.flush();
  }
}

async function reconcileRun(deps: ReconcileDependencies, runId: string): Promise<ReconcileReport> {
  const now = deps.now();
  const before = new Date(now.getTime() - deps.settings.graceSeconds * 1000).toISOString();
  const tally: Tally = { queued: {}, errors: {}, stillPending: 0 };
  // Oldest first across all gateways, so a busy gateway cannot starve the others of the run's budget.
  const candidates = (
    await Promise.all(
      GATEWAYS.map((gateway) => deps.store.pendingPayments(gateway, before, deps.settings.budget)),
    )
  )
    .flat()
    .sort((a, b) => (a.pendingSince ?? a.createdAt).localeCompare(b.pendingSince ?? b.createdAt))
    .slice(0, deps.settings.budget);
  for (const gateway of GATEWAYS) {
    const pending = candidates.filter((payment) => payment.gateway === gateway);
    if (pending.length === 0) continue;
    const credentials = deps.verifiers[gateway] ? await deps.credentials(gateway) : undefined;
    await inParallel(pending, deps.settings.concurrencyPerGateway, async (payment) => {
      await checkPayment(deps, payment, { runId, now, ...(credentials && { credentials }) }, tally);
    });
  }
  const report = {
    runId,
    checked: candidates.length,
    queued: tally.queued,
    stillPending: tally.stillPending,
    errors: tally.errors,
  };
  deps.log.info('reconciler run', { ...report });
  return report;
}

/**
 * Confirms one payment at once (not at the next run): how the consumer settles an unverified claim of money. Skips
 * a payment that no longer awaits confirmation.
 */
export async function confirmPayment(
  deps: ReconcileDependencies,
  gateway: GatewayName,
  paymentKey: string,
  runId: string,
): Promise<void> {
  const payment = await deps.store.get(gateway, paymentKey);
  if (!payment || !awaitingConfirmation(payment)) return;
  try {
    await checkPayment(deps, payment, { runId, now: deps.now() });
  } finally {
    deps.metrics?.flush();
  }
}
