/**
 * `payhook dlq redrive` and `payhook dlq purge`: the two commands that change a dead-letter queue. Both hold only
 * the messages they act on; every other message they read is made visible again before they start.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../../lambdas/definitions.js';
import {
  type AnyHeld,
  bodyObject,
  extendHold,
  type Held,
  type HeldMessage,
  holdAll,
  matchesFilter,
  originalMessageAttributes,
  release,
  selectedPairs,
} from './dlq-reader.js';
import type { DeadLetter, DeadLetterFilter, Letter, QueuePair, QueueUrls } from './types.js';

/** Seconds a long redrive, purge or renormalise extends its hold on the messages it has yet to handle. */
const HOLD_SECONDS = 30;
/** Extend well before the shortest hold (30 s) can run out. */
const HOLD_REFRESH_MS = 10_000;
/** Failures in a row after which a redrive stops: something is broken, and going on would only duplicate more. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/**
 * A parked webhook never reached a consumer: sending it to one only dead-letters it again, as invalid. It goes back
 * through its adapter instead (`payhook dlq renormalise`).
 */
export function isParkedWebhook(held: AnyHeld): boolean {
  const type =
    held.message.MessageAttributes?.[MESSAGE_ATTRIBUTES.messageType]?.StringValue ??
    bodyObject(held.message)?.messageType;
  return type === 'unparseable-webhook';
}

/**
 * Keeps the messages a long command has yet to handle hidden, so a slow, rate-limited run is not overtaken by its
 * own holds running out. Messages whose hold cannot be extended are reported and left alone.
 */
export class Hold {
  private refreshedAt = Date.now();
  constructor(private readonly sqs: SQSClient) {}

  async keep(remaining: readonly AnyHeld[]): Promise<Set<string>> {
    if (Date.now() - this.refreshedAt < HOLD_REFRESH_MS) return new Set();
    this.refreshedAt = Date.now();
    return extendHold(this.sqs, remaining, HOLD_SECONDS);
  }
}

function groupByDeadLetterQueue(items: readonly HeldMessage[]): Map<string, HeldMessage[]> {
  const groups = new Map<string, HeldMessage[]>();
  for (const item of items) {
    const list = groups.get(item.pair.deadLetterQueueUrl) ?? [];
    list.push(item);
    groups.set(item.pair.deadLetterQueueUrl, list);
  }
  return groups;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`limit must be a whole number >= 0, not ${limit}`);
  return limit;
}

export interface RedriveOptions {
  /** At most this many messages move, oldest failure first. @default all that match */
  readonly limit?: number;
  /** Sends per second, so a redrive does not flood the consumers. @default unlimited */
  readonly ratePerSecond?: number;
  /** Move nothing; report what would move. */
  readonly dryRun?: boolean;
  /** Called after each message is handled (moved or failed). */
  onProgress?(done: number, total: number): void;
}

export interface RedriveResult {
  /** Sent to the source queue and deleted from the dead-letter queue. */
  readonly moved: number;
  /** Read but not touched: not matching, past the limit, not redrivable, or left when the run stopped. */
  readonly skipped: number;
  /** Not moved, or moved but not deleted (now on both queues); each is in `failures`. */
  readonly failed: number;
  /** What a real run would move (in a dry run; otherwise the number it set out to move). */
  readonly wouldMove: number;
  /** Matching parked webhooks (`unparseable-webhook`), counted in `skipped`: they need a fix first, not a retry. */
  readonly notRedrivable: number;
  readonly failures: { readonly messageId: string; readonly reason: string }[];
  /** Why the run stopped before the end, if it did. */
  readonly stoppedEarly?: string;
}

/**
 * How a redrive sends a dead letter back: what it may move, the attributes of the copy, and the words its failures
 * are reported in. The pipeline's ({@link redrive}) and a destination's (`payhook deliveries redrive`) differ only here.
 */
export interface RedrivePolicy<Q extends QueueUrls, L extends Letter> {
  /** Whether a matching message may be moved at all; the others are counted as `notRedrivable`. */
  readonly redrivable: (item: Held<Q, L>) => boolean;
  /** The attributes the copy is sent with (none: `undefined`). */
  readonly attributes: (message: Message) => Record<string, MessageAttributeValue> | undefined;
  /** The queue a copy goes to, in words: `the high queue`. */
  readonly queueName: (pair: Q) => string;
  /** Why a copy left on both queues is harmless: `the consumer's dedupe absorbs the copy`. */
  readonly duplicateNote: string;
}

/** The pipeline's: parked webhooks stay (they need a fix, not a retry); copies carry their original attributes. */
const PIPELINE_REDRIVE: RedrivePolicy<QueuePair, DeadLetter> = {
  redrivable: (item) => !isParkedWebhook(item),
  attributes: originalMessageAttributes,
  queueName: (pair) => `the ${pair.priority} queue`,
  duplicateNote: "the consumer's dedupe absorbs the copy",
};

/**
 * Moves matching dead letters back to their source queue, oldest failure first. Each is SENT FIRST, with its
 * original attributes only (no stale failure attributes), and deleted from the dead-letter queue only after the send
 * succeeded: an interruption can leave a message on both queues, never on neither. Every other message read is made
 * visible again at once; in a dry run, all of them.
 */
export function redrive(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  filter: DeadLetterFilter,
  options: RedriveOptions = {},
): Promise<RedriveResult> {
  return redriveWith(
    sqs,
    () => holdAll(sqs, selectedPairs(queues, filter), new Date()),
    (item) => matchesFilter(item.letter, filter),
    PIPELINE_REDRIVE,
    options,
  );
}

/**
 * {@link redrive} for any dead letters: `hold` receives and holds them (oldest failure first), `matches` chooses the
 * ones to move, `policy` says how. The same safety rules: sent first, deleted only after the send succeeded, every
 * other message let go at once, a run stopped after {@link MAX_CONSECUTIVE_FAILURES} failures in a row.
 */
export async function redriveWith<Q extends QueueUrls, L extends Letter>(
  sqs: SQSClient,
  hold: () => Promise<Held<Q, L>[]>,
  matches: (item: Held<Q, L>) => boolean,
  policy: RedrivePolicy<Q, L>,
  options: RedriveOptions = {},
): Promise<RedriveResult> {
  const limit = checkLimit(options.limit);
  const rate = options.ratePerSecond;
  if (rate !== undefined && !(rate > 0)) throw new RangeError(`ratePerSecond must be above 0, not ${rate}`);
  const held = await hold();
  const pending = new Set(held);
  const failures: { messageId: string; reason: string }[] = [];
  let moved = 0;
  let stoppedEarly: string | undefined;
  try {
    const matching = held.filter(matches);
    const redrivable = matching.filter(policy.redrivable);
    const planned = redrivable.slice(0, limit);
    const plannedSet = new Set(planned);
    const letGo = new Set(held.filter((item) => !plannedSet.has(item) || options.dryRun));
    await release(sqs, [...letGo]);
    for (const item of letGo) pending.delete(item);
    const base = { wouldMove: planned.length, notRedrivable: matching.length - redrivable.length };
    if (options.dryRun)
      return { ...base, moved: 0, failed: 0, skipped: held.length - planned.length, failures };

    const keeper = new Hold(sqs);
    const gap = rate === undefined ? 0 : 1000 / rate;
    let nextSendAt = 0;
    let consecutiveFailures = 0;
    const fail = async (item: Held<Q, L>, reason: string) => {
      failures.push({ messageId: item.letter.messageId, reason });
      consecutiveFailures += 1;
      // Visible again in the dead-letter queue at once, where the next run or a human finds it.
      await release(sqs, [item]);
    };
    for (const item of planned) {
      if (consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
        stoppedEarly = `stopped after ${consecutiveFailures} failures in a row; the rest were left in the dead-letter queue`;
        break;
      }
      if (!pending.has(item)) continue;
      for (const lost of await keeper.keep([...pending])) {
        const lostItem = [...pending].find((candidate) => candidate.letter.messageId === lost);
        if (lostItem === undefined) continue;
        pending.delete(lostItem);
        failures.push({
          messageId: lost,
          reason: 'lost the hold on it (another reader has it); left in place',
        });
      }
      if (!pending.has(item)) continue;
      const wait = nextSendAt - Date.now();
      if (wait > 0) await sleep(wait);
      nextSendAt = Date.now() + gap;
      pending.delete(item);
      const queue = policy.queueName(item.pair);
      try {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: item.pair.queueUrl,
            MessageBody: item.message.Body,
            MessageAttributes: policy.attributes(item.message),
          }),
        );
      } catch (error) {
        await fail(item, `not sent to ${queue} (${describeError(error)}); left in place`);
        options.onProgress?.(moved + failures.length, planned.length);
        continue;
      }
      try {
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: item.pair.deadLetterQueueUrl,
            ReceiptHandle: item.message.ReceiptHandle,
          }),
        );
        moved += 1;
        consecutiveFailures = 0;
      } catch (error) {
        await fail(
          item,
          `sent to ${queue} but not deleted (${describeError(error)}); it is on both queues, and ${policy.duplicateNote}`,
        );
      }
      options.onProgress?.(moved + failures.length, planned.length);
    }
    return {
      ...base,
      moved,
      failed: failures.length,
      skipped: held.length - moved - failures.length,
      failures,
      ...(stoppedEarly !== undefined && { stoppedEarly }),
    };
  } finally {
    await release(sqs, [...pending]);
  }
}

export interface PurgeResult {
  readonly deleted: number;
  /** Read and left in place (visible again): not matching, past the limit, or not deleted. */
  readonly skipped: number;
}

/** Deletes matching dead letters for good (oldest failure first, up to `limit`); every other one is let go at once. */
export async function purge(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  filter: DeadLetterFilter,
  options: { readonly limit?: number } = {},
): Promise<PurgeResult> {
  const limit = checkLimit(options.limit);
  const held = await holdAll(sqs, selectedPairs(queues, filter), new Date());
  const pending = new Set(held);
  let deleted = 0;
  try {
    const doomed = held.filter((item) => matchesFilter(item.letter, filter)).slice(0, limit);
    const doomedSet = new Set(doomed);
    const others = held.filter((item) => !doomedSet.has(item));
    await release(sqs, others);
    for (const item of others) pending.delete(item);
    const hold = new Hold(sqs);
    for (let start = 0; start < doomed.length; start += 10) {
      // Lost holds stay pending: released (best effort) at the end and counted as skipped.
      const lost = await hold.keep(doomed.slice(start));
      const chunk = doomed.slice(start, start + 10).filter((item) => !lost.has(item.letter.messageId));
      for (const [queueUrl, items] of groupByDeadLetterQueue(chunk)) {
        const { Failed = [] } = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: items.map((item, index) => ({
              Id: String(index),
              ReceiptHandle: item.message.ReceiptHandle,
            })),
          }),
        );
        const failed = new Set(Failed.map((entry) => Number(entry.Id)));
        items.forEach((item, index) => {
          if (failed.has(index)) return;
          pending.delete(item);
          deleted += 1;
        });
      }
    }
    return { deleted, skipped: held.length - deleted };
  } finally {
    await release(sqs, [...pending]);
  }
}
