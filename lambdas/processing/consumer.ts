import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { MESSAGE_ATTRIBUTES, METRICS } from '../definitions.js';
import { type MoneyJson, moneyToJson } from '../domain/money.js';
import { ImpossibleEventError } from '../domain/payment.js';
import { GATEWAYS, type GatewayName, type WebhookEvent } from '../domain/webhook-event.js';
import { sqsSafeJson, stringAttribute } from '../messages/sqs-text.js';
import { InvalidMessageError, readWebhookEventMessage } from '../messages/webhook-event-message.js';
import { type ApplyDependencies, type ApplyResult, applyEvent } from './apply-event.js';

export interface ConsumerDependencies {
  readonly apply: ApplyDependencies;
  /**
   * Makes a Powertools idempotency store (DynamoDB on AWS and locally). One per gateway: a persistence layer keeps the
   * configuration of its first use, so gateways sharing one would all get the first gateway's dedupe window.
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
}

/** How a failed record is treated: put aside at once (permanent) or retried later (transient). */
export interface Failure {
  readonly errorClass: string;
  readonly message: string;
  readonly permanent: boolean;
  /** In-flight duplicates are retried soon and never dead-lettered by the consumer. */
  readonly inProgress: boolean;
  /** What the metrics count it as: the error class, or for a transient failure the error's name (its cause). */
  readonly metricClass: string;
}

function rootCause(error: unknown): unknown {
  // Powertools wraps some errors it did not raise itself; the cause is what decides.
  let current = error;
  while (current instanceof Error && current.name === 'IdempotencyUnknownError' && current.cause)
    current = current.cause;
  return current;
}

/**
 * A transient failure's class for the metrics: a short fixed list, since each value is a metric CloudWatch bills
 * monthly. The error's own name stays in the log line and the DLQ message.
 */
export function transientClass(errorName: string): string {
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|TooManyRequests|SlowDown/.test(errorName)) {
    return 'throttled';
  }
  if (/Timeout|TimedOut|ECONNRESET|ECONNREFUSED|NetworkingError/i.test(errorName)) return 'network';
  if (/Internal|ServiceUnavailable|ServerError|Unavailable/.test(errorName)) return 'aws_5xx';
  if (errorName.startsWith('Idempotency')) return 'idempotency_store';
  return 'other';
}

/** A failure payhook named itself: the metrics count it by that name. */
function named(errorClass: string, message: string, kind: 'permanent' | 'in_progress'): Failure {
  const permanent = kind === 'permanent';
  return { errorClass, message, permanent, inProgress: !permanent, metricClass: errorClass };
}

export function classifyFailure(error: unknown): Failure {
  const cause = rootCause(error);
  const message = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof InvalidMessageError) return named(cause.errorClass, message, 'permanent');
  if (cause instanceof IdempotencyValidationError) {
    return named(
      'payload_mismatch',
      'this event id was already processed with a different amount or currency; refusing to apply it',
      'permanent',
    );
  }
  if (cause instanceof ImpossibleEventError) return named('impossible_event', message, 'permanent');
  if (cause instanceof IdempotencyAlreadyInProgressError) return named('in_progress', message, 'in_progress');
  const name = cause instanceof Error ? cause.name : 'Error';
  // DynamoDB refuses the request itself (a key too long, an item too large): it will refuse every retry too.
  if (name === 'ValidationException') return named('invalid_data', `${name}: ${message}`, 'permanent');
  return {
    errorClass: 'retries_exhausted',
    message: `${name}: ${message}`,
    permanent: false,
    inProgress: false,
    metricClass: transientClass(name),
  };
}

/** Exponential back-off by receive count (10 s, 20 s, 40 s, ... capped at 15 min), with jitter against herds. */
export function backOffSeconds(receiveCount: number, random: () => number = Math.random): number {
  const base = Math.min(10 * 2 ** Math.max(0, receiveCount - 1), 900);
  return Math.round(base * (0.8 + 0.4 * random()));
}

const IN_PROGRESS_RETRY_SECONDS = 5;

/**
 * Times a record whose receives are running out while its event is in progress elsewhere is sent back to its queue
 * with fresh receives, before it is dead-lettered as `in_progress_exhausted`. Each waits out the in-progress expiry,
 * so three cover an owner that crashed, and more would only hide a stuck one.
 */
export const MAX_IN_PROGRESS_REQUEUES = 3;

/**
 * How long a record that met an in-progress idempotency record waits: briefly at first, since it is usually a
 * concurrent duplicate whose twin finishes within seconds; then doubling up to `expirySeconds`, since the in-progress
 * record may be an orphan (a crashed invocation, a write whose answer was lost) that only expires with the consumer's
 * timeout.
 */
export function inProgressDelaySeconds(receiveCount: number, expirySeconds: number): number {
  return Math.min(expirySeconds, IN_PROGRESS_RETRY_SECONDS * 2 ** Math.max(0, receiveCount - 1));
}
function originalAttributes(record: SQSRecord): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
    if (attribute.stringValue !== undefined) result[name] = attribute.stringValue;
  }
  return result;
}

/**
 * The key the idempotency layer stores: the gateway's event id, never the SQS message id. Powertools reads only the
 * key and `money` (hashed to refuse the same id with other money), so the event itself goes through as it was read.
 */
interface IdempotentInput {
  readonly idempotencyKey: string;
  readonly money: MoneyJson | null;
  readonly event: WebhookEvent;
}

/**
 * Builds the SQS consumer: Powertools batch processing with partial batch responses, each record made idempotent
 * on `gateway#eventId` with the gateway's dedupe window, and failures either retried with back-off or dead-lettered
 * with their reason.
 */
export function createConsumer(deps: ConsumerDependencies) {
  const metrics = deps.metrics ?? NO_METRICS;
  // Inputs whose function ran in this container; an input Powertools answered from its store is a duplicate.
  const executed = new WeakSet<IdempotentInput>();
  const configs = new Map<GatewayName, IdempotencyConfig>();
  const apply = new Map<GatewayName, (input: IdempotentInput) => Promise<ApplyResult>>();
  for (const gateway of GATEWAYS) {
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'idempotencyKey',
      // The same event id with another amount or currency is refused, not applied (IdempotencyValidationError).
      payloadValidationJmesPath: 'money',
      expiresAfterSeconds: deps.dedupeWindows[gateway],
      throwOnNoIdempotencyKey: true,
    });
    configs.set(gateway, config);
    apply.set(
      gateway,
      makeIdempotent(
        // The message was read and checked by readWebhookEventMessage before it got here.
        async (input: IdempotentInput) => {
          executed.add(input);
          return applyEvent(input.event, deps.apply);
        },
        { persistenceStore: deps.newIdempotencyStore(), config },
      ),
    );
  }

  async function deadLetter(record: SQSRecord, failure: Failure, receiveCount: number): Promise<void> {
    const original = originalAttributes(record);
    const firstReceived = Number(record.attributes.ApproximateFirstReceiveTimestamp);
    const firstFailedAt =
      failure.permanent || !Number.isFinite(firstReceived) ? new Date() : new Date(firstReceived);
    const attributes: Record<string, MessageAttributeValue> = {
      [MESSAGE_ATTRIBUTES.errorClass]: stringAttribute(failure.errorClass),
      [MESSAGE_ATTRIBUTES.errorMessage]: stringAttribute(failure.message),
      [MESSAGE_ATTRIBUTES.firstFailedAt]: stringAttribute(firstFailedAt.toISOString()),
      [MESSAGE_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: String(receiveCount) },
      // Not shortened like the human-readable attributes: a redrive restores the original attributes from it.
      [MESSAGE_ATTRIBUTES.originalAttributes]: { DataType: 'String', StringValue: sqsSafeJson(original) },
    };
    // Kept at the top level too, so the on-call CLI can filter without unpacking.
    for (const name of [
      MESSAGE_ATTRIBUTES.messageType,
      MESSAGE_ATTRIBUTES.gateway,
      MESSAGE_ATTRIBUTES.eventType,
      MESSAGE_ATTRIBUTES.eventId,
    ]) {
      const value = original[name];
      if (value !== undefined) attributes[name] = stringAttribute(value);
    }
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.deadLetterQueueUrl,
        MessageBody: record.body,
        MessageAttributes: attributes,
      }),
    );
  }

  /**
   * Sends the record back to its own queue, delayed, with its attributes and a requeue count: the copy starts with
   * fresh receives, and the original is then deleted as handled. Safe because applying is idempotent.
   */
  async function requeue(record: SQSRecord, seconds: number, requeues: number): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
      if (attribute.stringValue === undefined || name === MESSAGE_ATTRIBUTES.inProgressRequeues) continue;
      attributes[name] = { DataType: attribute.dataType || 'String', StringValue: attribute.stringValue };
    }
    attributes[MESSAGE_ATTRIBUTES.inProgressRequeues] = { DataType: 'Number', StringValue: String(requeues) };
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.queueUrl,
        MessageBody: record.body,
        DelaySeconds: Math.min(900, Math.max(0, seconds)),
        MessageAttributes: attributes,
      }),
    );
  }

  async function backOff(record: SQSRecord, seconds: number): Promise<void> {
    try {
      await deps.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: deps.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      // The queue's own visibility timeout still brings the message back; a failed back-off only makes it sooner.
      deps.log.warn('could not delay the retry', {
        messageId: record.messageId,
        error: (error as Error).name,
      });
    }
  }

  async function handleRecord(record: SQSRecord): Promise<void> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    // The event id, read from the attribute ingest sets, so failure lines can be followed back to the webhook.
    const gateway = record.messageAttributes?.[MESSAGE_ATTRIBUTES.gateway]?.stringValue ?? 'unknown';
    // Gateway, event id, reference and ingest's request id on every line, so one search follows a webhook from
    // ingest to its payment event; read from the message attributes until the body is parsed.
    let context: Record<string, unknown> = {
      messageId: record.messageId,
      receiveCount,
      gateway,
      eventId: record.messageAttributes?.[MESSAGE_ATTRIBUTES.eventId]?.stringValue,
      requestId: record.messageAttributes?.[MESSAGE_ATTRIBUTES.requestId]?.stringValue,
    };
    const sentAt = Number(record.attributes.SentTimestamp);
    if (Number.isFinite(sentAt)) metrics.add(METRICS.queueDelay, gateway, Math.max(0, Date.now() - sentAt));
    try {
      const event = readWebhookEventMessage(record.body);
      context = {
        ...context,
        gateway: event.gateway,
        eventId: event.eventId,
        ...(event.reference !== undefined && { reference: event.reference }),
        requestId: event.requestId,
      };
      const run = apply.get(event.gateway);
      if (!run) throw new InvalidMessageError(`no consumer for gateway ${event.gateway}`, 'unknown_gateway');
      const input: IdempotentInput = {
        idempotencyKey: `${event.gateway}#${event.eventId}`,
        money: event.money ? moneyToJson(event.money) : null,
        event,
      };
      const result = await run(input);
      const duplicate = !executed.has(input);
      metrics.add(METRICS.eventsProcessed, event.gateway, 1, duplicate ? 'duplicate' : result.outcome);
      if (!duplicate && result.transition && result.transition.from !== result.transition.to)
        metrics.add(METRICS.transitions, event.gateway, 1, result.transition.to);
      deps.log.info('event processed', {
        ...context,
        outcome: duplicate ? 'duplicate' : result.outcome,
        // A duplicate published nothing: its cached result would make a search find two publishers.
        ...(!duplicate &&
          result.transition && {
            from: result.transition.from,
            to: result.transition.to,
            // The ids the payment events were published with: the last link from webhook to downstream consumers.
            paymentEventIds: (result.announced ?? []).map((item) => item.id),
          }),
      });
    } catch (error) {
      const failure = classifyFailure(error);
      metrics.add(METRICS.processingFailures, gateway, 1, failure.metricClass);
      if (failure.inProgress) {
        const seconds = inProgressDelaySeconds(
          receiveCount,
          deps.inProgressRetrySeconds ?? IN_PROGRESS_RETRY_SECONDS,
        );
        if (receiveCount < deps.maxReceiveCount - 1) {
          deps.log.info('event in progress elsewhere; retrying later', {
            ...context,
            retryInSeconds: seconds,
          });
          await backOff(record, seconds);
          throw error;
        }
        // Its receives are running out (crashes and throttling burn them too): SQS would move it to the DLQ with no
        // reason while its event is still merely in progress. Send it back with fresh receives, a few times.
        const requeues = Number(
          record.messageAttributes?.[MESSAGE_ATTRIBUTES.inProgressRequeues]?.stringValue ?? 0,
        );
        if (requeues < MAX_IN_PROGRESS_REQUEUES) {
          const expiry = deps.inProgressRetrySeconds ?? IN_PROGRESS_RETRY_SECONDS;
          await requeue(record, expiry, requeues + 1);
          deps.log.warn('event in progress elsewhere; requeued with fresh receives', {
            ...context,
            requeues: requeues + 1,
            retryInSeconds: expiry,
          });
          return;
        }
        const stuck: Failure = {
          ...failure,
          errorClass: 'in_progress_exhausted',
          message: `still in progress elsewhere after ${requeues} requeues: another invocation holds it; redrive once it is done`,
          permanent: true,
          metricClass: 'in_progress_exhausted',
        };
        await deadLetter(record, stuck, receiveCount);
        metrics.add(METRICS.deadLettered, gateway, 1, stuck.errorClass);
        deps.log.error('event dead-lettered', {
          ...context,
          errorClass: stuck.errorClass,
          errorMessage: stuck.message,
        });
        return;
      }
      if (failure.permanent || receiveCount >= deps.maxReceiveCount) {
        // Dead-lettered with its reason, so no DLQ message lacks one; the record then counts as handled. If the
        // send fails, the record fails too and SQS's own redrive remains the safety net.
        await deadLetter(record, failure, receiveCount);
        metrics.add(METRICS.deadLettered, gateway, 1, failure.errorClass);
        deps.log.error('event dead-lettered', {
          ...context,
          errorClass: failure.errorClass,
          errorMessage: failure.message,
        });
        return;
      }
      deps.log.warn('event failed; will retry', {
        ...context,
        errorClass: failure.errorClass,
        errorMessage: failure.message,
      });
      await backOff(record, (deps.retryDelay ?? backOffSeconds)(receiveCount));
      throw error;
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    for (const config of configs.values()) config.registerLambdaContext(context);
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
