/**
 * `payhook deliveries replay` on the local stack: payment events read back from the events file (the local bus) and
 * sent again to one destination's queue, each in the envelope its EventBridge rule would have written, so the local
 * delivery pollers deliver them, signed, with the event's own id as `webhook-id`. What the deployed stack does with
 * its archive instead is `archive-replay.ts`; the name and the window are shared.
 */
import { randomBytes } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DestinationSettings, wants } from '../../lambdas/delivery/destinations.js';
import type { PublishedRecord } from '../../lambdas/publishing/file-publisher.js';
import { eventBridgeEnvelope } from '../../local/delivery-fan-out.js';

/** Which published events a replay takes: those published in [since, until), narrowed by type and gateway. */
export interface ReplaySelection {
  readonly since: Date;
  readonly until: Date;
  /** A detail-type, `payment.succeeded`. */
  readonly type?: string;
  readonly gateway?: string;
}

/** What a replay sends (or would): how many, per detail-type, and the first and last publish times. */
export interface ReplaySummary {
  readonly count: number;
  readonly byType: readonly { readonly type: string; readonly count: number }[];
  readonly first?: string;
  readonly last?: string;
}

/** What the local replay sent: the summary, and each event whose message SQS refused, with why. */
export interface LocalReplayResult extends ReplaySummary {
  readonly sent: number;
  readonly failures: readonly { readonly webhookId: string; readonly reason: string }[];
}

/** SQS's largest batch. */
const BATCH = 10;

/**
 * A replay's name: `payhook-<destination>-<UTC time>-<4 hex>`, within EventBridge's 64 characters of
 * `[.-_A-Za-z0-9]` (a destination's name is at most 32). The random end keeps two replays started in the same second
 * apart: a replay name is unique per account and region. Locally it is the envelopes' `replay-name`, as on AWS.
 */
export function replayNameOf(destination: string, now: Date): string {
  const time = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `payhook-${destination}-${time}-${randomBytes(2).toString('hex')}`;
}

/**
 * The records a replay to a destination takes, oldest first: published in the window (the file's `publishedAt`, the
 * time the event reached the bus, as the archive's `time` is on AWS; not the gateway's `occurredAt`), wanted by the
 * destination (as its rule, or the local fan-out, decides) and of the type and gateway asked for. An event published
 * twice is there twice, as in an archive: the receiver dedupes them on their one `webhook-id`.
 */
export function selectForReplay(
  records: readonly PublishedRecord[],
  settings: DestinationSettings,
  selection: ReplaySelection,
): PublishedRecord[] {
  const since = selection.since.getTime();
  const until = selection.until.getTime();
  return records.filter((record) => {
    const at = Date.parse(record.publishedAt);
    const event = { detailType: record.detailType, gateway: record.detail.gateway };
    return (
      at >= since &&
      at < until &&
      wants(settings, event) &&
      (selection.type === undefined || event.detailType === selection.type) &&
      (selection.gateway === undefined || event.gateway === selection.gateway)
    );
  });
}

/** How many records per detail-type (most first), and the first and last publish times. */
export function summariseReplay(records: readonly PublishedRecord[]): ReplaySummary {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.detailType, (counts.get(record.detailType) ?? 0) + 1);
  const byType = [...counts]
    .map(([type, count]) => ({ type, count }))
    .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
  const [first] = records;
  const last = records.at(-1);
  return {
    count: records.length,
    byType,
    ...(first && { first: first.publishedAt }),
    ...(last && { last: last.publishedAt }),
  };
}

/**
 * Sends each record to the destination's queue, ten to a batch, oldest first, as the envelope its rule would have
 * written: the event as published (so its `detail.id`, the `webhook-id`), its `time` the publish time the file
 * recorded (the delivered body's `timestamp`, as on the first delivery, give or take the second the fan-out stamped),
 * a new envelope id as EventBridge gives a replayed event, and the replay's name as `replay-name`.
 */
export async function sendForReplay(
  sqs: SQSClient,
  queueUrl: string,
  records: readonly PublishedRecord[],
  options: { readonly replayName: string; readonly region: string },
): Promise<LocalReplayResult> {
  const failures: { webhookId: string; reason: string }[] = [];
  for (let start = 0; start < records.length; start += BATCH) {
    const batch = records.slice(start, start + BATCH);
    const entries = batch.map((record, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify({
        ...eventBridgeEnvelope(record.detail, { now: new Date(record.publishedAt), region: options.region }),
        'replay-name': options.replayName,
      }),
    }));
    let failed: readonly { readonly Id?: string; readonly Message?: string; readonly Code?: string }[];
    try {
      failed =
        (await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }))).Failed ?? [];
    } catch (error) {
      // The whole batch was refused (the queue is gone, the emulator stopped): each of its events failed, for that.
      failed = entries.map((entry) => ({ Id: entry.Id, Message: (error as Error).message }));
    }
    for (const entry of failed) {
      const record = batch[Number(entry.Id)];
      failures.push({
        webhookId: record?.detail.id ?? '?',
        reason: entry.Message ?? entry.Code ?? 'refused',
      });
    }
  }
  return { ...summariseReplay(records), sent: records.length - failures.length, failures };
}
