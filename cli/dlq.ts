import type { Command } from 'commander';
import { CliError, type CliIo } from './io.js';
import { purge, readDeadLetters, redrive, showDeadLetter, summarise } from './oncall/dead-letters.js';
import { type FilterOptions, filterOf, type TargetOptions, targetOf } from './oncall/options.js';
import { gatewaySettingsFromEnv, type RenormalisedMessage, renormalise } from './oncall/renormalise.js';
import type { DeadLetter } from './oncall/types.js';
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

type DlqOptions = TargetOptions & FilterOptions & { readonly json?: boolean };

const ERROR_HELP =
  'only this error class (payload_mismatch, retries_exhausted, exhausted_without_report, ...)';

/** The target and filter options; `eventType: false` leaves out `--type` (a parked webhook has no event type yet). */
function withTargetAndFilters(command: Command, { eventType = true } = {}): Command {
  return withFilters(command, {
    queue: true,
    type: eventType && "only this event type (the gateway's own name, e.g. charge.success)",
    error: ERROR_HELP,
  });
}

async function list(io: CliIo, options: DlqOptions): Promise<void> {
  const target = await targetOf(io, options);
  const { letters } = await readDeadLetters(target.sqs, target.queues, filterOf(options), new Date());
  const groups = summarise(letters);
  if (options.json) {
    io.stdout(`${JSON.stringify({ target: target.label, summary: groups, messages: letters }, null, 2)}\n`);
    return;
  }
  io.stdout(safe`${letters.length} dead-lettered message(s) in ${target.label}\n`);
  if (letters.length === 0) return;
  io.stdout(
    `\n${table([
      ['queue', 'gateway', 'event type', 'error class', 'count', 'oldest', 'newest'],
      ...groups.map((group) => [
        group.queue,
        group.gateway ?? '-',
        group.eventType ?? '-',
        group.errorClass,
        String(group.count),
        group.oldest,
        group.newest,
      ]),
    ])}\n\n`,
  );
  io.stdout(
    `${table([
      ['message id', 'queue', 'gateway', 'type', 'reference', 'error class', 'receives', 'age'],
      ...letters.map((letter: DeadLetter) => [
        letter.messageId,
        letter.queue,
        letter.gateway ?? '-',
        letter.eventType ?? '-',
        letter.reference ?? '-',
        letter.errorClass,
        String(letter.receiveCount),
        age(letter.ageSeconds),
      ]),
    ])}\n`,
  );
}

async function show(io: CliIo, messageId: string, options: DlqOptions): Promise<void> {
  const target = await targetOf(io, options);
  const detail = await showDeadLetter(target.sqs, target.queues, messageId, new Date());
  if (!detail) throw new CliError(`no dead-lettered message ${messageId} in ${target.label}`);
  if (options.json) {
    io.stdout(`${JSON.stringify(detail, null, 2)}\n`);
    return;
  }
  io.stdout(
    `${[
      safe`message ${detail.messageId} in the ${detail.queue} dead-letter queue`,
      safe`  error        ${detail.errorClass}` + (detail.errorMessage ? safe`: ${detail.errorMessage}` : ''),
      safe`  first failed ${detail.firstFailedAt} (${age(detail.ageSeconds)} ago), received ${detail.receiveCount} time(s)`,
      safe`  gateway      ${detail.gateway ?? '-'}  event ${detail.eventType ?? '-'} ${detail.eventId ?? ''}`,
      safe`  reference    ${detail.reference ?? '-'}`,
      ...attributesAndBody(
        detail.attributes,
        detail.body,
        'emails, card numbers, UPI handles and API keys masked; secrets, PINs and signatures removed',
      ),
    ].join('\n')}\n`,
  );
}

type RedriveOptions = DlqOptions & RedriveFlags;

async function redriveCommand(io: CliIo, options: RedriveOptions): Promise<void> {
  const target = await targetOf(io, options);
  const result = await redrive(target.sqs, target.queues, filterOf(options), redriveOptionsOf(io, options));
  const notes =
    result.notRedrivable > 0
      ? [
          `${result.notRedrivable} parked unparseable webhook(s) cannot be redriven: once the adapter is fixed, \`payhook dlq renormalise\` runs them through it again`,
        ]
      : [];
  printRedrive(io, target.label, result, options, notes);
}

async function purgeCommand(
  io: CliIo,
  options: DlqOptions & { readonly confirm?: boolean; readonly limit?: number },
): Promise<void> {
  if (!options.confirm) {
    throw new CliError(
      'purge deletes messages for good: run `payhook dlq list` with the same filters first, then add --confirm',
    );
  }
  const target = await targetOf(io, options);
  const result = await purge(target.sqs, target.queues, filterOf(options), {
    ...(options.limit !== undefined && { limit: options.limit }),
  });
  io.stdout(
    options.json
      ? `${JSON.stringify({ target: target.label, ...result })}\n`
      : safe`purged ${result.deleted} message(s) from ${target.label}; ${result.skipped} left\n`,
  );
}

type RenormaliseCommandOptions = DlqOptions & { readonly limit?: number; readonly dryRun?: boolean };

/** `AUTHORISATION (high) x2, REFUND (normal)`: what one parked webhook queues, grouped. */
function eventSummary(events: RenormalisedMessage['events']): string {
  const groups = new Map<string, number>();
  for (const event of events) {
    const key = `${event.eventType} (${event.priority})`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, count]) => (count === 1 ? key : `${key} x${count}`)).join(', ');
}

function parkedSummary(parked: RenormalisedMessage['parked']): string {
  return parked.map((item) => `${item.errorClass}: ${item.reason}`).join('; ');
}

/** What happened (or would happen) to one parked webhook, in words. */
function renormalisedLine(message: RenormalisedMessage, dryRun: boolean): string {
  const would = (text: string, done: string) => (dryRun ? `would ${text}` : done);
  const queued = () =>
    message.events.length === 0
      ? would(
          'queue no event (the adapter reads it, and finds none)',
          'queued no event (the adapter reads it, and finds none)',
        )
      : would(
          `queue ${message.events.length} event(s): ${eventSummary(message.events)}`,
          `queued ${message.events.length} event(s): ${eventSummary(message.events)}`,
        );
  const parkedAgain = (what: string) =>
    `${would(`be parked again${what}`, `parked again${what}`)}: ${parkedSummary(message.parked)}`;
  switch (message.outcome) {
    case 'queued':
      return message.parked.length === 0
        ? queued()
        : `${queued()}; the rest still unparseable, ${parkedAgain(` as ${message.parked.length} message(s)`)}`;
    case 'reparked':
      return `still unparseable, ${parkedAgain(' with the new reason')}`;
    case 'unchanged':
      return `still unparseable for the same reason, left in place: ${parkedSummary(message.parked)}`;
    case 'held':
      return `left in place: ${message.note ?? ''}`;
    case 'failed':
      return `failed: ${message.note ?? ''}`;
  }
}

async function renormaliseCommand(io: CliIo, options: RenormaliseCommandOptions): Promise<void> {
  const { settings, source } = gatewaySettingsFromEnv(io.env ?? process.env);
  const target = await targetOf(io, options);
  const progress =
    io.interactive && !options.json
      ? (done: number, total: number) =>
          io.stderr(`\r${done}/${total} parked webhook(s)${done === total ? '\n' : ''}`)
      : undefined;
  const result = await renormalise(target.sqs, target.queues, filterOf(options), {
    settings,
    ...(options.limit !== undefined && { limit: options.limit }),
    ...(options.dryRun && { dryRun: true }),
    ...(progress && { onProgress: progress }),
  });
  if (options.json) {
    io.stdout(`${JSON.stringify({ target: target.label, gatewaySettings: source, ...result }, null, 2)}\n`);
  } else {
    const dryRun = result.dryRun;
    io.stdout(
      (dryRun
        ? safe`dry run on ${target.label}: nothing was changed\n`
        : safe`renormalise on ${target.label}\n`) +
        (source === 'defaults'
          ? "  gateway settings: the defaults (PAYHOOK_GATEWAY_SETTINGS is not set; set it to the deployment's value if it has one)\n"
          : '  gateway settings: from PAYHOOK_GATEWAY_SETTINGS\n'),
    );
    if (result.messages.length > 0) {
      io.stdout(
        `\n${table(
          result.messages.map((message) => [
            message.messageId,
            message.gateway ?? '-',
            message.requestId ?? '-',
            renormalisedLine(message, dryRun),
          ]),
        )}\n\n`,
      );
    }
    const { counts, skipped } = result;
    const verb = dryRun ? 'would queue' : 'queued';
    io.stdout(
      safe`${verb} ${result.queuedEvents} event(s) from ${counts.queued} parked webhook(s); ` +
        safe`${counts.reparked} ${dryRun ? 'would be' : 'were'} parked again with a new reason; ` +
        safe`${counts.unchanged} unchanged, ${counts.held} held, ${counts.failed} failed\n`,
    );
    const skips = [
      skipped.notMatching > 0 && `${skipped.notMatching} not matching the filters`,
      skipped.notParked > 0 &&
        `${skipped.notParked} not parked webhooks (consumer dead letters: use \`payhook dlq redrive\`)`,
      skipped.batchTooLarge > 0 &&
        `${skipped.batchTooLarge} batch_too_large (only with --error batch_too_large, once you know who sent them)`,
      skipped.pastLimit > 0 && `${skipped.pastLimit} past --limit`,
      skipped.notReached > 0 && `${skipped.notReached} not reached`,
    ].filter((text): text is string => typeof text === 'string');
    if (skips.length > 0) io.stdout(`  skipped: ${skips.join(', ')}\n`);
    if (result.stoppedEarly) io.stdout(safe`  stopped early: ${result.stoppedEarly}\n`);
  }
  if (result.counts.failed > 0)
    throw new CliError(
      `${result.counts.failed} parked webhook(s) could not be renormalised; they are still in the dead-letter queue`,
    );
}

/** Adds `dlq` (list, show, redrive, renormalise, purge) to the program. */
export function registerDlq(program: Command, io: CliIo): void {
  const dlq = program
    .command('dlq')
    .summary('find, explain and redrive dead-lettered events')
    .description(
      'Work with the dead-letter queues of the local stack (default) or a deployed stack (--stack).',
    );
  withTargetAndFilters(dlq.command('list').summary('summarise and list dead-lettered messages'))
    .option('--json', 'print JSON')
    .action((options: DlqOptions) => list(io, options));
  withTargetAndFilters(dlq.command('show').summary('show one dead-lettered message in full, masked'))
    .argument('<message-id>', 'as `payhook dlq list` prints it')
    .option('--json', 'print JSON')
    .action((messageId: string, options: DlqOptions) => show(io, messageId, options));
  withTargetAndFilters(dlq.command('redrive').summary('move matching messages back to their source queue'))
    .option('--limit <n>', 'move at most n messages (oldest first)', positive)
    .option('--rate <n>', 'at most n messages per second', positive)
    .option('--dry-run', 'move nothing; report what would move')
    .option('--json', 'print JSON')
    .action((options: RedriveOptions) => redriveCommand(io, options));
  withTargetAndFilters(
    dlq
      .command('renormalise')
      .summary("run parked webhooks through their gateway's current adapter again, queueing what now reads")
      .description(
        'Run the webhooks ingest parked (validly signed, but not normalised) through the current adapter again: ' +
          'what now normalises is queued on the queue of its priority and deleted from the dead-letter queue; what ' +
          'still does not stays parked, with the current reason. Not verified again (it was when received). Gateway ' +
          'settings come from PAYHOOK_GATEWAY_SETTINGS, else the defaults. batch_too_large items only with ' +
          '--error batch_too_large.',
      ),
    { eventType: false },
  )
    .option('--limit <n>', 'at most n parked webhooks (oldest first)', positive)
    .option('--dry-run', 'change nothing; say what would happen to each parked webhook')
    .option('--json', 'print JSON')
    .action((options: RenormaliseCommandOptions) => renormaliseCommand(io, options));
  withTargetAndFilters(dlq.command('purge').summary('delete matching messages (needs --confirm)'))
    .option('--limit <n>', 'delete at most n messages (oldest first)', positive)
    .option('--confirm', 'yes, delete them for good')
    .option('--json', 'print JSON')
    .action((options: DlqOptions & { confirm?: boolean; limit?: number }) => purgeCommand(io, options));
}
