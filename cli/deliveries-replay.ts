/**
 * `payhook deliveries replay <destination> --since T`: payment events published in a window delivered again to one
 * destination, with their own `webhook-id`s, so a receiver that was down or buggy catches up and dedupes what it had.
 * Locally they are read from the events file and queued for the destination (`oncall/replay.ts`); on a deployed stack
 * EventBridge replays them from the bus's archive through the destination's rule alone (`oncall/archive-replay.ts`).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type Command, InvalidArgumentError } from 'commander';
import { type DestinationSettings, PAYMENT_DETAIL_TYPES } from '../lambdas/delivery/destinations.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import { CliError, type CliIo } from './io.js';
import {
  type ArchiveReplayPlan,
  planArchiveReplay,
  type ReplayStatus,
  startArchiveReplay,
  waitForReplay,
} from './oncall/archive-replay.js';
import {
  type DeliveriesTarget,
  destinationNamed,
  destinationStateOf,
  type PublishedEventsSource,
  withDeliveriesTarget,
} from './oncall/delivery-target.js';
import { type TargetOptions, withStackOptions } from './oncall/options.js';
import {
  type ReplaySelection,
  type ReplaySummary,
  replayNameOf,
  selectForReplay,
  sendForReplay,
  summariseReplay,
} from './oncall/replay.js';
import type { DestinationQueues } from './oncall/types.js';
import { table } from './oncall-output.js';
import { parseSince } from './rejects.js';
import { safe } from './terminal-safe.js';
import { parseGateway } from './unmatched.js';

type ReplayOptions = TargetOptions & {
  readonly since: Date;
  readonly until?: Date;
  readonly type?: string;
  readonly gateway?: string;
  readonly archive?: string;
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly json?: boolean;
};

/** What every replay knows before it reads anything: where, to whom, which window, and the notes so far. */
interface ReplayContext {
  readonly io: CliIo;
  readonly target: DeliveriesTarget;
  readonly destination: DestinationQueues;
  readonly selection: ReplaySelection;
  readonly options: ReplayOptions;
  readonly replayName: string;
  readonly now: Date;
  readonly notes: readonly string[];
}

/** How often `--wait` asks EventBridge; a replay goes through its window a minute of events at a time. */
const WAIT_INTERVAL_MS = 5000;

/**
 * Why `--type` and `--gateway` are refused on AWS. A narrower temporary rule is no way round it either: the
 * destination's queue takes messages from events.amazonaws.com only with its own rule as `aws:SourceArn`.
 */
const NARROWING_ON_AWS =
  '--type and --gateway cannot narrow a replay on a deployed stack: EventBridge replays the archive through the ' +
  "destination's own rule (the only one its queue takes events from), so every event that rule matches in the " +
  'window is delivered again. Replay the whole window (the receiver dedupes on webhook-id), or narrow it with --since ' +
  'and --until';

function parseDetailType(text: string): string {
  if (!PAYMENT_DETAIL_TYPES.includes(text)) {
    throw new InvalidArgumentError(`one of ${PAYMENT_DETAIL_TYPES.join(', ')}`);
  }
  return text;
}

function windowText(selection: ReplaySelection): string {
  return `${selection.since.toISOString()} to ${selection.until.toISOString()}`;
}

function summaryLines(summary: ReplaySummary): string[] {
  if (summary.count === 0) return [];
  return [
    safe`  published from ${summary.first} to ${summary.last}`,
    table([['  type', 'count'], ...summary.byType.map((row) => [`  ${row.type}`, String(row.count)])]),
  ];
}

function print(io: CliIo, lines: readonly string[]): void {
  io.stdout(`${lines.join('\n')}\n`);
}

/** Notes on the narrowing: a type or gateway the destination does not take is never replayed to it. */
function narrowingNotes(name: string, settings: DestinationSettings, selection: ReplaySelection): string[] {
  const { type, gateway } = selection;
  const notes: string[] = [];
  if (type !== undefined && settings.detailTypes !== undefined && !settings.detailTypes.includes(type)) {
    notes.push(`${name} does not take ${type} (its detailTypes: ${settings.detailTypes.join(', ')})`);
  }
  const gateways: readonly string[] | undefined = settings.gateways;
  if (gateway !== undefined && gateways !== undefined && !gateways.includes(gateway)) {
    notes.push(`${name} does not take ${gateway}'s events (its gateways: ${gateways.join(', ')})`);
  }
  return notes;
}

async function replayFromFile(
  context: ReplayContext,
  source: Extract<PublishedEventsSource, { kind: 'file' }>,
): Promise<void> {
  const { io, target, destination, selection, options } = context;
  if (options.archive !== undefined) {
    throw new CliError(
      '--archive names an archive of a deployed stack (--stack); locally the events file is the bus',
    );
  }
  const settings = source.settings[destination.destination];
  if (!settings) {
    throw new CliError(
      `the local stack's stack.json has no settings for ${destination.destination}: restart it with \`npm start\``,
    );
  }
  if (settings.format === 'original') {
    throw new CliError(
      `${destination.destination} is an original destination: replay re-delivers payment events, and the webhooks it gets are not kept (redrive its dead letters instead)`,
    );
  }
  const selected = selectForReplay(await readPublishedEvents(source.path), settings, selection);
  const notes = [...context.notes, ...narrowingNotes(destination.destination, settings, selection)];
  const label = `${destination.destination} in ${target.label}`;
  const sent = options.dryRun
    ? undefined
    : await sendForReplay(target.sqs, destination.queueUrl, selected, {
        replayName: context.replayName,
        region: source.region,
      });
  const summary: ReplaySummary = sent ?? summariseReplay(selected);
  if (options.json) {
    const json = {
      target: target.label,
      destination: destination.destination,
      source: source.path,
      ...(sent && { replayName: context.replayName }),
      dryRun: options.dryRun === true,
      since: selection.since.toISOString(),
      until: selection.until.toISOString(),
      ...(selection.type && { type: selection.type }),
      ...(selection.gateway && { gateway: selection.gateway }),
      ...summary,
      notes,
    };
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    print(io, [
      sent
        ? safe`replay ${context.replayName} on ${label}: queued ${sent.sent} of ${sent.count} event(s) ` +
          safe`published ${windowText(selection)}; failed ${sent.failures.length}`
        : safe`dry run on ${label}: would replay ${summary.count} event(s) published ${windowText(selection)}; ` +
          'nothing was sent',
      ...summaryLines(summary),
      ...(sent?.failures ?? []).map((each) => safe`  failed ${each.webhookId}: ${each.reason}`),
      ...(sent && sent.sent > 0
        ? ['  the delivery pollers deliver them, signed, each with its original webhook-id']
        : []),
      ...notes.map((note) => safe`  note: ${note}`),
    ]);
  }
  if (sent && sent.failures.length > 0) {
    throw new CliError(`${sent.failures.length} event(s) could not be queued for ${destination.destination}`);
  }
}

function planLines(plan: ArchiveReplayPlan): string[] {
  const { archive, rule } = plan;
  const kept = archive.retentionDays ? `kept ${archive.retentionDays} days` : 'kept indefinitely';
  const count =
    archive.eventCount === undefined
      ? 'event count unknown'
      : `about ${archive.eventCount} event(s) in all, every destination's (DescribeArchive's count lags up to 24 h)`;
  return [
    safe`  archive  ${archive.name}: ${archive.state ?? '?'}, ${kept}, ${count}`,
    safe`  rule     ${rule.name} (${rule.state ?? '?'}): ${rule.eventPattern ?? '?'}`,
    '  request  StartReplay',
    ...JSON.stringify(plan.request, null, 2)
      .split('\n')
      .map((line) => safe`    ${line}`),
  ];
}

function statusLine(status: ReplayStatus): string {
  const parts = [status.state];
  if (status.eventLastReplayedTime) parts.push(`events replayed up to ${status.eventLastReplayedTime}`);
  if (status.replayEndTime) parts.push(`ended ${status.replayEndTime}`);
  if (status.stateReason) parts.push(status.stateReason);
  return safe`  ${parts.join(', ')}`;
}

async function replayFromArchive(
  context: ReplayContext,
  source: Extract<PublishedEventsSource, { kind: 'bus' }>,
): Promise<void> {
  const { io, target, destination, selection, options } = context;
  if (selection.type !== undefined || selection.gateway !== undefined) throw new CliError(NARROWING_ON_AWS);
  if (!source.busName) {
    throw new CliError(`stack ${source.stack} has no EventBusName output: is it a payhook stack?`);
  }
  const eventBridge = new EventBridgeClient(source.config);
  try {
    const plan = await planArchiveReplay(eventBridge, target.sqs, {
      busName: source.busName,
      destination: destination.destination,
      queueUrl: destination.queueUrl,
      replayName: context.replayName,
      since: selection.since,
      until: selection.until,
      now: context.now,
      ...(options.archive !== undefined && { archiveName: options.archive }),
    });
    const notes = [...context.notes, ...plan.notes];
    const label = `${destination.destination} in ${target.label}`;
    const json = (replay?: ReplayStatus) =>
      io.stdout(
        `${JSON.stringify(
          {
            target: target.label,
            destination: destination.destination,
            dryRun: options.dryRun === true,
            archive: plan.archive,
            rule: plan.rule,
            request: plan.request,
            ...(replay && { replay }),
            notes,
          },
          null,
          2,
        )}\n`,
      );
    if (options.dryRun) {
      if (options.json) return json();
      print(io, [
        safe`dry run on ${label}: would replay the events published ${windowText(selection)} from the archive, ` +
          'through its rule alone; nothing was started',
        ...planLines(plan),
        ...notes.map((note) => safe`  note: ${note}`),
      ]);
      return;
    }
    const started = await startArchiveReplay(eventBridge, plan);
    if (!options.json) {
      print(io, [
        safe`replay ${started.name} on ${label}: the events published ${windowText(selection)}, from archive ` +
          safe`${plan.archive.name} through rule ${plan.rule.name}`,
        statusLine(started),
        ...notes.map((note) => safe`  note: ${note}`),
        ...(options.wait
          ? []
          : [
              safe`  follow it with --wait next time, or: aws events describe-replay --replay-name ${started.name}`,
            ]),
      ]);
    }
    const final = options.wait
      ? await waitForReplay(eventBridge, started, {
          intervalMs: WAIT_INTERVAL_MS,
          onProgress: (status) => {
            if (!options.json) print(io, [statusLine(status)]);
          },
        })
      : started;
    if (options.json) json(final);
    if (final.state === 'FAILED' || final.state === 'CANCELLED') {
      throw new CliError(
        `replay ${final.name} ${final.state.toLowerCase()}${final.stateReason ? `: ${final.stateReason}` : ''}`,
      );
    }
  } finally {
    eventBridge.destroy();
  }
}

async function replay(io: CliIo, name: string, options: ReplayOptions): Promise<void> {
  await withDeliveriesTarget(io, options, async (target) => {
    const destination = destinationNamed(target, name);
    const now = new Date();
    // Nothing is published in the future: a later --until is now, which is also what EventBridge accepts.
    const until = options.until !== undefined && options.until < now ? options.until : now;
    if (options.since >= until) {
      throw new CliError(
        `--since (${options.since.toISOString()}) must be before --until (${until.toISOString()})`,
      );
    }
    const state = await destinationStateOf(target, name);
    const context: ReplayContext = {
      io,
      target,
      destination,
      selection: {
        since: options.since,
        until,
        ...(options.type !== undefined && { type: options.type }),
        ...(options.gateway !== undefined && { gateway: options.gateway }),
      },
      options,
      replayName: replayNameOf(name, now),
      now,
      notes: state.stopped
        ? [
            `${name} is stopped (since ${state.stoppedAt ?? '?'}): what is replayed waits on its queue until ` +
              `\`payhook deliveries resume ${name}\``,
          ]
        : [],
    };
    const source = target.publishedEvents;
    await (source.kind === 'file' ? replayFromFile(context, source) : replayFromArchive(context, source));
  });
}

/** Adds `deliveries replay` to the `deliveries` command. */
export function registerDeliveriesReplay(deliveries: Command, io: CliIo): void {
  withStackOptions(
    deliveries
      .command('replay')
      .summary(
        'deliver the payment events of a time window again to one destination, with the same webhook-ids',
      )
      .description(
        'Delivers again to one destination the payment events published between --since and --until (default: now) ' +
          'that it takes, each with its own webhook-id, so a receiver that was down or buggy catches up (it dedupes ' +
          'what it already had). Locally they are read from the events file and queued for the destination; on a ' +
          "deployed stack (--stack) EventBridge replays them from the bus's archive through the destination's rule " +
          'alone, so no other destination sees them (--type and --gateway are then refused: the rule decides).',
      ),
  )
    .argument('<destination>', 'its name, as `payhook deliveries status` prints it')
    .requiredOption(
      '--since <when>',
      'events published from then on: 30m, 2h, 7d, or an ISO time',
      parseSince,
    )
    .option(
      '--until <when>',
      'events published before then (default: now): a duration ago, or an ISO time',
      parseSince,
    )
    .option(
      '--type <type>',
      'only this payment event type (payment.succeeded, ...); local stack only',
      parseDetailType,
    )
    .option('--gateway <gateway>', "only this gateway's events; local stack only", parseGateway)
    .option('--archive <name>', 'the archive to replay from, when the bus has several (deployed stack)')
    .option('--dry-run', 'send nothing: say what would be replayed (on AWS, the StartReplay request)')
    .option('--wait', 'on AWS, wait until the replay has completed, printing its progress')
    .option('--json', 'print JSON')
    .action((name: string, options: ReplayOptions) => replay(io, name, options));
}
