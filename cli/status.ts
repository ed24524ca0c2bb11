import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { queueStatus } from './oncall/dead-letters.js';
import { type TargetOptions, targetOf, withStackOptions } from './oncall/options.js';
import { safe } from './terminal-safe.js';

async function status(io: CliIo, options: TargetOptions & { readonly json?: boolean }): Promise<void> {
  const target = await targetOf(io, options);
  const rows = await queueStatus(target.sqs, target.queues, new Date());
  if (options.json) {
    io.stdout(`${JSON.stringify({ target: target.label, queues: rows }, null, 2)}\n`);
    return;
  }
  io.stdout(safe`${target.label}\n`);
  io.stdout('queue    visible  in flight  delayed  DLQ  oldest DLQ\n');
  for (const row of rows) {
    const oldest =
      row.oldestDeadLetterAgeSeconds === undefined ? '-' : `${Math.round(row.oldestDeadLetterAgeSeconds)}s`;
    io.stdout(
      `${row.queue.padEnd(8)} ${String(row.visible).padStart(7)}  ${String(row.inFlight).padStart(9)}  ${String(row.delayed).padStart(7)}  ${String(row.deadLetters).padStart(3)}  ${oldest}\n`,
    );
    for (const failure of row.recentFailures) {
      io.stdout(
        safe`         last failure ${failure.at}: ${failure.errorClass}` +
          (failure.errorMessage ? safe` (${failure.errorMessage})` : '') +
          '\n',
      );
    }
  }
}

/** Adds `status` to the program. */
export function registerStatus(program: Command, io: CliIo): void {
  withStackOptions(program.command('status'))
    .summary('queue depths, dead letters and the last failure reasons')
    .description(
      'Per queue: visible, in flight, delayed, dead-letter depth, age of the oldest dead letter, and the last failure reasons.',
    )
    .option('--json', 'print JSON')
    .action((options: TargetOptions & { json?: boolean }) => status(io, options));
}
