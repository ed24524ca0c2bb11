/**
 * What the dead-letter commands share: their filter options, the way they show ages, tables, a message in full and a
 * redrive's result, so `payhook dlq` and `payhook deliveries` read alike and are fixed in one place.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, type CliIo } from './io.js';
import type { RedriveOptions, RedriveResult } from './oncall/dead-letters.js';
import { parseDuration, parseQueue, withStackOptions } from './oncall/options.js';
import { columns, safe } from './terminal-safe.js';

/** `45s`, `12m`, `5h`, `3d`: an age as a column shows it. */
export function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** Rows as aligned columns, every cell escaped (see `columns`). */
export function table(rows: readonly (readonly string[])[]): string {
  return columns(rows).join('\n');
}

/** A commander parser for `--limit` and `--rate`. */
export function positive(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('a positive number');
  return value;
}

/** Which filters a dead-letter command takes, and how its help describes them. */
export interface FilterHelp {
  /** `--queue` (the pipeline's priorities); a destination's commands name their one queue as an argument. */
  readonly queue: boolean;
  /** `--type`'s help; `false` leaves it out (a parked webhook has no event type yet). */
  readonly type: string | false;
  readonly error: string;
}

/** Adds the filters (`--gateway`, `--type`, `--error`, `--since`, and `--queue` where asked) and the stack options. */
export function withFilters(command: Command, help: FilterHelp): Command {
  if (help.queue) {
    command.addOption(
      new Option('--queue <queue>', 'high, normal, low or all').argParser(parseQueue).default('all'),
    );
  }
  command.option('--gateway <gateway>', 'only this gateway');
  if (help.type !== false) command.option('--type <type>', help.type);
  command
    .option('--error <class>', help.error)
    .option(
      '--since <duration>',
      'only messages that first failed within this long (30m, 2h, 7d)',
      parseDuration,
    );
  return withStackOptions(command);
}

/** What `--limit`, `--rate`, `--dry-run` and `--json` say to a redrive command. */
export interface RedriveFlags {
  readonly limit?: number;
  readonly rate?: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** A redrive's options from its command's flags, with a progress bar on standard error on a terminal. */
export function redriveOptionsOf(io: CliIo, flags: RedriveFlags): RedriveOptions {
  const progress = redriveProgress(io, flags.json);
  return {
    ...(flags.limit !== undefined && { limit: flags.limit }),
    ...(flags.rate !== undefined && { ratePerSecond: flags.rate }),
    ...(flags.dryRun && { dryRun: true }),
    ...(progress && { onProgress: progress }),
  };
}

/** A progress bar on standard error while a redrive moves messages: only on a terminal, and never with `--json`. */
function redriveProgress(
  io: CliIo,
  json: boolean | undefined,
): ((done: number, total: number) => void) | undefined {
  if (!io.interactive || json) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    io.stderr(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) io.stderr('\n');
  };
}

/**
 * Prints a redrive's result (JSON, or a line of counts with each failure), `notes` after the counts; then fails the
 * command when a message could not be moved, so a script sees it.
 */
export function printRedrive(
  io: CliIo,
  label: string,
  result: RedriveResult,
  options: { readonly json?: boolean; readonly dryRun?: boolean },
  notes: readonly string[] = [],
): void {
  if (options.json) {
    io.stdout(`${JSON.stringify({ target: label, ...result }, null, 2)}\n`);
  } else if (options.dryRun) {
    io.stdout(
      safe`dry run on ${label}: would move ${result.wouldMove}, leave ${result.skipped}; nothing was moved\n`,
    );
  } else {
    io.stdout(
      safe`redrive on ${label}: moved ${result.moved}, skipped ${result.skipped}, failed ${result.failed}\n`,
    );
    for (const note of notes) io.stdout(`  ${note}\n`);
    for (const failure of result.failures)
      io.stdout(safe`  failed ${failure.messageId}: ${failure.reason}\n`);
    if (result.stoppedEarly) io.stdout(safe`  stopped early: ${result.stoppedEarly}\n`);
  }
  if (result.failed > 0)
    throw new CliError(
      `${result.failed} message(s) could not be moved; they are still in the dead-letter queue`,
    );
}

/** The end of `show`: the message's other attributes (if any), then its body as indented JSON under `bodyTitle`. */
export function attributesAndBody(
  attributes: Readonly<Record<string, string>>,
  body: unknown,
  bodyTitle: string,
): string[] {
  const entries = Object.entries(attributes);
  return [
    ...(entries.length === 0 ? [] : ['  attributes']),
    ...entries.map(([name, value]) => safe`    ${name}: ${value}`),
    `  body (${bodyTitle})`,
    // JSON.stringify escapes C0 controls; escapeField the rest (C1, bidi), which are valid JSON escapes too.
    ...JSON.stringify(body, null, 2)
      .split('\n')
      .map((line) => safe`    ${line}`),
  ];
}
