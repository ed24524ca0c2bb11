/**
 * `payhook deliveries replay` on a deployed stack: an EventBridge replay from the bus's archive back onto the bus,
 * filtered to the destination's own rule (`Destination.FilterArns`), so only that destination's queue receives the
 * events again; each keeps its `detail.id`, the `webhook-id`. EventBridge replays, the delivery function delivers.
 *
 * The stack's outputs name the bus (`EventBusName`) and the destination's queue, not the archive nor the rule, so both
 * are looked up: the archive as the one whose source is the bus (`ListArchives`), the rule as the one on the bus that
 * targets the queue (`ListRuleNamesByTarget`). Outputs for the archive's ARN and each destination's rule ARN would
 * make that two reads fewer and leave nothing to guess.
 */
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  type DescribeReplayCommandOutput,
  DescribeRuleCommand,
  type EventBridgeClient,
  ListArchivesCommand,
  ListRuleNamesByTargetCommand,
  StartReplayCommand,
  type StartReplayCommandInput,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CliError } from '../io.js';

/** EventBridge may archive an event this long after the bus received it: its advice is to wait that long to replay. */
export const ARCHIVE_DELAY_MS = 10 * 60_000;

/** The archive a replay reads, as `DescribeArchive` tells it. */
export interface ArchiveInfo {
  readonly name: string;
  readonly arn: string;
  readonly state?: string;
  /** 0: kept indefinitely. */
  readonly retentionDays?: number;
  /** EventBridge reconciles it within 24 hours; the whole archive's, every destination's events. */
  readonly eventCount?: number;
  readonly sizeBytes?: number;
  readonly creationTime?: string;
}

/** The destination's rule, its filter. */
export interface RuleInfo {
  readonly name: string;
  readonly arn: string;
  readonly state?: string;
  readonly eventPattern?: string;
}

/** Everything a replay needs, found, and the request it makes: what `--dry-run` prints. */
export interface ArchiveReplayPlan {
  readonly busName: string;
  readonly busArn: string;
  readonly archive: ArchiveInfo;
  readonly rule: RuleInfo;
  readonly request: StartReplayCommandInput & { readonly EventStartTime: Date; readonly EventEndTime: Date };
  /** What the operator should know about the window: expired from the archive, or possibly not archived yet. */
  readonly notes: readonly string[];
}

/** A replay's progress, as `DescribeReplay` tells it. */
export interface ReplayStatus {
  readonly name: string;
  readonly state: string;
  readonly stateReason?: string;
  /** The event time the replay has reached (it goes through the window a minute at a time). */
  readonly eventLastReplayedTime?: string;
  readonly replayStartTime?: string;
  readonly replayEndTime?: string;
}

/** The states a replay does not leave. */
export const FINAL_REPLAY_STATES: readonly string[] = ['COMPLETED', 'CANCELLED', 'FAILED'];

export interface PlanInput {
  readonly busName: string;
  readonly destination: string;
  readonly queueUrl: string;
  readonly replayName: string;
  readonly since: Date;
  readonly until: Date;
  readonly now: Date;
  /** The archive to read, when the bus has several. */
  readonly archiveName?: string;
}

/** Runs an AWS call; a failure becomes a {@link CliError} saying what could not be done, with the SDK's reason. */
async function call<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot ${what}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

async function busArnOf(eventBridge: EventBridgeClient, busName: string): Promise<string> {
  const { Arn } = await call(`describe event bus ${busName}`, () =>
    eventBridge.send(new DescribeEventBusCommand({ Name: busName })),
  );
  if (!Arn) throw new CliError(`event bus ${busName} has no ARN`);
  return Arn;
}

/** The archive named, or the bus's only one. */
async function archiveOf(
  eventBridge: EventBridgeClient,
  busName: string,
  busArn: string,
  archiveName: string | undefined,
): Promise<ArchiveInfo> {
  let name = archiveName;
  if (name === undefined) {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await call(`list the archives of ${busName}`, () =>
        eventBridge.send(new ListArchivesCommand({ EventSourceArn: busArn, NextToken: token })),
      );
      names.push(...(page.Archives ?? []).flatMap((archive) => archive.ArchiveName ?? []));
      token = page.NextToken;
    } while (token);
    if (names.length === 0) throw new CliError(`event bus ${busName} has no archive: nothing to replay from`);
    if (names.length > 1) {
      throw new CliError(
        `event bus ${busName} has ${names.length} archives (${names.join(', ')}): name one with --archive`,
      );
    }
    name = names[0];
  }
  const archiveAsked = name ?? '';
  const found = await call(`describe archive ${archiveAsked}`, () =>
    eventBridge.send(new DescribeArchiveCommand({ ArchiveName: archiveAsked })),
  );
  if (!found.ArchiveArn) throw new CliError(`archive ${archiveAsked} has no ARN`);
  // A replay goes back to the bus its archive is of: another bus's archive cannot feed this destination's rule.
  if (found.EventSourceArn !== busArn) {
    throw new CliError(
      `archive ${archiveAsked} is of ${found.EventSourceArn ?? 'no bus'}, not of ${busName}`,
    );
  }
  return {
    name: archiveAsked,
    arn: found.ArchiveArn,
    ...(found.State && { state: found.State }),
    ...(found.RetentionDays !== undefined && { retentionDays: found.RetentionDays }),
    ...(found.EventCount !== undefined && { eventCount: found.EventCount }),
    ...(found.SizeBytes !== undefined && { sizeBytes: found.SizeBytes }),
    ...(found.CreationTime && { creationTime: found.CreationTime.toISOString() }),
  };
}

/** The rule on the bus whose target is the destination's queue: the destination's rule, the only one so aimed. */
async function ruleOf(
  eventBridge: EventBridgeClient,
  sqs: SQSClient,
  busName: string,
  destination: string,
  queueUrl: string,
): Promise<RuleInfo> {
  const { Attributes } = await call(`read the ARN of ${destination}'s queue`, () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })),
  );
  const queueArn = Attributes?.QueueArn;
  if (!queueArn) throw new CliError(`${destination}'s queue has no ARN`);
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await call(`list the rules of ${busName} that target ${destination}'s queue`, () =>
      eventBridge.send(
        new ListRuleNamesByTargetCommand({ TargetArn: queueArn, EventBusName: busName, NextToken: token }),
      ),
    );
    names.push(...(page.RuleNames ?? []));
    token = page.NextToken;
  } while (token);
  if (names.length === 0) {
    throw new CliError(
      `no rule on event bus ${busName} targets ${destination}'s queue: nothing would deliver a replay ` +
        '(an original destination has none: the bus carries payment events, not the webhooks it delivers)',
    );
  }
  // Two rules would each put every replayed event on the queue: the stack makes one, so another is someone's own.
  if (names.length > 1) {
    throw new CliError(
      `${names.length} rules on event bus ${busName} target ${destination}'s queue (${names.join(', ')}): ` +
        'a replay through them all would deliver each event more than once; the stack makes only one',
    );
  }
  const ruleName = names[0] ?? '';
  const rule = await call(`describe rule ${ruleName}`, () =>
    eventBridge.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: busName })),
  );
  if (!rule.Arn) throw new CliError(`rule ${ruleName} has no ARN`);
  return {
    name: ruleName,
    arn: rule.Arn,
    ...(rule.State && { state: rule.State }),
    ...(rule.EventPattern && { eventPattern: rule.EventPattern }),
  };
}

/** What to know about the window: events expired from the archive, before it existed, or maybe not in it yet. */
function windowNotes(archive: ArchiveInfo, since: Date, until: Date, now: Date): string[] {
  const notes: string[] = [];
  if (archive.retentionDays) {
    const kept = new Date(now.getTime() - archive.retentionDays * 86_400_000);
    if (since < kept) {
      notes.push(
        `the archive keeps events ${archive.retentionDays} days: those published before ${kept.toISOString()} are gone`,
      );
    }
  }
  if (archive.creationTime !== undefined && since.getTime() < Date.parse(archive.creationTime)) {
    notes.push(`the archive was created at ${archive.creationTime}: it holds nothing published earlier`);
  }
  const settled = new Date(now.getTime() - ARCHIVE_DELAY_MS);
  if (until > settled) {
    notes.push(
      `EventBridge can take up to 10 minutes to archive an event: some published after ${settled.toISOString()} ` +
        'may not be replayed; replay that part again later (--since) if they matter',
    );
  }
  return notes;
}

/**
 * Finds the bus, its archive and the destination's rule, and builds the `StartReplay` request: the window's events
 * from the archive, back to the bus, through the destination's rule alone. Reads only.
 */
export async function planArchiveReplay(
  eventBridge: EventBridgeClient,
  sqs: SQSClient,
  input: PlanInput,
): Promise<ArchiveReplayPlan> {
  const busArn = await busArnOf(eventBridge, input.busName);
  const archive = await archiveOf(eventBridge, input.busName, busArn, input.archiveName);
  const rule = await ruleOf(eventBridge, sqs, input.busName, input.destination, input.queueUrl);
  // A disabled rule lets nothing through: the replay would "complete" having delivered nothing.
  if (rule.state !== undefined && rule.state !== 'ENABLED') {
    throw new CliError(
      `${input.destination}'s rule ${rule.name} is ${rule.state}: a replay through it would deliver nothing`,
    );
  }
  return {
    busName: input.busName,
    busArn,
    archive,
    rule,
    request: {
      ReplayName: input.replayName,
      Description: `payhook deliveries replay ${input.destination}`,
      EventSourceArn: archive.arn,
      EventStartTime: input.since,
      EventEndTime: input.until,
      Destination: { Arn: busArn, FilterArns: [rule.arn] },
    },
    notes: windowNotes(archive, input.since, input.until, input.now),
  };
}

function statusOf(name: string, replay: Partial<DescribeReplayCommandOutput>): ReplayStatus {
  return {
    name,
    state: replay.State ?? 'UNKNOWN',
    ...(replay.StateReason && { stateReason: replay.StateReason }),
    ...(replay.EventLastReplayedTime && {
      eventLastReplayedTime: replay.EventLastReplayedTime.toISOString(),
    }),
    ...(replay.ReplayStartTime && { replayStartTime: replay.ReplayStartTime.toISOString() }),
    ...(replay.ReplayEndTime && { replayEndTime: replay.ReplayEndTime.toISOString() }),
  };
}

/** The replay's progress now. */
export async function describeReplay(eventBridge: EventBridgeClient, name: string): Promise<ReplayStatus> {
  const replay = await call(`describe replay ${name}`, () =>
    eventBridge.send(new DescribeReplayCommand({ ReplayName: name })),
  );
  return statusOf(name, replay);
}

/** Starts the planned replay, then reads its state (what `StartReplay` answers is only where it starts). */
export async function startArchiveReplay(
  eventBridge: EventBridgeClient,
  plan: ArchiveReplayPlan,
): Promise<ReplayStatus> {
  const name = plan.request.ReplayName ?? '';
  await call(`start replay ${name}`, () => eventBridge.send(new StartReplayCommand(plan.request)));
  return describeReplay(eventBridge, name);
}

/**
 * Polls the replay every `intervalMs` until it is completed, cancelled or failed, telling `onProgress` each new state
 * or progress. No limit of its own: a replay of a long window takes as long as the window has minutes to go through.
 */
export async function waitForReplay(
  eventBridge: EventBridgeClient,
  first: ReplayStatus,
  options: { readonly intervalMs: number; readonly onProgress: (status: ReplayStatus) => void },
): Promise<ReplayStatus> {
  let status = first;
  while (!FINAL_REPLAY_STATES.includes(status.state)) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    const next = await describeReplay(eventBridge, status.name);
    if (next.state !== status.state || next.eventLastReplayedTime !== status.eventLastReplayedTime) {
      options.onProgress(next);
    }
    status = next;
  }
  return status;
}
