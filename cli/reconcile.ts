import type { Command } from 'commander';
import { dataDirFromEnv } from '../local/contract.js';
import { CliError, type CliIo } from './io.js';
import { connectToLocalStack } from './local-client.js';
import { safe } from './terminal-safe.js';

interface ReconcileOptions {
  readonly now?: boolean;
  readonly grace?: string;
  readonly json?: boolean;
}

async function reconcileNow(io: CliIo, options: ReconcileOptions): Promise<void> {
  if (!options.now)
    throw new CliError('say --now: the local stack also runs the reconciler on its own timer');
  if (options.grace !== undefined && !/^\d+$/.test(options.grace))
    throw new CliError('--grace takes whole seconds');
  const client = await connectToLocalStack(dataDirFromEnv(io.env ?? process.env));
  const query = options.grace === undefined ? '' : `?grace=${options.grace}`;
  const answer = await client.postJson(`/local/reconcile${query}`, {});
  if (answer.status !== 200)
    throw new CliError(`the reconciler run failed (${answer.status}): ${answer.body.slice(0, 300)}`);
  if (options.json) {
    io.stdout(`${answer.body.trim()}\n`);
    return;
  }
  const report = JSON.parse(answer.body) as {
    checked: number;
    confirmationsByGateway?: Record<string, number>;
    queued: Record<string, number>;
    stillPending: number;
    errors: Record<string, Record<string, number>>;
  };
  const queued = Object.entries(report.queued).map(([kind, count]) => safe`${kind} x ${count}`);
  const confirmations = Object.values(report.confirmationsByGateway ?? {}).reduce((sum, n) => sum + n, 0);
  io.stdout(
    `checked ${confirmations} claim(s) awaiting confirmation and ${report.checked} pending payment(s); queued ${queued.length > 0 ? queued.join(', ') : 'nothing'}; still pending ${report.stillPending}\n`,
  );
  for (const [gateway, counts] of Object.entries(report.errors)) {
    io.stdout(
      `${safe`  ${gateway}:`} ${Object.entries(counts)
        .map(([kind, count]) => safe`${kind} x ${count}`)
        .join(', ')}\n`,
    );
  }
}

/** Adds `reconcile` to the program. */
export function registerReconcile(program: Command, io: CliIo): void {
  program
    .command('reconcile')
    .summary('ask the gateways about pending payments, once, now')
    .description(
      "Run the local stack's reconciler once, now: unverified claims awaiting confirmation (with no grace period), " +
        'then payments pending for longer than the grace period, are asked about at their gateway (the built-in sandbox, or PAYHOOK_<GATEWAY>_API_URL), and what it learns is queued ' +
        'for the consumers like a webhook.',
    )
    .option('--now', 'run it now (required: the stack also runs it on a timer)')
    .option('--grace <seconds>', "only payments pending for longer than this (default: the stack's, 600)")
    .option('--json', 'print the run report as JSON')
    .action((options: ReconcileOptions) => reconcileNow(io, options));
}
