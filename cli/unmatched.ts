/**
 * `payhook unmatched list`: validly signed events that named no payment (no reference, no gateway payment id), kept
 * for the history retention instead of being applied or dead-lettered, from the payments table of the local stack or
 * of a deployed stack (`--stack`).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../lambdas/definitions.js';
import { formatMajor } from '../lambdas/domain/money.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../lambdas/domain/webhook-event.js';
import type { UnmatchedEventSummary } from '../lambdas/ports/unmatched-events.js';
import { DynamoUnmatchedEventStore } from '../lambdas/store/dynamodb-unmatched-events.js';
import { moneyView } from '../local/views.js';
import { CliError, type CliIo } from './io.js';
import { parseDuration, type TargetOptions, tableOf, withStackOptions } from './oncall/options.js';
import { parseSince } from './rejects.js';
import { safe } from './terminal-safe.js';

interface ListOptions extends TargetOptions {
  readonly gateway?: GatewayName;
  readonly since: Date;
  readonly json?: boolean;
}

interface UnmatchedSource {
  readonly label: string;
  readonly tableName: string;
  readonly store: DynamoUnmatchedEventStore;
  close(): void;
}

/** Only writes use the retention (to date the items); listing only reads. */
const UNUSED_RETENTION_DAYS = DEFAULT_HISTORY_RETENTION_DAYS;

/** Most events read per gateway, newest first; older ones are reported as cut. */
const LIMIT_PER_GATEWAY = 1000;

/** Lines printed before "... and N more". */
const SHOWN = 100;

async function sourceOf(io: CliIo, options: TargetOptions): Promise<UnmatchedSource> {
  const table = await tableOf(io, options, 'payments');
  return {
    label: table.label,
    tableName: table.tableName,
    store: new DynamoUnmatchedEventStore(table.documents, {
      tableName: table.tableName,
      historyRetentionDays: UNUSED_RETENTION_DAYS,
    }),
    close: table.close,
  };
}

/** One event as `--json` prints it: money as the local routes print it (exact decimal text). */
function eventJson(event: UnmatchedEventSummary) {
  return {
    receivedAt: event.receivedAt,
    gateway: event.gateway,
    eventType: event.eventType,
    eventId: event.eventId,
    requestId: event.requestId,
    kind: event.kind,
    occurredAt: event.occurredAt ?? null,
    money: moneyView(event.money),
  };
}

/** One event as a text line: time, gateway, event type, event id, request id, kind, money. */
export function formatUnmatched(event: UnmatchedEventSummary): string {
  const money = event.money ? `${formatMajor(event.money)} ${event.money.currency}` : '-';
  return safe`  ${event.receivedAt}  ${event.gateway}  ${event.eventType}  ${event.eventId}  request ${event.requestId}  ${event.kind}  ${money}\n`;
}

/** Counts by gateway and event type, most frequent first: what kinds of unmatched events are arriving. */
function countsByType(events: readonly UnmatchedEventSummary[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const event of events) {
    const key = `${event.gateway} ${event.eventType}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

async function list(io: CliIo, options: ListOptions): Promise<void> {
  const source = await sourceOf(io, options);
  try {
    let page: Awaited<ReturnType<DynamoUnmatchedEventStore['list']>>;
    try {
      page = await source.store.list({
        since: options.since,
        limitPerGateway: LIMIT_PER_GATEWAY,
        ...(options.gateway && { gateway: options.gateway }),
      });
    } catch (error) {
      // Access denied, a missing table, no credentials: the SDK's message names which.
      throw new CliError(
        `cannot read payments table ${source.tableName} of ${source.label}: ${(error as Error).message}`,
      );
    }
    const { items, truncated } = page;
    if (options.json) {
      io.stdout(
        `${JSON.stringify(
          {
            target: source.label,
            since: options.since.toISOString(),
            total: items.length,
            truncated,
            events: items.map(eventJson),
          },
          null,
          2,
        )}\n`,
      );
      return;
    }
    io.stdout(
      safe`${source.label}: ${items.length} unmatched event(s) since ${options.since.toISOString()} (events that named no payment)\n`,
    );
    if (truncated.length > 0) {
      io.stdout(
        safe`(only the newest ${LIMIT_PER_GATEWAY} per gateway for ${truncated.join(', ')}: narrow with --since or --gateway for older ones)\n`,
      );
    }
    if (items.length === 0) return;
    io.stdout(
      `${countsByType(items)
        .map(([key, count]) => safe`${key}: ${count}`)
        .join(', ')}\n\n`,
    );
    for (const event of items.slice(0, SHOWN)) io.stdout(formatUnmatched(event));
    if (items.length > SHOWN) {
      io.stdout(`  ... and ${items.length - SHOWN} older (--json shows all)\n`);
    }
  } finally {
    source.close();
  }
}

/** `--gateway`: one of the gateways payhook knows. */
export function parseGateway(text: string): GatewayName {
  if (!isGatewayName(text)) throw new InvalidArgumentError(`one of ${GATEWAYS.join(', ')}`);
  return text;
}

/** Adds `unmatched` to the program. */
export function registerUnmatched(program: Command, io: CliIo): void {
  const unmatched = program
    .command('unmatched')
    .summary('events that named no payment, kept for the history retention');
  const command = unmatched
    .command('list')
    .summary('events that named no payment, newest first')
    .description(
      'Validly signed events that named no payment (no merchant reference, no gateway payment id), such as Paystack ' +
        'subscription.expiring_cards or an invoice.payment_failed without a transaction: kept rather than applied or ' +
        'dead-lettered. Newest first: time received, gateway, event type, event id, request id, kind, money. Never a payload.',
    )
    .option('--gateway <gateway>', 'one gateway', parseGateway)
    .option(
      '--since <when>',
      'a duration such as 30m, 2h, 7d, or an ISO time',
      parseSince,
      parseDuration('24h'),
    )
    .option('--json', 'print JSON');
  withStackOptions(command).action((options: ListOptions) => list(io, options));
}
