/**
 * The SQS consumer. Each record is parsed, applied once (idempotent on the gateway's event id) and logged; every
 * failure goes to one handler, which counts it, asks the failure policy (`failure-policy.ts`) whether to retry,
 * requeue or dead-letter it, and has `SqsRedelivery` do so.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { MESSAGE_ATTRIBUTES, METRICS } from '../definitions.js';
import { type MoneyJson, moneyToJson } from '../domain/money.js';
import { GATEWAYS, type GatewayName, type WebhookEvent } from '../domain/webhook-event.js';
import type { OriginalWebhook } from '../messages/original-webhook.js';
import { InvalidMessageError, readQueuedWebhook } from '../messages/webhook-event-message.js';
import { type ApplyDependencies, type ApplyResult, applyEvent } from './apply-event.js';
import {
  type Attempts,
  backOffSeconds,
  classifyFailure,
  type FailureLimits,
  failureAction,
  IN_PROGRESS_RETRY_SECONDS,
  MAX_IN_PROGRESS_REQUEUES,
} from './failure-policy.js';
import type { OriginalForwarding } from './original-forwarding.js';
import { SqsRedelivery } from './sqs-redelivery.js';

// The failure policy moved to failure-policy.ts; still exported here for code that imports it from the consumer.
export {
  backOffSeconds,
  classifyFailure,
  type Failure,
  inProgressDelaySeconds,
  MAX_IN_PROGRESS_REQUEUES,
  transientClass,
} from './failure-policy.js';

export interface ConsumerDependencies {
  readonly apply: ApplyDependencies;
  /**
   * Makes a Powertools idempotency store: on AWS and locally, the event records on the payments table
   * (`DynamoEventRecords`), which also write each event's history entry when it completes. One per gateway: a
   * persistence layer keeps the configuration of its first use, so gateways sharing one would all get the first
   * gateway's dedupe window.
   */
  readonly newIdempotencyStore: () => BasePersistenceLayer;
  /** Dedupe window per gateway, in seconds. */
  readonly dedupeWindows: Readonly<Record<GatewayName, number>>;
  readonly sqs: SQSClient;
  /** The queue this consumer drains (for visibility back-off) and its dead-letter queue. */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly maxReceiveCount: number;
  readonly log: StructuredLog;
  /** Seconds before a failed record comes back, by receive count. @default backOffSeconds */
  readonly retryDelay?: (receiveCount: number) => number;
  /**
   * The longest a record that met an in-progress idempotency record waits before it is tried again (the first waits
   * are shorter: see `inProgressDelaySeconds`). It should outlast the consumer's timeout: an in-progress record orphaned by a
   * failed write expires only then, and retrying sooner burns receives until SQS moves the message to the DLQ with
   * no reason. @default 5
   */
  readonly inProgressRetrySeconds?: number;
  /** Outcomes, transitions, failures and queue delay per gateway. @default NO_METRICS */
  readonly metrics?: MetricsRecorder;
  /** Forwards original webhooks to the `original` destinations' queues. @default none configured */
  readonly originals?: OriginalForwarding;
}

/**
 * What the idempotency layer keys and validates: the gateway's event id, never the SQS message id (the event records
 * key it by the event's history item, from `event`), and `money` (hashed to refuse the same id with other money). The
 * event itself goes through as it was read.
 */
export interface IdempotentInput {
  readonly idempotencyKey: string;
  readonly money: MoneyJson | null;
  readonly event: WebhookEvent;
  /** The webhook as the gateway sent it, when its message carries it (for `original` destinations). */
  readonly original?: OriginalWebhook;
}

/** How an event is made idempotent: on its key, refusing other money, for a dedupe window (seconds). */
export function idempotencyConfig(dedupeWindowSeconds: number): IdempotencyConfig {
  return new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    // The same event id with another amount or currency is refused, not applied (IdempotencyValidationError).
    payloadValidationJmesPath: 'money',
    expiresAfterSeconds: dedupeWindowSeconds,
    throwOnNoIdempotencyKey: true,
  });
}

/** The idempotent step's input for an event (and the original webhook its message carries, if any). */
export function idempotentInput(event: WebhookEvent, original?: OriginalWebhook): IdempotentInput {
  return {
    idempotencyKey: `${event.gateway}#${event.eventId}`,
    money: event.money ? moneyToJson(event.money) : null,
    event,
    ...(original && { original }),
  };
}

/** What applying one event once did; a duplicate is one Powertools answered from its store, without applying it. */
interface Applied {
  readonly result: ApplyResult;
  readonly duplicate: boolean;
}

/**
 * `applyEvent` made idempotent on `gateway#eventId`, with each gateway's own dedupe window and idempotency store, and
 * the configurations, which need each invocation's Lambda context.
 */
function idempotentApply(deps: ConsumerDependencies) {
  // Inputs whose function ran in this container; an input Powertools answered from its store is a duplicate.
  const executed = new WeakSet<IdempotentInput>();
  const configs: IdempotencyConfig[] = [];
  const runners = new Map<GatewayName, (input: IdempotentInput) => Promise<ApplyResult>>();
  for (const gateway of GATEWAYS) {
    const config = idempotencyConfig(deps.dedupeWindows[gateway]);
    configs.push(config);
    // The original's forwarding runs inside the idempotent step: a duplicate forwards nothing, and a failed send
    // fails the step, so the retry applies (harmlessly) and sends again.
    const apply = async (input: IdempotentInput) => {
      executed.add(input);
      await deps.originals?.beforeApply(input.event, input.original);
      const result = await applyEvent(input.event, deps.apply);
      await deps.originals?.afterApply(input.event, input.original);
      return result;
    };
    runners.set(gateway, makeIdempotent(apply, { persistenceStore: deps.newIdempotencyStore(), config }));
  }

  async function applyOnce(event: WebhookEvent, original?: OriginalWebhook): Promise<Applied> {
    const run = runners.get(event.gateway);
    if (!run) throw new InvalidMessageError(`no consumer for gateway ${event.gateway}`, 'unknown_gateway');
    const input = idempotentInput(event, original);
    const result = await run(input);
    return { result, duplicate: !executed.has(input) };
  }

  return { configs, applyOnce };
}

/** One delivery of a record, as its attributes tell it before its body is read. */
interface Delivery extends Attempts {
  /** The gateway its message attribute names: what its queue delay and failures are counted under. */
  readonly gateway: string;
  /** Gateway, event id and ingest's request id, so one search follows a webhook from ingest to here. */
  readonly fields: Readonly<Record<string, unknown>>;
}

function readDelivery(record: SQSRecord): Delivery {
  const attributes = record.messageAttributes;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const gateway = attributes?.[MESSAGE_ATTRIBUTES.gateway]?.stringValue ?? 'unknown';
  return {
    receiveCount,
    requeues: Number(attributes?.[MESSAGE_ATTRIBUTES.inProgressRequeues]?.stringValue ?? 0),
    gateway,
    fields: {
      messageId: record.messageId,
      // Only on a redelivery: the first receive (nearly every line) says nothing by leaving it out.
      ...(receiveCount > 1 && { receiveCount }),
      gateway,
      eventId: attributes?.[MESSAGE_ATTRIBUTES.eventId]?.stringValue,
      requestId: attributes?.[MESSAGE_ATTRIBUTES.requestId]?.stringValue,
    },
  };
}

/** The log fields once the body is read: the event's own gateway, event id, reference and request id. */
function eventFields(
  fields: Readonly<Record<string, unknown>>,
  event: WebhookEvent,
): Record<string, unknown> {
  return {
    ...fields,
    gateway: event.gateway,
    eventId: event.eventId,
    ...(event.reference !== undefined && { reference: event.reference }),
    requestId: event.requestId,
  };
}

function countQueueDelay(metrics: MetricsRecorder, record: SQSRecord, gateway: string): void {
  const sentAt = Number(record.attributes.SentTimestamp);
  // Per consumer only: every gateway shares the queue (the gateway is in the record's log line).
  if (Number.isFinite(sentAt)) metrics.add(METRICS.queueDelay, gateway, Math.max(0, Date.now() - sentAt));
}

/**
 * What the "event processed" line adds to the record's fields: its outcome and status change are counted from these
 * lines (Logs Insights, the dashboard's log-query row), not as metrics, which would be billed every month whether a
 * webhook came or not (issue #20).
 */
function processedFields({ result, duplicate }: Applied): Record<string, unknown> {
  return {
    outcome: duplicate ? 'duplicate' : result.outcome,
    // A duplicate published nothing: its cached result would make a search find two publishers.
    ...(!duplicate &&
      result.transition && {
        from: result.transition.from,
        to: result.transition.to,
        // The ids the payment events were published with: the last link from webhook to downstream consumers.
        paymentEventIds: (result.announced ?? []).map((item) => item.id),
      }),
  };
}

/**
 * The one place a failed record goes: counted, decided by {@link failureAction}, carried out by `SqsRedelivery`,
 * logged. It throws (the record fails, and SQS hands it back after the back-off) only for a retry; a requeued or
 * dead-lettered record counts as handled. A requeue or dead-letter send that fails throws too.
 */
function failureHandler(deps: ConsumerDependencies, metrics: MetricsRecorder) {
  const { sqs, queueUrl, deadLetterQueueUrl, log } = deps;
  const redelivery = new SqsRedelivery({ sqs, queueUrl, deadLetterQueueUrl, log });
  const limits: FailureLimits = {
    maxReceiveCount: deps.maxReceiveCount,
    maxInProgressRequeues: MAX_IN_PROGRESS_REQUEUES,
    inProgressExpirySeconds: deps.inProgressRetrySeconds ?? IN_PROGRESS_RETRY_SECONDS,
    retryDelay: deps.retryDelay ?? backOffSeconds,
  };

  return async (error: unknown, record: SQSRecord, delivery: Delivery, fields: Record<string, unknown>) => {
    const failure = classifyFailure(error);
    metrics.add(METRICS.processingFailures, delivery.gateway, 1, failure.metricClass);
    const action = failureAction(failure, delivery, limits);
    switch (action.action) {
      case 'retry':
        if (failure.inProgress) {
          log.info('event in progress elsewhere; retrying later', {
            ...fields,
            retryInSeconds: action.afterSeconds,
          });
        } else {
          log.warn('event failed; will retry', {
            ...fields,
            errorClass: failure.errorClass,
            errorMessage: failure.message,
          });
        }
        await redelivery.retry(record, action);
        throw error;
      case 'requeue':
        await redelivery.requeue(record, action);
        log.warn('event in progress elsewhere; requeued with fresh receives', {
          ...fields,
          requeues: action.requeues,
          retryInSeconds: action.afterSeconds,
        });
        return;
      case 'dead-letter':
        await redelivery.deadLetter(record, action, delivery.receiveCount);
        metrics.add(METRICS.deadLettered, delivery.gateway, 1, action.errorClass);
        log.error('event dead-lettered', {
          ...fields,
          errorClass: action.errorClass,
          errorMessage: action.reason,
        });
        return;
    }
  };
}

/**
 * Builds the SQS consumer: Powertools batch processing with partial batch responses, each record made idempotent
 * on `gateway#eventId` with the gateway's dedupe window, and failures either retried with back-off, requeued or
 * dead-lettered with their reason.
 */
export function createConsumer(deps: ConsumerDependencies) {
  const metrics = deps.metrics ?? NO_METRICS;
  const { configs, applyOnce } = idempotentApply(deps);
  const handleFailure = failureHandler(deps, metrics);

  /** Parse, apply once, log; any error goes to `handleFailure`. */
  async function handleRecord(record: SQSRecord): Promise<void> {
    const delivery = readDelivery(record);
    countQueueDelay(metrics, record, delivery.gateway);
    let fields: Record<string, unknown> = delivery.fields;
    try {
      const { event, original, unreadableOriginal } = await readQueuedWebhook(record.body);
      fields = eventFields(fields, event);
      if (unreadableOriginal !== undefined) {
        // The event is applied all the same: the original is a parcel for a courier, not a fact about the payment.
        deps.log.error('original webhook unreadable: not delivered', {
          ...fields,
          reason: unreadableOriginal,
        });
      }
      const applied = await applyOnce(event, original);
      // The SQS message id only where a message's fate is in question (failure lines): a processed event is found by
      // its event id and request id, and its message is gone (issue #20: each line's bytes are billed).
      const { messageId: _messageId, ...processed } = fields;
      deps.log.info('event processed', { ...processed, ...processedFields(applied) });
    } catch (error) {
      await handleFailure(error, record, delivery, fields);
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    for (const config of configs) config.registerLambdaContext(context);
    // A processor per invocation: it keeps the batch's successes and failures on itself, so one shared by concurrent
    // invocations (the local stack's pollers) would report another batch's failures and delete failed records.
    try {
      // A batch whose every record failed is reported record by record like any other, not thrown: each failure
      // here is already handled (backed off or dead-lettered), and a throw would count as a function error.
      return await processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
        context,
        throwOnFullBatchFailure: false,
      });
    } finally {
      metrics.flush();
    }
  };
}
