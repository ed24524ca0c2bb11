/**
 * A destination's dead-lettered deliveries, behind `payhook deliveries list|show|redrive` and the failures
 * `payhook deliveries status` shows: read as the delivery function writes them
 * (`lambdas/delivery/sqs-delivery-queue.ts`), and held, filtered and moved by the same code as the pipeline's dead
 * letters (`dlq-reader.ts`, `dead-letter-moves.ts`), with the same safety rules.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { DELIVERY_MAX_RECEIVE_COUNT, MESSAGE_ATTRIBUTES } from '../../lambdas/definitions.js';
import { maskBody, visibleAttributes } from './dead-letter-detail.js';
import type { RedriveOptions } from './dead-letter-moves.js';
import { type RedrivePolicy, type RedriveResult, redriveWith } from './dead-letter-moves.js';
import { type Counted, countBy, peekLetters, queueAndDeadLetters } from './dead-letters.js';
import {
  bodyObject,
  EXHAUSTED_WITHOUT_REPORT,
  firstFailure,
  holdLetters,
  maskedErrorMessage,
  matchesFilter,
  stringAttributes,
  stringField,
} from './dlq-reader.js';
import { maskText } from './masking.js';
import type { DeadLetterFilter, DeliveryLetter, DestinationQueues } from './types.js';

/** The attributes the delivery function puts on a dead letter beside the failure ones the consumers write too. */
export const DELIVERY_ATTRIBUTES = {
  destination: 'destination',
  /** The HTTP status of the last answer. */
  status: 'status',
  /** The answer's first bytes, made printable. */
  answerStart: 'answerStart',
} as const;

const SHOWN_AS_FIELDS: ReadonlySet<string> = new Set(Object.values(DELIVERY_ATTRIBUTES));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The attributes EventBridge puts on an event it could not put on the destination's queue (the rule's target has the
 * destination's dead-letter queue as its own): the event never reached the delivery function.
 */
const EVENTBRIDGE_ATTRIBUTES = { errorCode: 'ERROR_CODE', errorMessage: 'ERROR_MESSAGE' } as const;
export const EVENTBRIDGE_UNDELIVERED = 'eventbridge_undelivered';

/** The error class and message: the delivery function's, else EventBridge's, else SQS moved it (no reason). */
function failureOf(
  attributes: Readonly<Record<string, string>>,
): Pick<DeliveryLetter, 'errorClass' | 'errorMessage'> {
  const reported = attributes[MESSAGE_ATTRIBUTES.errorClass];
  const eventBridgeCode = attributes[EVENTBRIDGE_ATTRIBUTES.errorCode];
  if (reported === undefined && eventBridgeCode !== undefined) {
    const text = attributes[EVENTBRIDGE_ATTRIBUTES.errorMessage];
    return {
      errorClass: EVENTBRIDGE_UNDELIVERED,
      errorMessage: maskText(text === undefined ? eventBridgeCode : `${eventBridgeCode}: ${text}`),
    };
  }
  return { errorClass: reported ?? EXHAUSTED_WITHOUT_REPORT, errorMessage: maskedErrorMessage(attributes) };
}

/**
 * A received dead-letter message of a destination, as `payhook deliveries list` shows it. Its body is the EventBridge
 * event the delivery rule matched: the detail-type, and the payment event (its id, gateway and reference) inside.
 */
export function toDeliveryLetter(message: Message, pair: DestinationQueues, now: Date): DeliveryLetter {
  const attributes = stringAttributes(message);
  const envelope = bodyObject(message);
  const detail = isRecord(envelope?.detail) ? envelope.detail : undefined;
  const status = Number(attributes[DELIVERY_ATTRIBUTES.status]);
  const recordedCount = Number(attributes[MESSAGE_ATTRIBUTES.receiveCount]);
  const answerStart = attributes[DELIVERY_ATTRIBUTES.answerStart];
  return {
    messageId: message.MessageId ?? '',
    destination: pair.destination,
    // A payment event (the EventBridge envelope the rule matched) or an original webhook (payhook's own envelope).
    gateway: stringField(detail, 'gateway') ?? stringField(envelope, 'gateway'),
    eventType:
      stringField(envelope, 'detail-type') ??
      (envelope?.messageType === 'original-webhook' ? 'original-webhook' : undefined),
    eventId: stringField(detail, 'id') ?? stringField(envelope, 'eventId'),
    reference: stringField(detail, 'reference') ?? stringField(detail, 'gatewayPaymentId'),
    ...failureOf(attributes),
    ...(Number.isInteger(status) && status > 0 && { status }),
    // The destination's own words: an error page can quote what it was sent, or anything else.
    ...(answerStart !== undefined && { answerStart: maskText(answerStart) }),
    // Attempts made, as the delivery function counted them; when it recorded none, SQS moved the message after its
    // redrive's maxReceiveCount (a function crashing on it, or a stop of about 10 days).
    receiveCount: Number.isInteger(recordedCount) ? recordedCount : DELIVERY_MAX_RECEIVE_COUNT,
    ...firstFailure(message, attributes, now),
  };
}

/** Every matching dead letter of the destination, oldest failure first; all of them are let go again at once. */
export async function readDeliveryLetters(
  sqs: SQSClient,
  destination: DestinationQueues,
  filter: DeadLetterFilter,
  now: Date,
): Promise<DeliveryLetter[]> {
  const held = await peekLetters(sqs, [destination], now, toDeliveryLetter);
  return held.map((item) => item.letter).filter((letter) => matchesFilter(letter, filter));
}

/** Dead-lettered deliveries sharing an error class, an HTTP status and a detail-type. */
export type DeliveryLetterGroup = Counted<Pick<DeliveryLetter, 'errorClass' | 'status' | 'eventType'>>;

/** The summary `payhook deliveries list` prints first: largest group first. */
export function summariseDeliveries(letters: readonly DeliveryLetter[]): DeliveryLetterGroup[] {
  return countBy(letters, (letter) => ({
    errorClass: letter.errorClass,
    status: letter.status,
    eventType: letter.eventType,
  }))
    .map((group, order) => ({ group, order }))
    .sort((a, b) => b.group.count - a.group.count || a.order - b.order)
    .map(({ group }) => group);
}

/** A dead-lettered delivery in full, masked. */
export interface DeliveryLetterDetail extends DeliveryLetter {
  /** The EventBridge event, as queued for the destination; secret-named fields redacted. */
  readonly body: unknown;
  /** Any other attributes the message carries, secret-looking names redacted. */
  readonly attributes: Readonly<Record<string, string>>;
  /** When it landed on the dead-letter queue, where SQS says. */
  readonly deadLetteredAt?: string;
}

/** One dead-lettered delivery in full; `undefined` when the destination's dead-letter queue does not hold it. */
export async function showDeliveryLetter(
  sqs: SQSClient,
  destination: DestinationQueues,
  messageId: string,
  now: Date,
): Promise<DeliveryLetterDetail | undefined> {
  const held = await peekLetters(sqs, [destination], now, toDeliveryLetter);
  const found = held.find((item) => item.letter.messageId === messageId);
  if (found === undefined) return undefined;
  return {
    ...found.letter,
    body: maskBody(found.message.Body ?? ''),
    attributes: visibleAttributes(found.message, SHOWN_AS_FIELDS),
    ...(found.sentAt !== undefined && { deadLetteredAt: new Date(found.sentAt).toISOString() }),
  };
}

/**
 * A delivery goes back to its destination's queue as a new message, with no attributes (as the delivery rule sends
 * one): its retry period starts again, and its failure attributes do not follow it. Every failure class may go back;
 * the filters choose which.
 */
const DELIVERY_REDRIVE: RedrivePolicy<DestinationQueues, DeliveryLetter> = {
  redrivable: () => true,
  attributes: () => undefined,
  queueName: (pair) => `${pair.destination}'s delivery queue`,
  duplicateNote: 'the destination, which dedupes on webhook-id, gets it twice at most',
};

/**
 * Moves the destination's matching dead letters back to its queue, oldest failure first: each sent first and deleted
 * from the dead-letter queue only once the send succeeded (see `redriveWith`).
 */
export function redriveDeliveries(
  sqs: SQSClient,
  destination: DestinationQueues,
  filter: DeadLetterFilter,
  options: RedriveOptions = {},
): Promise<RedriveResult> {
  return redriveWith(
    sqs,
    () => holdLetters(sqs, [destination], new Date(), toDeliveryLetter),
    (item) => matchesFilter(item.letter, filter),
    DELIVERY_REDRIVE,
    options,
  );
}

/** A failure as `payhook deliveries status` lists it. */
export interface DeliveryFailure {
  readonly errorClass: string;
  readonly status?: number;
  readonly errorMessage?: string;
  /** When it was dead-lettered (else when it first failed). */
  readonly at: string;
}

/** A destination's queue counts and dead letters, as `payhook deliveries status` shows them. */
export interface DestinationQueueStatus {
  /** Waiting for the delivery function. */
  readonly visible: number;
  /** Being attempted, waiting out a retry's back-off, or held while the destination is stopped. */
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  readonly oldestDeadLetterAgeSeconds?: number;
  /** The newest three, newest first. */
  readonly recentFailures: readonly DeliveryFailure[];
}

/** Counts of the destination's queue, and a peek at its dead-letter queue (nothing is moved or kept hidden). */
export async function destinationQueueStatus(
  sqs: SQSClient,
  destination: DestinationQueues,
  now: Date,
): Promise<DestinationQueueStatus> {
  const { newest, ...counts } = await queueAndDeadLetters(sqs, destination, now, toDeliveryLetter);
  return {
    ...counts,
    recentFailures: newest.map(({ letter, at }) => ({
      errorClass: letter.errorClass,
      ...(letter.status !== undefined && { status: letter.status }),
      ...(letter.errorMessage !== undefined && { errorMessage: letter.errorMessage }),
      at,
    })),
  };
}
