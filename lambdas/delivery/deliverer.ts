import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { errorClassOf } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { METRICS, STOPPED_DESTINATION_RECHECK_SECONDS } from '../definitions.js';
import type { Outcome as BreakerOutcome } from '../domain/circuit-breaker.js';
import {
  GATEWAY_SECRET_MARKER,
  type OriginalDelivery,
  readOriginalDelivery,
} from '../messages/original-webhook.js';
import type { BreakerStates, DestinationStates, RateLimiter, SigningSecrets } from '../ports/deliveries.js';
import type { SecretStore } from '../ports/secret-store.js';
import { admitBatch, type Held, recordOutcomes } from './admission.js';
import {
  backoffSeconds,
  DEFAULT_DELIVERY_LIMITS,
  type DeliveryDecision,
  type DeliveryLimits,
  deliveryDecision,
} from './delivery-policy.js';
import type { DestinationSettings } from './destinations.js';
import type { AttemptResult, DeliveryRequest } from './http-sender.js';
import { type DeliveryEnvelope, paymentEventBody, readDeliveryEnvelope } from './payment-event-body.js';
import { type DeadLetterDecision, HELD_AGE_ATTRIBUTE, type SqsDeliveryQueue } from './sqs-delivery-queue.js';
import { signStandardWebhook } from './standard-webhooks.js';

/**
 * Delivers payment events to one destination per queue: each record is signed (Standard Webhooks, `webhook-id` the
 * payment event's own id, so every attempt and every replay carries the same one) and POSTed; the answer decides
 * (delivery-policy.ts): delivered, retried after a back-off, dead-lettered with its reason, or the destination
 * stopped (410 Gone: its queue holds, looked at again every 15 minutes, until `payhook deliveries resume`). Before
 * any attempt, the destination's circuit breaker and rate limit decide which records go now (admission.ts); the
 * others wait on the queue as delayed copies, and the attempts' outcomes go back to the breaker.
 */

/** One destination as the function sees it: its settings and where its queues are. */
export interface DeliveryTarget {
  readonly name: string;
  readonly settings: DestinationSettings;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export interface DelivererDependencies {
  readonly targets: readonly DeliveryTarget[];
  readonly states: DestinationStates;
  /** Each destination's circuit breaker; none: never paused. */
  readonly breakers?: BreakerStates;
  /** Enforces `rateLimitPerSecond` across invocations; none: no rate limit. */
  readonly rateLimiter?: RateLimiter;
  readonly secrets: SigningSecrets;
  /**
   * The gateways' own secrets, for an original whose header is the gateway's secret itself (Flutterwave's
   * `verif-hash`); none: such an original cannot be sent (retried, then dead-lettered `signing_failed`).
   */
  readonly gatewaySecrets?: SecretStore;
  readonly send: (request: DeliveryRequest) => Promise<AttemptResult>;
  readonly queue: SqsDeliveryQueue;
  /** The local stack only: loopback destinations and plain http. */
  readonly local?: boolean;
  readonly limits?: Omit<DeliveryLimits, 'retryPeriodSeconds'>;
  /** How long a stopped destination's events wait before the next look. @default STOPPED_DESTINATION_RECHECK_SECONDS */
  readonly stoppedRecheckSeconds?: number;
  /** The longest any held event waits before it is looked at again (tests shorten it). @default 900, SQS's maximum */
  readonly maxHoldSeconds?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly log: StructuredLog;
  readonly metrics?: MetricsRecorder;
}

/** The queue a record came from, by name: the last part of its ARN and of each target's queue URL. */
function targetOf(targets: readonly DeliveryTarget[], record: SQSRecord): DeliveryTarget | undefined {
  const queueName = record.eventSourceARN.split(':').pop();
  return targets.find((target) => target.queueUrl.split('/').pop() === queueName);
}

type Outcome = 'delivered' | 'retry' | 'stopped' | 'dead_lettered' | 'held' | 'paused' | 'throttled';

interface Attempted {
  readonly decision: DeliveryDecision | DeadLetterDecision;
  readonly result?: AttemptResult;
}

class Delivery {
  constructor(
    private readonly deps: DelivererDependencies,
    private readonly target: DeliveryTarget,
  ) {}

  private get now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Signs and sends one record; what to do next. Never throws for the destination's behaviour. */
  private limits(): DeliveryLimits {
    return {
      ...DEFAULT_DELIVERY_LIMITS,
      ...this.deps.limits,
      retryPeriodSeconds: this.target.settings.retryHours * 3600,
    };
  }

  private attemptOf(record: SQSRecord) {
    return {
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      ageSeconds: deliveryAgeMs(record, this.now) / 1000,
      now: this.now,
    };
  }

  /**
   * The secrets, and the signature: ours to get right, not the destination's. A failure is retried with the same
   * back-off (someone is fixing the secret) and, past the retry period, dead-lettered as `signing_failed` with the
   * reason, which names the destination and never a secret.
   */
  private async sign(envelope: DeliveryEnvelope, body: string, record: SQSRecord) {
    try {
      const secrets = await this.deps.secrets.current(this.target.name);
      return signStandardWebhook({ id: envelope.detail.id, timestamp: this.now, body, secrets });
    } catch (error) {
      const known = error instanceof Error && /SigningSecretError$/.test(error.name);
      return this.failedOnOurSide(
        record,
        known ? (error as Error).message : `signing failed (${errorClassOf(error)})`,
      );
    }
  }

  /**
   * A secret that could not be used: retried with the same back-off (someone is fixing it) and, past the retry period,
   * dead-lettered as `signing_failed` with the reason, which names no secret.
   */
  private failedOnOurSide(record: SQSRecord, reason: string): Attempted {
    const attempt = this.attemptOf(record);
    const limits = this.limits();
    const afterSeconds = backoffSeconds(attempt.receiveCount, limits, this.deps.random ?? Math.random);
    const decision: DeliveryDecision | DeadLetterDecision =
      attempt.ageSeconds + afterSeconds > limits.retryPeriodSeconds
        ? { action: 'dead-letter', errorClass: 'signing_failed', reason }
        : { action: 'retry', afterSeconds, reason };
    return { decision };
  }

  /**
   * The original's headers as the gateway sent them: a header that is the gateway's secret itself (Flutterwave's
   * `verif-hash`) was marked instead of stored, and gets the gateway's current secret back here.
   */
  private async originalHeaders(
    delivery: OriginalDelivery,
  ): Promise<{ readonly headers: Readonly<Record<string, string>> } | { readonly failed: string }> {
    const marked = Object.entries(delivery.original.headers).filter(
      ([, value]) => value === GATEWAY_SECRET_MARKER,
    );
    if (marked.length === 0) return { headers: delivery.original.headers };
    let secret: string | undefined;
    try {
      secret = (await this.deps.gatewaySecrets?.get(delivery.gateway))?.secret.secrets[0];
    } catch (error) {
      return { failed: `the ${delivery.gateway} gateway secret could not be read (${errorClassOf(error)})` };
    }
    if (secret === undefined)
      return { failed: `no ${delivery.gateway} gateway secret to send its ${marked[0]?.[0]} with` };
    return {
      headers: {
        ...delivery.original.headers,
        ...Object.fromEntries(marked.map(([name]) => [name, secret])),
      },
    };
  }

  /** Sends one record as its destination's format says; what to do next. Never throws for the destination's behaviour. */
  async attempt(record: SQSRecord): Promise<Attempted> {
    return this.target.settings.format === 'original'
      ? this.attemptOriginal(record)
      : this.attemptPaymentEvent(record);
  }

  /** POSTs the webhook as the gateway sent it: its bytes and headers, no signature of payhook's. */
  private async attemptOriginal(record: SQSRecord): Promise<Attempted> {
    let delivery: OriginalDelivery;
    try {
      delivery = readOriginalDelivery(record.body);
    } catch (error) {
      const reason = `not an original webhook: ${error instanceof Error && error.name === 'InvalidOriginalError' ? error.message : errorClassOf(error)}`;
      return { decision: { action: 'dead-letter', errorClass: 'invalid_message', reason } };
    }
    const headers = await this.originalHeaders(delivery);
    if ('failed' in headers) return this.failedOnOurSide(record, headers.failed);
    return this.send(record, delivery.original.body, headers.headers);
  }

  private async send(
    record: SQSRecord,
    body: string | Uint8Array,
    headers: Readonly<Record<string, string>>,
  ): Promise<Attempted> {
    const { settings } = this.target;
    const result = await this.deps.send({
      url: settings.url,
      body,
      headers,
      timeoutMs: settings.timeoutSeconds * 1000,
      allowPrivateNetwork: settings.allowPrivateNetwork,
      allowLoopback: this.deps.local === true,
      allowHttp: this.deps.local === true,
    });
    const decision = deliveryDecision(result, this.attemptOf(record), this.limits(), this.deps.random);
    return { decision, result };
  }

  /** Signs (Standard Webhooks) and sends one payment event. */
  private async attemptPaymentEvent(record: SQSRecord): Promise<Attempted> {
    let envelope: DeliveryEnvelope;
    try {
      envelope = readDeliveryEnvelope(record.body);
    } catch (error) {
      const reason = `not a payment event: ${(error as { reason?: string }).reason ?? errorClassOf(error)}`;
      return { decision: { action: 'dead-letter', errorClass: 'invalid_message', reason } };
    }
    const body = paymentEventBody(envelope);
    const headers = await this.sign(envelope, body, record);
    if ('decision' in headers) return headers;
    return this.send(record, body, { ...headers, 'content-type': 'application/json' });
  }

  /** Carries out a decision; `true` when the record is done with (delivered or dead-lettered). */
  async act(record: SQSRecord, attempted: Attempted): Promise<{ done: boolean; outcome: Outcome }> {
    const { decision } = attempted;
    const { queue } = this.deps;
    switch (decision.action) {
      case 'delivered':
        return { done: true, outcome: 'delivered' };
      case 'retry':
        await queue.retryAfter(this.target.queueUrl, record, decision.afterSeconds);
        return { done: false, outcome: 'retry' };
      case 'stop':
        await this.deps.states.stop(this.target.name, decision.reason, this.now);
        // Held like the events after it: a delayed copy with its age, so the stop's time is not counted.
        if (
          await queue.holdCopy(
            this.target.queueUrl,
            record,
            recheckSeconds(this.deps),
            deliveryAgeMs(record, this.now),
          )
        ) {
          return { done: true, outcome: 'stopped' };
        }
        await queue.retryAfter(this.target.queueUrl, record, recheckSeconds(this.deps));
        return { done: false, outcome: 'stopped' };
      case 'dead-letter':
        await queue.deadLetter(this.target.deadLetterQueueUrl, this.target.name, record, decision, this.now);
        return { done: true, outcome: 'dead_lettered' };
    }
  }

  log(record: SQSRecord, attempted: Attempted, outcome: Outcome): void {
    const { decision, result } = attempted;
    // What an on-call engineer needs to follow one event; never the body, a header or a secret.
    this.deps.log[outcome === 'delivered' ? 'info' : 'warn']('delivery attempt', {
      destination: this.target.name,
      messageId: record.messageId,
      outcome,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      ...(result?.kind === 'answered' && { status: result.status }),
      ...(result !== undefined && result.kind !== 'answered' && { failure: result.kind }),
      ...('latencyMs' in (result ?? {}) && { latencyMs: (result as { latencyMs: number }).latencyMs }),
      ...(decision.action !== 'delivered' && { reason: decision.reason }),
      ...(decision.action === 'retry' && { retryAfterSeconds: decision.afterSeconds }),
    });
    const metrics = this.deps.metrics ?? NO_METRICS;
    metrics.add(METRICS.deliveryAttempts, this.target.name, 1, outcome);
    if (result !== undefined && 'latencyMs' in result) {
      metrics.add(METRICS.deliveryLatency, this.target.name, result.latencyMs);
    }
  }
}

/** What one attempt meant: done with the record or not, and for the breaker, whether the endpoint was there. */
interface Delivered {
  readonly done: boolean;
  readonly breaker?: BreakerOutcome;
}

/**
 * What counts for the breaker, which guards against an endpoint that is not there: one that answers 5xx,
 * 408/425/429, times out or cannot be reached is failing; any other answer (2xx, a permanent 4xx, a 410) shows it is
 * there, and closes a half-open breaker. An address refused or a signing failure is ours: neither counts.
 */
function breakerOutcome(attempted: Attempted): BreakerOutcome | undefined {
  const { result } = attempted;
  if (result === undefined || result.kind === 'refused-address') return undefined;
  if (result.kind !== 'answered') return 'failure';
  return [408, 425, 429].includes(result.status) || result.status >= 500 ? 'failure' : 'success';
}

async function deliverOne(
  deps: DelivererDependencies,
  target: DeliveryTarget,
  record: SQSRecord,
): Promise<Delivered> {
  const delivery = new Delivery(deps, target);
  let attempted: Attempted;
  try {
    attempted = await delivery.attempt(record);
  } catch (error) {
    // Ours, not the destination's (a signing secret that cannot be read): retried after the queue's timeout.
    deps.log.error('delivery could not be attempted', {
      destination: target.name,
      messageId: record.messageId,
      error: errorClassOf(error),
      reason:
        error instanceof Error && error.name === 'InvalidSigningSecretError' ? error.message : undefined,
    });
    return { done: false };
  }
  try {
    const { done, outcome } = await delivery.act(record, attempted);
    delivery.log(record, attempted, outcome);
    const breaker = breakerOutcome(attempted);
    return breaker === undefined ? { done } : { done, breaker };
  } catch (error) {
    // A dead letter or a stop that could not be written: the record comes back, nothing is lost.
    deps.log.error('delivery outcome could not be recorded', {
      destination: target.name,
      messageId: record.messageId,
      action: attempted.decision.action,
      error: errorClassOf(error),
    });
    return { done: false };
  }
}

function recheckSeconds(deps: DelivererDependencies): number {
  return deps.stoppedRecheckSeconds ?? STOPPED_DESTINATION_RECHECK_SECONDS;
}

/**
 * How long an event has been trying to reach its destination, for the retry period: since it was queued, or, for a
 * copy made while the destination was stopped, its age when held plus the time since the copy was first received
 * (the stop's delay does not count).
 */
export function deliveryAgeMs(record: SQSRecord, now: Date): number {
  const heldAge = Number(record.messageAttributes?.[HELD_AGE_ATTRIBUTE]?.stringValue);
  if (Number.isFinite(heldAge) && heldAge >= 0) {
    const firstReceived = Number(record.attributes.ApproximateFirstReceiveTimestamp);
    return (
      heldAge + Math.max(0, now.getTime() - (Number.isFinite(firstReceived) ? firstReceived : now.getTime()))
    );
  }
  return Math.max(0, now.getTime() - Number(record.attributes.SentTimestamp));
}

/**
 * Records that wait on the queue, none attempted (a stopped destination, an open breaker, the rate reached): each goes
 * back as a delayed copy carrying its age, and the record counts as done. A copy starts with fresh receives, so a long
 * wait neither runs into the queue's redrive (1000 receives) nor grows the back-off, and the wait is not counted
 * against the retry period. A copy that cannot be sent leaves its record on the queue, hidden as long.
 */
async function hold(deps: DelivererDependencies, target: DeliveryTarget, held: Held): Promise<string[]> {
  const now = deps.now?.() ?? new Date();
  const kept: string[] = [];
  // In parallel, as the batch's deliveries are: a held batch costs one round trip, not ten.
  await Promise.all(
    held.records.map(async (record, index) => {
      const wanted = held.delaySeconds(index);
      const delay = Math.min(wanted, deps.maxHoldSeconds ?? 900);
      // A copy that would come back before its reserved token is there asks again instead.
      const rate = target.settings.rateLimitPerSecond;
      const reservation =
        held.reserved === true && delay >= wanted && rate !== undefined
          ? { dueAtMs: now.getTime() + delay * 1000, ratePerSecond: rate }
          : undefined;
      const copied = await deps.queue.holdCopy(
        target.queueUrl,
        record,
        delay,
        deliveryAgeMs(record, now),
        reservation,
      );
      if (!copied) {
        await deps.queue.retryAfter(target.queueUrl, record, delay);
        kept.push(record.messageId);
      }
    }),
  );
  if (held.records.length > 0) {
    (deps.metrics ?? NO_METRICS).add(
      METRICS.deliveryAttempts,
      target.name,
      held.records.length,
      held.outcome,
    );
    deps.log.warn('deliveries held on their queue', {
      destination: target.name,
      held: held.records.length,
      why: held.outcome,
    });
  }
  return kept;
}

/** One destination's records: admitted by its breaker and rate, attempted in parallel, outcomes to the breaker. */
async function deliverBatch(
  deps: DelivererDependencies,
  target: DeliveryTarget,
  records: readonly SQSRecord[],
): Promise<string[]> {
  const now = () => deps.now?.() ?? new Date();
  const admission = { breakers: deps.breakers, rateLimiter: deps.rateLimiter, now, log: deps.log };
  const admitted = await admitBatch(admission, target.name, target.settings, records);
  const failures: string[] = [];
  for (const held of admitted.held) failures.push(...(await hold(deps, target, held)));
  // One destination's batch in parallel: each its own attempt, its own answer.
  const delivered = await Promise.all(admitted.attempt.map((record) => deliverOne(deps, target, record)));
  failures.push(
    ...admitted.attempt.filter((_, index) => !delivered[index]?.done).map((record) => record.messageId),
  );
  if (admitted.breaker) {
    const outcomes = delivered.flatMap((result) => (result.breaker ? [result.breaker] : []));
    await recordOutcomes(admission, target.name, target.settings, admitted.breaker, outcomes);
  }
  return failures;
}

export function createDeliverer(deps: DelivererDependencies) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    const byTarget = new Map<DeliveryTarget | undefined, SQSRecord[]>();
    for (const record of event.Records) {
      const target = targetOf(deps.targets, record);
      byTarget.set(target, [...(byTarget.get(target) ?? []), record]);
    }
    for (const [target, records] of byTarget) {
      if (target === undefined) {
        deps.log.error('records from a queue no destination names', { records: records.length });
        failures.push(...records.map((record) => record.messageId));
      } else if ((await deps.states.get(target.name)).stopped) {
        const delaySeconds = () => recheckSeconds(deps);
        failures.push(...(await hold(deps, target, { records, delaySeconds, outcome: 'held' })));
      } else {
        failures.push(...(await deliverBatch(deps, target, records)));
      }
    }
    (deps.metrics ?? NO_METRICS).flush();
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
