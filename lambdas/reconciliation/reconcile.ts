import type { StructuredLog } from '../common/log.js';
import type { Payment } from '../domain/payment.js';
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
  return {
    gateway: payment.gateway,
    eventId: `reconciler:${payment.paymentKey}:${kind}`,
    eventType: `reconciler.${detail.gatewayStatus}`,
    kind,
    ...(payment.reference !== undefined && { reference: payment.reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    ...(money && { money }),
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
export async function reconcile(deps: ReconcileDependencies, runId: string): Promise<ReconcileReport> {
  const now = deps.now();
  const before = new Date(now.getTime() - deps.settings.graceSeconds * 1000).toISOString();
  const queued: Partial<Record<EventKind, number>> = {};
  const errors: Partial<Record<GatewayName, Record<string, number>>> = {};
  let checked = 0;
  let stillPending = 0;
  const count = (gateway: GatewayName, kind: string) => {
    const forGateway = errors[gateway] ?? {};
    forGateway[kind] = (forGateway[kind] ?? 0) + 1;
    errors[gateway] = forGateway;
  };
  const enqueue = async (
    payment: Payment,
    kind: EventKind,
    detail: { gatewayStatus: string; result?: VerifyResult },
  ) => {
    await deps.queue.enqueue([reconcilerEvent(payment, kind, detail, now, runId)]);
    queued[kind] = (queued[kind] ?? 0) + 1;
  };

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
    const verifier = deps.verifiers[gateway];
    const credentials = verifier && pending.length > 0 ? await deps.credentials(gateway) : undefined;
    await inParallel(pending, deps.settings.concurrencyPerGateway, async (payment) => {
      checked += 1;
      const expiresAt =
        payment.expiresAt ??
        new Date(
          Date.parse(payment.pendingSince ?? payment.createdAt) + deps.settings.defaultExpirySeconds * 1000,
        ).toISOString();
      if (!verifier) {
        // No verify API (Adyen, Standard Webhooks): such payments can only expire.
        if (expiresAt <= now.toISOString())
          await enqueue(payment, 'payment.expired', { gatewayStatus: 'expired' });
        else stillPending += 1;
        return;
      }
      try {
        const result = await verifier.verify(
          {
            gateway,
            ...(payment.reference !== undefined && { reference: payment.reference }),
            ...(payment.gatewayPaymentId !== undefined && { gatewayPaymentId: payment.gatewayPaymentId }),
          },
          credentials ?? {},
          { ...deps.settings.verify, baseUrl: deps.baseUrls[gateway] ?? verifier.defaultBaseUrl },
        );
        if (result.status !== 'pending') {
          await enqueue(payment, KIND_OF[result.status], { gatewayStatus: result.gatewayStatus, result });
          return;
        }
      } catch (error) {
        const kind =
          error instanceof VerifyUnavailableError
            ? 'unavailable'
            : error instanceof VerifyMalformedError
              ? 'malformed'
              : error instanceof VerifyUnsupportedError
                ? 'unsupported'
                : error instanceof VerifyNotFoundError
                  ? 'not_found'
                  : 'unexpected';
        count(gateway, kind);
        deps.log.warn('reconciler could not verify a payment', {
          runId,
          gateway,
          paymentKey: payment.paymentKey,
          reason: kind,
          error: (error as Error).message,
        });
        if (kind === 'unavailable' || kind === 'malformed' || kind === 'unexpected') {
          // The gateway may know it was paid: an outage must not expire a paid order. Ask again next run.
          stillPending += 1;
          return;
        }
      }
      // Still pending at the gateway (or it could not say): expire it if its time is up, else ask again next run.
      if (expiresAt <= now.toISOString())
        await enqueue(payment, 'payment.expired', { gatewayStatus: 'expired' });
      else stillPending += 1;
    });
  }
  const report = { runId, checked, queued, stillPending, errors };
  deps.log.info('reconciler run', { ...report });
  return report;
}
