import type { StructuredLog } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { METRICS } from '../definitions.js';
import {
  awaitingConfirmation,
  claimedMoney,
  openClaimIds,
  type Payment,
  sameMoney,
} from '../domain/payment.js';
import { syntheticEventId } from '../domain/synthetic-ids.js';
import {
  defaultPriority,
  type EventKind,
  GATEWAYS,
  type GatewayName,
  type WebhookEvent,
} from '../domain/webhook-event.js';
import { bodyDigestId } from '../gateways/normalise.js';
import type { EventQueue } from '../ports/event-queue.js';
import type { PaymentStore } from '../ports/payment-store.js';
import { EmptySecretError, InvalidSecretError, SecretsUnavailableError } from '../ports/secret-store.js';
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
  /**
   * Payments asked about per run, across gateways (the API calls and the run time stay bounded), shared fairly
   * between the gateways with payments waiting. @default 200
   */
  readonly budget: number;
  /** Concurrent requests per gateway. @default 4 */
  readonly concurrencyPerGateway: number;
  /** A pending payment without a registered expiry expires this long after it became pending. @default 86400 */
  readonly defaultExpirySeconds: number;
  /**
   * Payments awaiting confirmation of an unverified claim asked about per gateway per run, before the pending ones
   * and without a grace period: the rate at which claims (which anyone holding a leaked `verif-hash` can send) may
   * spend the merchant's API quota. @default 20
   */
  readonly confirmationsPerRun: number;
  readonly verify: Omit<VerifyOptions, 'baseUrl'>;
}

export const DEFAULT_RECONCILE_SETTINGS: ReconcileSettings = {
  graceSeconds: 600,
  budget: 200,
  confirmationsPerRun: 20,
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

/**
 * What a run works off: `all` (the schedule's run and `payhook reconcile --now`) asks about claims awaiting
 * confirmation, then pending payments; `confirmations` (a more frequent schedule) only the claims.
 */
export type ReconcileScope = 'all' | 'confirmations';

export interface ReconcileReport {
  readonly runId: string;
  readonly scope: ReconcileScope;
  /** Pending payments asked about (not counting confirmations). */
  readonly checked: number;
  /** Pending payments asked about, per gateway: each gateway's share of the budget it used. */
  readonly checkedByGateway: Readonly<Partial<Record<GatewayName, number>>>;
  /** Payments awaiting confirmation of a claim asked about, per gateway (at most `confirmationsPerRun` each). */
  readonly confirmationsByGateway: Readonly<Partial<Record<GatewayName, number>>>;
  /** Synthetic events queued, by the kind they carry. */
  readonly queued: Readonly<Partial<Record<EventKind, number>>>;
  readonly stillPending: number;
  /** Gateway errors by gateway: unavailable, malformed, unsupported. */
  readonly errors: Readonly<Partial<Record<GatewayName, Record<string, number>>>>;
  /** Gateways this run left alone (neither asked about nor expired), and why: see {@link GatewaySkipReason}. */
  readonly skipped: Readonly<Partial<Record<GatewayName, GatewaySkipReason>>>;
}

/**
 * Why a run leaves a gateway with a verify API alone: its secret holds no credentials the verifier needs (the
 * `{"secrets":[]}` the stack creates, or no `apiKey`), is not of the documented shape, or could not be fetched. Its
 * payments wait, neither asked about nor expired (the gateway may know they were paid), and the other gateways are
 * reconciled as usual.
 */
export const GATEWAY_SKIP_REASONS = ['no_credentials', 'invalid_secret', 'secrets_unavailable'] as const;
export type GatewaySkipReason = (typeof GATEWAY_SKIP_REASONS)[number];

const KIND_OF = {
  authorized: 'payment.authorized',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  expired: 'payment.expired',
} as const satisfies Readonly<Record<Exclude<VerifiedStatus, 'pending'>, EventKind>>;

/**
 * The kinds a run can queue: a verified answer's, and `payment.expired` for a payment past its expiry. Typed, so a
 * new kind added anywhere the reconciler queues shows up here, and in the test that keeps the stack's grants (the
 * queues of `RECONCILER_QUEUE_PRIORITIES`) equal to these kinds' priorities.
 */
export type ReconcilerKind = (typeof KIND_OF)[keyof typeof KIND_OF] | 'payment.expired';
export const RECONCILER_EVENT_KINDS: readonly ReconcilerKind[] = [
  ...new Set<ReconcilerKind>([...Object.values(KIND_OF), 'payment.expired']),
];

/**
 * A synthetic event, applied by the consumer exactly like a webhook. Its id is deterministic (payment and outcome),
 * so a second run that finds the same answer before the first was applied is deduplicated, not applied twice; it is
 * `payhook:reconciler:<payment key>:<kind>`, in the synthetic namespace no webhook can produce (see
 * `SYNTHETIC_EVENT_ID_PREFIX`), so no webhook can take it first.
 */
export function reconcilerEvent(
  payment: Payment,
  kind: ReconcilerKind,
  detail: { readonly gatewayStatus: string; readonly result?: VerifyResult },
  now: Date,
  runId: string,
): WebhookEvent {
  const money = detail.result?.money;
  const gatewayPaymentId = payment.gatewayPaymentId ?? detail.result?.gatewayPaymentId;
  // The same id the gateway's webhook names this money by, so a webhook and this answer are one fact, not two.
  const factId = detail.result?.factId;
  // A verified answer settles the claims it answers; its id names them, so a later claim's answer is not taken for a
  // duplicate of this one.
  const settles = kind === 'payment.authorized' ? [] : openClaimIds(payment);
  const claimsPart =
    settles.length > 0 ? [bodyDigestId(settles.join('\n')).slice(0, 'sha256:'.length + 16)] : [];
  return {
    gateway: payment.gateway,
    eventId: syntheticEventId('reconciler', payment.paymentKey, kind, ...claimsPart),
    ...(settles.length > 0 && { settlesClaims: settles }),
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
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      const item = items[index];
      next += 1;
      if (item !== undefined) await work(item, index);
    }
  });
  await Promise.all(workers);
}

/** Counters one run fills in. */
interface Tally {
  readonly queued: Partial<Record<EventKind, number>>;
  readonly errors: Partial<Record<GatewayName, Record<string, number>>>;
  stillPending: number;
}

/** The credentials of a gateway with a verify API for this run, or why it is skipped; `undefined` without one. */
type RunAccess = (gateway: GatewayName) => Promise<GatewayAccess> | undefined;

/** A gateway's credentials for one run, or why the run leaves the gateway alone. */
type GatewayAccess =
  | { readonly credentials: ApiCredentials | undefined }
  | { readonly skipped: GatewaySkipReason; readonly error?: Error };

function skipReasonOf(error: unknown): GatewaySkipReason | undefined {
  if (error instanceof SecretsUnavailableError) return 'secrets_unavailable';
  if (error instanceof EmptySecretError) return 'no_credentials';
  if (error instanceof InvalidSecretError) return 'invalid_secret';
  return undefined;
}

/** Looks the gateway's credentials up, and checks they hold what its verifier needs. Other errors are thrown. */
async function lookUpAccess(
  deps: ReconcileDependencies,
  gateway: GatewayName,
  verifier: GatewayVerifier,
): Promise<GatewayAccess> {
  let credentials: ApiCredentials | undefined;
  try {
    credentials = await deps.credentials(gateway);
  } catch (error) {
    const skipped = skipReasonOf(error);
    if (skipped === undefined) throw error;
    return { skipped, error: error as Error };
  }
  const missing = (verifier.requiredCredentials ?? []).filter((key) => !credentials?.[key]);
  return missing.length > 0 ? { skipped: 'no_credentials' } : { credentials };
}

/**
 * Each gateway's credentials, looked up at most once per run (both passes share the answer), for gateways with a
 * verify API; `undefined` for the others. A gateway skipped is recorded in `skipped`, logged (a warning: the reason,
 * the error's class and its message, which the secret stores keep free of any secret and of where it is stored) and
 * counted once per run.
 */
function accessPerRun(
  deps: ReconcileDependencies,
  runId: string,
  skipped: Partial<Record<GatewayName, GatewaySkipReason>>,
): RunAccess {
  const lookups = new Map<GatewayName, Promise<GatewayAccess>>();
  const note = (gateway: GatewayName, access: GatewayAccess): GatewayAccess => {
    if (!('skipped' in access)) return access;
    skipped[gateway] = access.skipped;
    (deps.metrics ?? NO_METRICS).add(METRICS.gatewaySkipped, gateway, 1);
    deps.log.warn(
      'reconciler skipped a gateway this run: its payments wait, neither asked about nor expired',
      {
        runId,
        gateway,
        reason: access.skipped,
        ...(access.error && { errorClass: access.error.name, error: access.error.message }),
      },
    );
    return access;
  };
  return (gateway) => {
    const verifier = deps.verifiers[gateway];
    if (!verifier) return undefined;
    let lookup = lookups.get(gateway);
    if (!lookup) {
      lookup = lookUpAccess(deps, gateway, verifier).then((access) => note(gateway, access));
      lookups.set(gateway, lookup);
    }
    return lookup;
  };
}

function errorKind(error: unknown): string {
  if (error instanceof VerifyUnavailableError) return 'unavailable';
  if (error instanceof VerifyMalformedError) return 'malformed';
  if (error instanceof VerifyUnsupportedError) return 'unsupported';
  if (error instanceof VerifyNotFoundError) return 'not_found';
  return 'unexpected';
}

/** The gateway's answer is about the payment asked after: the same merchant reference, where it says one. */
function sameReference(payment: Payment, result: VerifyResult): boolean {
  return !payment.reference || !result.reference || payment.reference === result.reference;
}

/** The unverified claim said other money than the gateway reports. */
function claimDiffers(payment: Payment, result: VerifyResult): boolean {
  const claimed = claimedMoney(payment);
  return claimed !== undefined && result.money !== undefined && !sameMoney(claimed, result.money);
}

/**
 * Asks the gateway about one pending (or awaiting-confirmation) payment, and queues what the answer means: the path
 * both passes of a run take.
 */
export async function checkPayment(
  deps: ReconcileDependencies,
  payment: Payment,
  context: CheckContext,
  tally: Tally = { queued: {}, errors: {}, stillPending: 0 },
): Promise<Tally> {
  await ask(deps, payment, context, tally);
  return tally;
}

interface CheckContext {
  readonly runId: string;
  readonly now: Date;
  readonly credentials?: ApiCredentials;
}

/**
 * {@link checkPayment}, saying whether the payment was dealt with: `false` when the gateway could not answer
 * (unavailable, malformed, unexpected), so that the run does not count it as asked about.
 */
async function ask(
  deps: ReconcileDependencies,
  payment: Payment,
  context: CheckContext,
  tally: Tally,
): Promise<boolean> {
  const { runId, now } = context;
  const gateway = payment.gateway;
  const metrics = deps.metrics ?? NO_METRICS;
  const enqueue = async (kind: ReconcilerKind, detail: { gatewayStatus: string; result?: VerifyResult }) => {
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
    return true;
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
    if (!sameReference(payment, result)) {
      // An answer about another payment than the one asked after: nothing is applied, a human must look.
      count('confirmation_mismatch');
      deps.log.warn('gateway answered about another reference', {
        runId,
        gateway,
        paymentKey: payment.paymentKey,
      });
      stillPending();
      return true;
    }
    if (result.status !== 'pending' && !(awaitingConfirmation(payment) && result.status === 'authorized')) {
      if (awaitingConfirmation(payment) && claimDiffers(payment, result)) {
        // The unverified claim said other money: what the gateway reports is applied (it is the verified fact), and
        // the difference is counted once, with the answer that settles the claim, since it means someone sent a
        // claim with the wrong amount.
        count('claim_differs');
        deps.log.warn('an unverified claim said other money than the gateway reports; applying the gateway', {
          runId,
          gateway,
          paymentKey: payment.paymentKey,
        });
      }
      await enqueue(KIND_OF[result.status], { gatewayStatus: result.gatewayStatus, result });
      return true;
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
      return false;
    }
  }
  // Still pending at the gateway (or it cannot be asked): expire it if its time is up, else ask again next run.
  await expireOrWait();
  return true;
}

/**
 * One reconciler run: first the claims awaiting confirmation (see {@link confirmationPass}); then, unless `scope` is
 * `confirmations`, the payments pending since before the grace period, each gateway its share of the run's budget (see {@link fairShares}), each payment checked with {@link checkPayment}. Within a
 * gateway, payments never asked about come first (oldest first), then the others round-robin (see
 * `PaymentStore.pendingPayments`).
 *
 * Why this order, not the oldest across gateways: with thousands of abandoned pending payments (never paid, asked
 * about every run), the oldest-first budget went to them every run and a newer payment was never reached. Now a
 * payment X of gateway G that becomes pending is, once its grace period is over, behind only G's payments that were
 * never asked about and are older than X: the abandoned ones were asked about before and wait behind it, and other
 * gateways' payments take only their own shares. G's share is at least the budget divided by the gateways with
 * pending payments (28 of 200 with all seven busy). So X is asked about in the first run after its grace period
 * unless more payments of G than that became pending in the run interval before it, and in the second if such a
 * burst fits two shares; a paid answer is queued at once and applied by the consumer. Nothing is written to the
 * payments: the store records how far the run got in an item of its own, after the gateway answered, so a run that
 * fails part-way leaves the rest first in line for the next. The round-robin still reaches every abandoned payment,
 * once per round of its gateway's pending payments.
 */
export async function reconcile(
  deps: ReconcileDependencies,
  runId: string,
  scope: ReconcileScope = 'all',
): Promise<ReconcileReport> {
  try {
    return await reconcileRun(deps, runId, scope);
  } finally {
    // Written even when the run fails part-way, so its counts are not carried into the next run.
    deps.metrics?.flush();
  }
}

/**
 * A run's budget split over gateways by how many payments each has waiting (`demands`, in {@link GATEWAYS} order):
 * each gets an equal share, and what one cannot use (it has fewer waiting) is split equally among the others. So
 * every gateway with payments waiting gets at least `floor(budget / gateways with payments waiting)` of them asked
 * about, or all of them, and the budget is used up whenever there are enough waiting.
 */
export function fairShares(demands: readonly number[], budget: number): number[] {
  const shares = demands.map(() => 0);
  const waiting = demands
    .map((demand, index) => ({ demand: Math.max(0, Math.floor(demand)), index }))
    .filter(({ demand }) => demand > 0)
    // Smallest demand first: what it leaves over is shared by those after it. Stable: ties in gateway order.
    .sort((a, b) => a.demand - b.demand);
  let remaining = Math.max(0, Math.floor(budget));
  waiting.forEach(({ demand, index }, position) => {
    const share = Math.min(demand, Math.floor(remaining / (waiting.length - position)));
    shares[index] = share;
    remaining -= share;
  });
  return shares;
}

/**
 * How many of a gateway's payments, in asking order, count as asked about: through the last one the gateway
 * answered, with every one before it done. A payment it could not answer before that one was its own problem (asked
 * again next round); the ones after the last answer were likely an outage (asked first again next run).
 */
function askedThrough(answered: readonly (boolean | undefined)[], count: number): number {
  let through = 0;
  for (let index = 0; index < count; index += 1) {
    const outcome = answered[index];
    if (outcome === undefined) break;
    if (outcome) through = index + 1;
  }
  return through;
}

/**
 * Asks the gateways about the claims awaiting confirmation: per gateway with a verify API, up to
 * `confirmationsPerRun`, never asked first and then round-robin, with no grace period (a claim says money may have
 * arrived; nothing counts until the gateway says so). A gateway that cannot answer (429, 5xx, timeout) is asked
 * nothing more in this pass: its remaining claims wait for the next run rather than hammer an API that is pushing back.
 */
async function confirmationPass(
  deps: ReconcileDependencies,
  context: RunContext,
  tally: Tally,
): Promise<Partial<Record<GatewayName, number>>> {
  const asked: Partial<Record<GatewayName, number>> = {};
  const { confirmationsPerRun, concurrencyPerGateway } = deps.settings;
  const gateways = GATEWAYS.filter((gateway) => deps.verifiers[gateway] !== undefined);
  const outcomes = await Promise.allSettled(
    gateways.map(async (gateway) => {
      const due = await deps.store.confirmationsDue(gateway, context.now.toISOString(), confirmationsPerRun);
      if (due.length === 0) return;
      const access = await context.access(gateway);
      // Skipped this run (its secret): the claims wait, asked about first once the secret is fixed.
      if (access && 'skipped' in access) return;
      const credentials = access?.credentials;
      const answered: (boolean | undefined)[] = [];
      let pushedBack = false;
      try {
        await inParallel(due, concurrencyPerGateway, async (payment, position) => {
          if (pushedBack) return;
          const done = await ask(deps, payment, { ...context, ...(credentials && { credentials }) }, tally);
          answered[position] = done;
          if (!done) pushedBack = true;
        });
      } finally {
        asked[gateway] = answered.filter((done) => done !== undefined).length;
        await due.asked(askedThrough(answered, due.length));
      }
    }),
  );
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return asked;
}

/**
 * Asks the gateways about the payments pending since before the grace period, each gateway its share of the budget.
 */
async function pendingPass(
  deps: ReconcileDependencies,
  context: RunContext,
  tally: Tally,
): Promise<Partial<Record<GatewayName, number>>> {
  const { runId, now } = context;
  const before = new Date(now.getTime() - deps.settings.graceSeconds * 1000).toISOString();
  const { budget, concurrencyPerGateway } = deps.settings;
  // Up to the whole budget from each gateway, so that a share one gateway leaves unused can go to another.
  const batches = await Promise.all(
    GATEWAYS.map((gateway) => deps.store.pendingPayments(gateway, before, budget)),
  );
  // Only for gateways with payments waiting: one that is skipped (its secret) waits whole, its share to the others.
  const accesses = await Promise.all(
    GATEWAYS.map((gateway, index) =>
      (batches[index]?.length ?? 0) > 0 ? context.access(gateway) : undefined,
    ),
  );
  const shares = fairShares(
    batches.map((batch, index) => (accesses[index] && 'skipped' in accesses[index] ? 0 : batch.length)),
    budget,
  );
  const checkedByGateway: Partial<Record<GatewayName, number>> = {};
  // Gateways side by side: a slow one does not hold up the others' shares.
  const outcomes = await Promise.allSettled(
    GATEWAYS.map(async (gateway, index) => {
      const batch = batches[index];
      const share = shares[index] ?? 0;
      if (!batch || share === 0) return;
      const chosen = batch.slice(0, share);
      checkedByGateway[gateway] = chosen.length;
      const answered: (boolean | undefined)[] = [];
      const access = accesses[index];
      const credentials = access && 'credentials' in access ? access.credentials : undefined;
      try {
        await inParallel(chosen, concurrencyPerGateway, async (payment, position) => {
          answered[position] = await ask(
            deps,
            payment,
            { runId, now, ...(credentials && { credentials }) },
            tally,
          );
        });
      } finally {
        await batch.asked(askedThrough(answered, chosen.length));
      }
    }),
  );
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return checkedByGateway;
}

/** What both passes of a run share: its id, its clock, and each gateway's credentials (or why it is skipped). */
interface RunContext {
  readonly runId: string;
  readonly now: Date;
  readonly access: RunAccess;
}

async function reconcileRun(
  deps: ReconcileDependencies,
  runId: string,
  scope: ReconcileScope,
): Promise<ReconcileReport> {
  const skipped: Partial<Record<GatewayName, GatewaySkipReason>> = {};
  const context: RunContext = { runId, now: deps.now(), access: accessPerRun(deps, runId, skipped) };
  const tally: Tally = { queued: {}, errors: {}, stillPending: 0 };
  // Claims first: they are the freshest news, and their pass is capped per gateway, so it cannot eat the budget.
  const confirmationsByGateway = await confirmationPass(deps, context, tally);
  const checkedByGateway = scope === 'all' ? await pendingPass(deps, context, tally) : {};
  const report: ReconcileReport = {
    runId,
    scope,
    checked: Object.values(checkedByGateway).reduce((sum, count) => sum + count, 0),
    checkedByGateway,
    confirmationsByGateway,
    queued: tally.queued,
    stillPending: tally.stillPending,
    errors: tally.errors,
    skipped,
  };
  // A confirmations-only run that found nothing to ask is the common case every minute: not worth a log line.
  if (scope === 'all' || Object.keys(confirmationsByGateway).length > 0 || Object.keys(skipped).length > 0)
    deps.log.info('reconciler run', { ...report });
  return report;
}
