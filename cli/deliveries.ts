/**
 * `payhook deliveries status|list|show|redrive|resume`: the merchant endpoints payhook delivers payment events to,
 * on the local stack (default) or a deployed stack (`--stack`). `list`, `show` and `redrive` work on one destination's
 * dead-letter queue exactly as `payhook dlq` works on the pipeline's (the same filters, `--dry-run`, rate and safety
 * rules); `status` adds what only deliveries have: whether a destination is stopped (a 410 Gone), and since when.
 * `replay` (`deliveries-replay.ts`) delivers the events of a time window again to one destination.
 */
import type { Command } from 'commander';
import { STOPPED_DESTINATION_RECHECK_SECONDS } from '../lambdas/definitions.js';
import { describeBreaker } from '../lambdas/domain/circuit-breaker.js';
import { registerDeliveriesReplay } from './deliveries-replay.js';
import { CliError, type CliIo } from './io.js';
import {
  type DestinationQueueStatus,
  destinationQueueStatus,
  readDeliveryLetters,
  redriveDeliveries,
  showDeliveryLetter,
  summariseDeliveries,
} from './oncall/delivery-letters.js';
import {
  type DeliveriesTarget,
  destinationNamed,
  type OldestMessageAge,
  destinationStateOf as stateOf,
  withDeliveriesTarget as withTarget,
} from './oncall/delivery-target.js';
import { type FilterOptions, filterOf, type TargetOptions, withStackOptions } from './oncall/options.js';
import type { DestinationQueues } from './oncall/types.js';
import {
  age,
  attributesAndBody,
  positive,
  printRedrive,
  type RedriveFlags,
  redriveOptionsOf,
  table,
  withFilters,
} from './oncall-output.js';
import { safe } from './terminal-safe.js';

type Options = TargetOptions & { readonly json?: boolean };
type ListOptions = Options & Omit<FilterOptions, 'queue'>;
type RedriveOptions = ListOptions & RedriveFlags;

const RECHECK_MINUTES = STOPPED_DESTINATION_RECHECK_SECONDS / 60;

/** One destination's row of `status`. */
interface DestinationStatus extends DestinationQueueStatus {
  readonly destination: string;
  readonly stopped: boolean;
  readonly stoppedAt?: string;
  readonly reason?: string;
  /** Its circuit breaker, when not closed: `open until ...`, `half-open: probing since ...`. */
  readonly breaker?: string;
  /** Seconds the oldest message on its queue has waited (CloudWatch, on AWS). */
  readonly oldestMessageAgeSeconds?: number;
  /** Why that age is not known, when it is not. */
  readonly oldestMessageAgeUnknown?: string;
}

async function destinationStatus(
  target: DeliveriesTarget,
  destination: DestinationQueues,
  oldest: OldestMessageAge | undefined,
  now: Date,
): Promise<DestinationStatus> {
  const [state, queues, breaker] = await Promise.all([
    stateOf(target, destination.destination),
    destinationQueueStatus(target.sqs, destination, now),
    target.breakers.get(destination.destination),
  ]);
  return {
    destination: destination.destination,
    stopped: state.stopped,
    ...(breaker.state.kind !== 'closed' && { breaker: describeBreaker(breaker.state) }),
    ...(state.stoppedAt !== undefined && { stoppedAt: state.stoppedAt }),
    ...(state.reason !== undefined && { reason: state.reason }),
    ...queues,
    ...(oldest !== undefined && 'seconds' in oldest && { oldestMessageAgeSeconds: oldest.seconds }),
    ...(oldest !== undefined && 'unknown' in oldest && { oldestMessageAgeUnknown: oldest.unknown }),
  };
}

function statusText(label: string, rows: readonly DestinationStatus[]): string {
  if (rows.length === 0) {
    return safe`${label} delivers to no destination (configure \`destinations\`, or PAYHOOK_DESTINATIONS locally)\n`;
  }
  const lines = [
    safe`${label}`,
    table([
      ['destination', 'state', 'queued', 'in flight', 'delayed', 'oldest', 'DLQ', 'oldest DLQ'],
      ...rows.map((row) => [
        row.destination,
        row.stopped ? 'STOPPED' : row.breaker ? 'PAUSED' : 'active',
        String(row.visible),
        String(row.inFlight),
        String(row.delayed),
        row.oldestMessageAgeSeconds === undefined ? '-' : age(row.oldestMessageAgeSeconds),
        String(row.deadLetters),
        row.oldestDeadLetterAgeSeconds === undefined ? '-' : age(row.oldestDeadLetterAgeSeconds),
      ]),
    ]),
  ];
  for (const row of rows) {
    if (row.breaker !== undefined) {
      lines.push(
        safe`${row.destination}: circuit breaker ${row.breaker}`,
        '  its deliveries wait on its queue; one probe at a time checks the endpoint, and the first success resumes them',
      );
    }
    if (row.stopped) {
      lines.push(
        safe`${row.destination}: stopped since ${row.stoppedAt ?? '?'}: ${row.reason ?? ''}`,
        `  its deliveries are held on its queue (delayed) and looked at every ${RECHECK_MINUTES} minutes; ` +
          safe`once the endpoint takes them again: payhook deliveries resume ${row.destination}`,
      );
    }
    for (const failure of row.recentFailures) {
      const status = failure.status === undefined ? '' : ` ${failure.status}`;
      lines.push(
        safe`${row.destination}: dead-lettered ${failure.at}: ${failure.errorClass}${status}` +
          (failure.errorMessage ? safe` (${failure.errorMessage})` : ''),
      );
    }
  }
  const [unknown] = rows.flatMap((row) => row.oldestMessageAgeUnknown ?? []);
  lines.push(
    'in flight: being attempted or waiting out a retry back-off; delayed: held (stopped, breaker open, rate); ' +
      `oldest: the oldest undelivered message${unknown === undefined ? '' : safe` (${unknown})`}`,
  );
  return `${lines.join('\n')}\n`;
}

async function status(io: CliIo, options: Options): Promise<void> {
  await withTarget(io, options, async (target) => {
    const now = new Date();
    const ages = await target.oldestMessageAges(now);
    const rows = await Promise.all(
      target.destinations.map((each) => destinationStatus(target, each, ages.get(each.destination), now)),
    );
    io.stdout(
      options.json
        ? `${JSON.stringify({ target: target.label, destinations: rows }, null, 2)}\n`
        : statusText(target.label, rows),
    );
  });
}

async function list(io: CliIo, name: string, options: ListOptions): Promise<void> {
  await withTarget(io, options, async (target) => {
    const destination = destinationNamed(target, name);
    const letters = await readDeliveryLetters(target.sqs, destination, filterOf(options), new Date());
    const groups = summariseDeliveries(letters);
    if (options.json) {
      const json = { target: target.label, destination: name, summary: groups, messages: letters };
      io.stdout(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    io.stdout(safe`${letters.length} dead-lettered delivery(ies) to ${name} in ${target.label}\n`);
    if (letters.length === 0) return;
    const shown = (value: number | undefined) => (value === undefined ? '-' : String(value));
    io.stdout(
      `\n${table([
        ['error class', 'status', 'type', 'count', 'oldest', 'newest'],
        ...groups.map((group) => [
          group.errorClass,
          shown(group.status),
          group.eventType ?? '-',
          String(group.count),
          group.oldest,
          group.newest,
        ]),
      ])}\n\n`,
    );
    io.stdout(
      `${table([
        [
          'message id',
          'type',
          'gateway',
          'reference',
          'webhook-id',
          'error class',
          'status',
          'attempts',
          'age',
        ],
        ...letters.map((letter) => [
          letter.messageId,
          letter.eventType ?? '-',
          letter.gateway ?? '-',
          letter.reference ?? '-',
          letter.eventId ?? '-',
          letter.errorClass,
          shown(letter.status),
          String(letter.receiveCount),
          age(letter.ageSeconds),
        ]),
      ])}\n`,
    );
  });
}

async function show(io: CliIo, name: string, messageId: string, options: Options): Promise<void> {
  await withTarget(io, options, async (target) => {
    const destination = destinationNamed(target, name);
    const detail = await showDeliveryLetter(target.sqs, destination, messageId, new Date());
    if (!detail) throw new CliError(`no dead-lettered delivery ${messageId} to ${name} in ${target.label}`);
    if (options.json) {
      io.stdout(`${JSON.stringify(detail, null, 2)}\n`);
      return;
    }
    const answer =
      detail.status === undefined
        ? 'no HTTP answer'
        : safe`HTTP ${detail.status}` +
          (detail.answerStart ? safe`, answer began: ${detail.answerStart}` : '');
    io.stdout(
      `${[
        safe`delivery ${detail.messageId} in ${name}'s dead-letter queue`,
        safe`  error        ${detail.errorClass}` +
          (detail.errorMessage ? safe`: ${detail.errorMessage}` : ''),
        `  answer       ${answer}`,
        safe`  first failed ${detail.firstFailedAt} (${age(detail.ageSeconds)} ago), after ${detail.receiveCount} attempt(s)`,
        safe`  event        ${detail.eventType ?? '-'}  webhook-id ${detail.eventId ?? '-'}`,
        safe`  payment      ${detail.gateway ?? '-'} ${detail.reference ?? '-'}`,
        ...attributesAndBody(
          detail.attributes,
          detail.body,
          detail.eventType === 'original-webhook'
            ? 'the webhook as queued for the destination, which receives its exact bytes and headers'
            : 'the payment event as queued for the destination; it receives {"type","timestamp","data"} from it',
        ),
      ].join('\n')}\n`,
    );
  });
}

async function redriveCommand(io: CliIo, name: string, options: RedriveOptions): Promise<void> {
  await withTarget(io, options, async (target) => {
    const destination = destinationNamed(target, name);
    const state = await stateOf(target, name);
    if (state.stopped && !options.json) {
      io.stdout(
        safe`${name} is stopped (since ${state.stoppedAt ?? '?'}): what is redriven waits on its queue until ` +
          safe`\`payhook deliveries resume ${name}\`\n`,
      );
    }
    const result = await redriveDeliveries(
      target.sqs,
      destination,
      filterOf(options),
      redriveOptionsOf(io, options),
    );
    printRedrive(io, `${name} in ${target.label}`, result, options);
  });
}

async function resume(io: CliIo, name: string, options: Options): Promise<void> {
  await withTarget(io, options, async (target) => {
    destinationNamed(target, name);
    const before = await stateOf(target, name);
    try {
      await target.states.resume(name);
    } catch (error) {
      throw new CliError(
        `cannot resume ${name}: deleting its state from table ${target.tableName} of ${target.label} failed: ${(error as Error).message}`,
      );
    }
    if (options.json) {
      const { stopped: wasStopped, ...stop } = before;
      const json = { target: target.label, destination: name, resumed: wasStopped, ...stop };
      io.stdout(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    io.stdout(
      before.stopped
        ? safe`resumed ${name} (stopped since ${before.stoppedAt ?? '?'}: ${before.reason ?? ''})\n` +
            `  new deliveries go at once; those held on its queue are attempted again within ${RECHECK_MINUTES} minutes\n`
        : safe`${name} was not stopped; nothing to resume\n`,
    );
  });
}

const TYPE_HELP = 'only this payment event type (payment.succeeded, payment.refunded, ...)';
const ERROR_HELP =
  'only this error class (permanent_status, retries_exhausted, refused_address, invalid_message, ...)';

/** Adds `deliveries` (status, list, show, redrive, resume, replay) to the program. */
export function registerDeliveries(program: Command, io: CliIo): void {
  const deliveries = program
    .command('deliveries')
    .summary("deliveries to the merchant's endpoints: status, dead letters, redrive, resume, replay")
    .description(
      'Work with the delivery destinations of the local stack (default) or a deployed stack (--stack): ' +
        'each one has its own queue and dead-letter queue, and is stopped by a 410 Gone until resumed.',
    );
  withStackOptions(
    deliveries
      .command('status')
      .summary('per destination: queued, in flight, stopped or not, dead letters and the last failures')
      .description(
        'Per destination: queued, in flight (attempts under way, retries waiting out their back-off), delayed ' +
          '(held while stopped, paused or over the rate), the age of the oldest undelivered message (CloudWatch, AWS only), whether ' +
          'it is stopped (since when, why), the dead-letter depth and age, and the newest failures.',
      ),
  )
    .option('--json', 'print JSON')
    .action((options: Options) => status(io, options));
  const destinationArgument = '<destination>';
  withFilters(
    deliveries.command('list').summary("summarise and list a destination's dead-lettered deliveries"),
    { queue: false, type: TYPE_HELP, error: ERROR_HELP },
  )
    .argument(destinationArgument, 'its name, as `payhook deliveries status` prints it')
    .option('--json', 'print JSON')
    .action((name: string, options: ListOptions) => list(io, name, options));
  withStackOptions(deliveries.command('show').summary('show one dead-lettered delivery in full'))
    .argument(destinationArgument, 'its name')
    .argument('<message-id>', 'as `payhook deliveries list` prints it')
    .option('--json', 'print JSON')
    .action((name: string, messageId: string, options: Options) => show(io, name, messageId, options));
  withFilters(
    deliveries
      .command('redrive')
      .summary("send matching dead letters back to the destination's queue, each with a new retry period"),
    { queue: false, type: TYPE_HELP, error: ERROR_HELP },
  )
    .argument(destinationArgument, 'its name')
    .option('--limit <n>', 'move at most n messages (oldest first)', positive)
    .option('--rate <n>', 'at most n messages per second', positive)
    .option('--dry-run', 'move nothing; report what would move')
    .option('--json', 'print JSON')
    .action((name: string, options: RedriveOptions) => redriveCommand(io, name, options));
  withStackOptions(
    deliveries
      .command('resume')
      .summary('resume a destination a 410 Gone stopped')
      .description(
        'Deletes the stop a 410 Gone put on the destination: new deliveries go at once, and those held on its queue ' +
          `are attempted again within ${RECHECK_MINUTES} minutes.`,
      ),
  )
    .argument(destinationArgument, 'its name')
    .option('--json', 'print JSON')
    .action((name: string, options: Options) => resume(io, name, options));
  registerDeliveriesReplay(deliveries, io);
}
