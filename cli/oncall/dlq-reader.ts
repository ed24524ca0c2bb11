/**
 * Reading dead-letter queues without losing or hiding anything. SQS has no "peek": a message is read by receiving
 * it, which hides it for a visibility timeout. Every command here therefore receives with a short timeout, holds
 * the messages only while it works on them, and makes each one visible again (visibility 0) as soon as it is done
 * with it. A crash leaves at worst a message hidden until its short timeout ends; nothing is ever deleted by reading.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES, PRIORITIES, PRIORITY_QUEUES } from '../../lambdas/definitions.js';
import { sqsSafeAttributeText } from '../../lambdas/messages/sqs-text.js';
import { queueCounts } from '../../local/queues.js';
import { maskText } from './masking.js';
import type { DeadLetter, DeadLetterFilter, Letter, QueuePair, QueueUrls } from './types.js';

/** The error class of a message SQS moved itself (a crash or a timeout on the last receive): no reason recorded. */
export const EXHAUSTED_WITHOUT_REPORT = 'exhausted_without_report';

/** Attributes the consumer and ingest add when they dead-letter a message; a redriven copy must not carry them. */
export const FAILURE_ATTRIBUTES: ReadonlySet<string> = new Set([
  MESSAGE_ATTRIBUTES.errorClass,
  MESSAGE_ATTRIBUTES.errorMessage,
  MESSAGE_ATTRIBUTES.firstFailedAt,
  MESSAGE_ATTRIBUTES.receiveCount,
  MESSAGE_ATTRIBUTES.originalAttributes,
]);

/**
 * A dead-lettered message this process has received and not yet let go of, with the queues it belongs to and what it
 * was read as: a pipeline dead letter by default, a delivery's for `payhook deliveries`.
 */
export interface Held<Q extends QueueUrls = QueuePair, L extends Letter = DeadLetter> {
  readonly message: Message;
  readonly pair: Q;
  readonly letter: L;
  /** When the message landed on the dead-letter queue (epoch ms), where SQS says. */
  readonly sentAt?: number;
}

/** A held dead letter of the pipeline's priority queues. */
export type HeldMessage = Held<QueuePair, DeadLetter>;

/** Any held message, whatever its queues and letter: what releasing and extending a hold need. */
export type AnyHeld = Held<QueueUrls, Letter>;

/** How a received dead-letter message is read, given the queues it came from. */
export type LetterReader<Q extends QueueUrls, L extends Letter> = (message: Message, pair: Q, now: Date) => L;

/** Short, so a crashed command hides messages briefly; grown for large queues so one pass ends inside it. */
function visibilityTimeoutFor(expected: number): number {
  return 30 + Math.ceil(expected / 100);
}

/**
 * Short polling samples a subset of SQS's servers and can come back empty while messages remain; a few more tries
 * before believing "empty" costs milliseconds.
 */
const EMPTY_RECEIVES_BEFORE_GIVING_UP = 3;

/** The dead-letter queues a filter selects, in priority order. */
export function selectedPairs(queues: readonly QueuePair[], filter: DeadLetterFilter): QueuePair[] {
  const wanted = filter.queues;
  return [...queues]
    .filter((pair) => wanted === undefined || wanted.includes(pair.priority))
    .sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority));
}

/** True when a dead letter passes every field of the filter (a delivery's has no queue: `filter.queues` is unset). */
export function matchesFilter(
  letter: Letter & Partial<Pick<DeadLetter, 'queue'>>,
  filter: DeadLetterFilter,
): boolean {
  if (filter.queues !== undefined && (letter.queue === undefined || !filter.queues.includes(letter.queue)))
    return false;
  if (filter.gateway !== undefined && letter.gateway !== filter.gateway) return false;
  // Attributes are written in printable ASCII (see sqs-text.ts): an event type typed as it is matches its escaped form.
  if (
    filter.eventType !== undefined &&
    letter.eventType !== filter.eventType &&
    letter.eventType !== sqsSafeAttributeText(filter.eventType)
  )
    return false;
  if (filter.errorClass !== undefined && letter.errorClass !== filter.errorClass) return false;
  if (filter.since !== undefined && Date.parse(letter.firstFailedAt) < filter.since.getTime()) return false;
  return true;
}

/** The message's string attributes by name. */
export function stringAttributes(message: Message): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) result[name] = value.StringValue;
  }
  return result;
}

/**
 * The attributes the message had before it failed, unpacked from `originalAttributes`; `undefined` when it has none
 * or the packed text is not a JSON object of strings (the consumer cuts attribute text at 256 characters).
 */
export function unpackOriginalAttributes(message: Message): Record<string, string> | undefined {
  const packed = message.MessageAttributes?.[MESSAGE_ATTRIBUTES.originalAttributes]?.StringValue;
  if (packed === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed);
  if (!entries.every(([, value]) => typeof value === 'string')) return undefined;
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * The attributes a redriven copy is sent with: the original ones only, so the consumer sees a fresh message and the
 * next failure records its own reason. From `originalAttributes` where it unpacks, else the message's own attributes
 * without the failure ones (a message SQS moved itself carries only its originals).
 */
export function originalMessageAttributes(message: Message): Record<string, MessageAttributeValue> {
  const unpacked = unpackOriginalAttributes(message);
  if (unpacked !== undefined) {
    return Object.fromEntries(
      Object.entries(unpacked).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
  }
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (FAILURE_ATTRIBUTES.has(name)) continue;
    result[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined && { StringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { BinaryValue: value.BinaryValue }),
    };
  }
  return result;
}

/** The message body as a JSON object, or `undefined`. */
export function bodyObject(message: Message): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(message.Body ?? '');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Not JSON: an arbitrary message someone sent by hand; it is still listed, from its attributes alone.
  }
  return undefined;
}

export function stringField(record: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = record?.[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function epochMs(value: string | undefined): number | undefined {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && number > 0 ? number : undefined;
}

/** When the message landed on its dead-letter queue (epoch ms), where SQS says. */
export function sentAtOf(message: Message): number | undefined {
  return epochMs(message.Attributes?.SentTimestamp);
}

/**
 * When a dead letter first failed and how long ago: the `firstFailedAt` its writer recorded, else (SQS moved it
 * itself) when it was first received, else when it was sent.
 */
export function firstFailure(
  message: Message,
  attributes: Readonly<Record<string, string>>,
  now: Date,
): { readonly firstFailedAt: string; readonly ageSeconds: number } {
  const recordedFailure = Date.parse(attributes[MESSAGE_ATTRIBUTES.firstFailedAt] ?? '');
  const firstFailedMs = Number.isFinite(recordedFailure)
    ? recordedFailure
    : (epochMs(message.Attributes?.ApproximateFirstReceiveTimestamp) ?? sentAtOf(message) ?? now.getTime());
  return {
    firstFailedAt: new Date(firstFailedMs).toISOString(),
    ageSeconds: Math.max(0, Math.floor((now.getTime() - firstFailedMs) / 1000)),
  };
}

/** The error message a dead letter carries, masked: error text can quote the payload it choked on. */
export function maskedErrorMessage(attributes: Readonly<Record<string, string>>): string | undefined {
  const errorMessage = attributes[MESSAGE_ATTRIBUTES.errorMessage];
  return errorMessage === undefined ? undefined : maskText(errorMessage);
}

/** A received dead-letter message as `payhook dlq list` shows it. */
export function toDeadLetter(message: Message, pair: QueuePair, now: Date): DeadLetter {
  const attributes = stringAttributes(message);
  const original = unpackOriginalAttributes(message) ?? {};
  const body = bodyObject(message);
  const pick = (name: string) => attributes[name] ?? original[name] ?? stringField(body, name);
  const reported = attributes[MESSAGE_ATTRIBUTES.errorClass];
  const { firstFailedAt, ageSeconds } = firstFailure(message, attributes, now);
  const recordedCount = Number(attributes[MESSAGE_ATTRIBUTES.receiveCount]);
  // SQS moves a message once its receives pass maxReceiveCount, so a consumer had it exactly that often; the DLQ's
  // own ApproximateReceiveCount would also count every on-call read. A parked webhook never reached a consumer.
  const receiveCount = Number.isInteger(recordedCount)
    ? recordedCount
    : reported === undefined
      ? PRIORITY_QUEUES[pair.priority].maxReceiveCount
      : 0;
  const reference = stringField(body, 'reference') ?? stringField(body, 'gatewayPaymentId');
  return {
    messageId: message.MessageId ?? '',
    queue: pair.priority,
    gateway: pick(MESSAGE_ATTRIBUTES.gateway),
    eventType: pick(MESSAGE_ATTRIBUTES.eventType),
    eventId: pick(MESSAGE_ATTRIBUTES.eventId),
    reference,
    errorClass: reported ?? EXHAUSTED_WITHOUT_REPORT,
    errorMessage: maskedErrorMessage(attributes),
    receiveCount,
    firstFailedAt,
    ageSeconds,
  };
}

async function receiveBatch(sqs: SQSClient, queueUrl: string, visibilityTimeout: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibilityTimeout,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      // Both spellings: the legacy one is what some SQS emulators still read, the new one what SQS documents.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/**
 * Receives every message of one dead-letter queue and holds them: until a receive comes back empty (a few times) or
 * as many distinct messages as the queue reported are in hand. A message received twice (its hold ran out during a
 * long read) is kept once, with its newest receipt handle.
 */
async function holdQueue(sqs: SQSClient, pair: QueueUrls, held: Map<string, Message>): Promise<void> {
  const expected = (await queueCounts(sqs, pair.deadLetterQueueUrl)).visible;
  const visibilityTimeout = visibilityTimeoutFor(expected);
  const maxReceives = Math.ceil(expected / 10) * 3 + EMPTY_RECEIVES_BEFORE_GIVING_UP + 1;
  let seen = 0;
  let empties = 0;
  for (let receive = 0; receive < maxReceives; receive += 1) {
    const messages = await receiveBatch(sqs, pair.deadLetterQueueUrl, visibilityTimeout);
    if (messages.length === 0) {
      empties += 1;
      if (seen >= expected || empties >= EMPTY_RECEIVES_BEFORE_GIVING_UP) return;
      continue;
    }
    empties = 0;
    for (const message of messages) {
      if (message.MessageId === undefined) continue;
      if (!held.has(message.MessageId)) seen += 1;
      held.set(message.MessageId, message);
    }
    if (seen >= expected) return;
  }
}

/**
 * Receives and holds every message of the given dead-letter queues, oldest failure first. The caller must
 * {@link release} (or delete) each one; on an error here, everything already held is released before it throws.
 */
export function holdAll(sqs: SQSClient, pairs: readonly QueuePair[], now: Date): Promise<HeldMessage[]> {
  return holdLetters(sqs, pairs, now, toDeadLetter);
}

/** {@link holdAll} for any queues, each message read by `read` (a delivery's dead letters, say). */
export async function holdLetters<Q extends QueueUrls, L extends Letter>(
  sqs: SQSClient,
  pairs: readonly Q[],
  now: Date,
  read: LetterReader<Q, L>,
): Promise<Held<Q, L>[]> {
  const result: Held<Q, L>[] = [];
  try {
    for (const pair of pairs) {
      const held = new Map<string, Message>();
      try {
        await holdQueue(sqs, pair, held);
      } finally {
        for (const message of held.values()) {
          const sentAt = sentAtOf(message);
          result.push({
            message,
            pair,
            letter: read(message, pair, now),
            ...(sentAt !== undefined && { sentAt }),
          });
        }
      }
    }
  } catch (error) {
    await release(sqs, result);
    throw error;
  }
  return result.sort(
    (a, b) =>
      Date.parse(a.letter.firstFailedAt) - Date.parse(b.letter.firstFailedAt) ||
      a.letter.messageId.localeCompare(b.letter.messageId),
  );
}

async function changeVisibility(
  sqs: SQSClient,
  messages: readonly AnyHeld[],
  seconds: number,
): Promise<Set<string>> {
  const failed = new Set<string>();
  const byQueue = new Map<string, AnyHeld[]>();
  for (const held of messages) {
    const list = byQueue.get(held.pair.deadLetterQueueUrl) ?? [];
    list.push(held);
    byQueue.set(held.pair.deadLetterQueueUrl, list);
  }
  for (const [queueUrl, list] of byQueue) {
    for (let start = 0; start < list.length; start += 10) {
      const chunk = list.slice(start, start + 10);
      try {
        const { Failed = [] } = await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((held, index) => ({
              Id: String(index),
              ReceiptHandle: held.message.ReceiptHandle,
              VisibilityTimeout: seconds,
            })),
          }),
        );
        for (const entry of Failed) {
          const held = chunk[Number(entry.Id)];
          if (held) failed.add(held.letter.messageId);
        }
      } catch {
        // The batch call itself failed: one at a time, so one bad handle cannot keep the others hidden.
        for (const held of chunk) {
          try {
            await sqs.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: queueUrl,
                ReceiptHandle: held.message.ReceiptHandle,
                VisibilityTimeout: seconds,
              }),
            );
          } catch {
            failed.add(held.letter.messageId);
          }
        }
      }
    }
  }
  return failed;
}

/**
 * Makes held messages visible again at once. Best effort: a message that cannot be released (its handle expired,
 * say) becomes visible anyway when its short hold ends. Returns the ids that could not be released.
 */
export function release(sqs: SQSClient, messages: readonly AnyHeld[]): Promise<Set<string>> {
  return messages.length === 0 ? Promise.resolve(new Set()) : changeVisibility(sqs, messages, 0);
}

/** Extends the hold on messages a long command still works on; returns the ids whose hold could not be extended. */
export function extendHold(
  sqs: SQSClient,
  messages: readonly AnyHeld[],
  seconds: number,
): Promise<Set<string>> {
  return messages.length === 0 ? Promise.resolve(new Set()) : changeVisibility(sqs, messages, seconds);
}
