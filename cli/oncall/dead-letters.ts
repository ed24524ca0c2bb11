/**
 * The on-call dead-letter operations behind `payhook dlq list|show|redrive|purge` and `payhook status`, against any
 * SQS endpoint (the local stack's fauxqs or a deployed stack's queues).
 *
 * Safety rules, in order: never lose a message (redrive sends the copy before it deletes the original, so an
 * interruption can duplicate a message but not drop it; the consumer's dedupe absorbs the duplicate); never hide one
 * for long (every message read is made visible again as soon as the command is done with it); never print a secret.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { PRIORITIES, type Priority } from '../../lambdas/definitions.js';
import { queueCounts } from '../../local/queues.js';
import { type DeadLetterDetail, toDetail } from './dead-letter-detail.js';
import {
  type Held,
  holdLetters,
  type LetterReader,
  matchesFilter,
  release,
  selectedPairs,
  toDeadLetter,
} from './dlq-reader.js';
import type { DeadLetter, DeadLetterFilter, Letter, QueuePair, QueueUrls } from './types.js';

export type { DeadLetterDetail } from './dead-letter-detail.js';
export {
  type PurgeResult,
  purge,
  type RedriveOptions,
  type RedriveResult,
  redrive,
} from './dead-letter-moves.js';

/** Reads every message of the given dead-letter queues and lets them all go again at once; none is deleted. */
export async function peekLetters<Q extends QueueUrls, L extends Letter>(
  sqs: SQSClient,
  pairs: readonly Q[],
  now: Date,
  read: LetterReader<Q, L>,
): Promise<Held<Q, L>[]> {
  const held = await holdLetters(sqs, pairs, now, read);
  await release(sqs, held);
  return held;
}
export { EXHAUSTED_WITHOUT_REPORT } from './dlq-reader.js';

/** Every matching dead letter, oldest failure first, with the received messages behind them. */
export interface DeadLetterListing {
  readonly letters: DeadLetter[];
  /** The matching messages as received (receipt handles already released), by message id. */
  readonly raw: Map<string, { readonly message: Message; readonly pair: QueuePair }>;
}

/**
 * Reads every message of the selected dead-letter queues and lets them all go again; none is deleted or kept hidden.
 * The filter's `queues` chooses the queues read; its other fields choose the letters returned.
 */
export async function readDeadLetters(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  filter: DeadLetterFilter,
  now: Date,
): Promise<DeadLetterListing> {
  const held = await peekLetters(sqs, selectedPairs(queues, filter), now, toDeadLetter);
  const matching = held.filter((item) => matchesFilter(item.letter, filter));
  return {
    letters: matching.map((item) => item.letter),
    raw: new Map(matching.map((item) => [item.letter.messageId, { message: item.message, pair: item.pair }])),
  };
}

/** Dead letters sharing a queue, gateway, event type and error class. */
export interface DeadLetterGroup {
  readonly queue: Priority;
  readonly gateway?: string;
  readonly eventType?: string;
  readonly errorClass: string;
  readonly count: number;
  /** The earliest and latest `firstFailedAt` of the group. */
  readonly oldest: string;
  readonly newest: string;
}

/** A group of dead letters: how many, and the earliest and latest `firstFailedAt` among them. */
export type Counted<K> = K & { readonly count: number; readonly oldest: string; readonly newest: string };

/**
 * Counts dead letters by the fields `keyOf` picks (letters whose keys are equal as JSON share a group), in the order
 * each group first appears.
 */
export function countBy<L extends Letter, K extends object>(
  letters: readonly L[],
  keyOf: (letter: L) => K,
): Counted<K>[] {
  const groups = new Map<string, Counted<K>>();
  for (const letter of letters) {
    const fields = keyOf(letter);
    const key = JSON.stringify(fields);
    const group = groups.get(key);
    const at = letter.firstFailedAt;
    groups.set(
      key,
      group === undefined
        ? { ...fields, count: 1, oldest: at, newest: at }
        : {
            ...group,
            count: group.count + 1,
            oldest: Date.parse(at) < Date.parse(group.oldest) ? at : group.oldest,
            newest: Date.parse(at) > Date.parse(group.newest) ? at : group.newest,
          },
    );
  }
  return [...groups.values()];
}

/** Groups dead letters for `dlq list --summary`: in the letters' queue order, then largest group first. */
export function summarise(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const queueOrder = (queue: Priority) => PRIORITIES.indexOf(queue);
  return countBy(letters, (letter) => ({
    queue: letter.queue,
    gateway: letter.gateway,
    eventType: letter.eventType,
    errorClass: letter.errorClass,
  }))
    .map((group, order) => ({ group, order }))
    .sort(
      (a, b) =>
        queueOrder(a.group.queue) - queueOrder(b.group.queue) ||
        b.group.count - a.group.count ||
        a.order - b.order,
    )
    .map(({ group }) => group);
}

/** One dead letter in full and masked, from any of the queues; `undefined` when no queue holds it. */
export async function showDeadLetter(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  messageId: string,
  now: Date,
): Promise<DeadLetterDetail | undefined> {
  const held = await peekLetters(sqs, selectedPairs(queues, {}), now, toDeadLetter);
  const found = held.find((item) => item.letter.messageId === messageId);
  return found === undefined ? undefined : toDetail(found);
}

/** A failure reason as `payhook status` lists it. */
export interface RecentFailure {
  readonly errorClass: string;
  readonly errorMessage?: string;
  /** When it was dead-lettered (else when it first failed). */
  readonly at: string;
}

/** A queue's counts and a peek at its dead-letter queue, whatever the queue. */
export interface QueueAndDeadLetters<L extends Letter> {
  /** The queue's approximate counts. */
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Messages on the dead-letter queue, hidden ones included. */
  readonly deadLetters: number;
  /** Seconds since the oldest dead letter landed there; `undefined` when there is none. */
  readonly oldestDeadLetterAgeSeconds?: number;
  /** The newest three dead letters, newest first, with when each landed. */
  readonly newest: readonly { readonly letter: L; readonly at: string }[];
}

/**
 * Counts of one queue, and a peek at its dead-letter queue (all messages read and let go again) for the age of the
 * oldest one and the newest failures. The age runs from when the message landed on the dead-letter queue (SQS's
 * SentTimestamp, the clock its 14-day retention runs on), else from when it first failed.
 */
export async function queueAndDeadLetters<Q extends QueueUrls, L extends Letter>(
  sqs: SQSClient,
  pair: Q,
  now: Date,
  read: LetterReader<Q, L>,
): Promise<QueueAndDeadLetters<L>> {
  const [main, dead] = await Promise.all([
    queueCounts(sqs, pair.queueUrl),
    queueCounts(sqs, pair.deadLetterQueueUrl),
  ]);
  const held = await peekLetters(sqs, [pair], now, read);
  const landed = held
    .map((item) => ({ item, at: item.sentAt ?? Date.parse(item.letter.firstFailedAt) }))
    .sort((a, b) => b.at - a.at);
  const oldest = landed.at(-1);
  return {
    ...main,
    deadLetters: dead.visible + dead.inFlight + dead.delayed,
    ...(oldest !== undefined && {
      oldestDeadLetterAgeSeconds: Math.max(0, Math.floor((now.getTime() - oldest.at) / 1000)),
    }),
    newest: landed
      .slice(0, 3)
      .map(({ item, at }) => ({ letter: item.letter, at: new Date(at).toISOString() })),
  };
}

/** One priority's queue and dead-letter queue, as `payhook status` shows them. */
export interface StatusRow {
  readonly queue: Priority;
  /** The priority queue's approximate counts. */
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Messages on the dead-letter queue, hidden ones included. */
  readonly deadLetters: number;
  /** Seconds since the oldest dead letter landed there; `undefined` when there is none. */
  readonly oldestDeadLetterAgeSeconds?: number;
  /** The newest three failure reasons, newest first. */
  readonly recentFailures: readonly RecentFailure[];
}

/** Counts per priority, and a peek at each dead-letter queue (see {@link queueAndDeadLetters}). */
export async function queueStatus(
  sqs: SQSClient,
  queues: readonly QueuePair[],
  now: Date,
): Promise<StatusRow[]> {
  return Promise.all(
    selectedPairs(queues, {}).map(async (pair): Promise<StatusRow> => {
      const { newest, ...counts } = await queueAndDeadLetters(sqs, pair, now, toDeadLetter);
      return {
        queue: pair.priority,
        ...counts,
        recentFailures: newest.map(({ letter, at }) => ({
          errorClass: letter.errorClass,
          ...(letter.errorMessage !== undefined && { errorMessage: letter.errorMessage }),
          at,
        })),
      };
    }),
  );
}
