/**
 * `payhook rejects list`: the webhooks ingest refused (bad signatures, unknown gateways, oversized bodies, ...), grouped
 * by reason, from the refused-requests table of the local stack or of a deployed stack (`--stack`).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { GATEWAYS } from '../lambdas/domain/webhook-event.js';
import type { RefusedRequest } from '../lambdas/ports/refused-requests.js';
import { DynamoRefusedRequestStore } from '../lambdas/store/dynamodb-refused-requests.js';
import type { CliIo } from './io.js';
import { parseDuration, type TargetOptions, tableOf, withStackOptions } from './oncall/options.js';
import { TABLE_OUTPUTS } from './oncall/target.js';
import { safe } from './terminal-safe.js';

/** The CloudFormation output that names the table (see `lib/payhook-stack.ts`). */
export const REJECTS_TABLE_OUTPUT = TABLE_OUTPUTS.rejects;

interface ListOptions extends TargetOptions {
  readonly gateway?: string;
  readonly reason?: string;
  readonly since: Date;
  readonly json?: boolean;
}

interface RejectsSource {
  readonly label: string;
  readonly store: DynamoRefusedRequestStore;
  close(): void;
}

async function sourceOf(io: CliIo, options: TargetOptions): Promise<RejectsSource> {
  const table = await tableOf(io, options, 'rejects');
  return {
    label: table.label,
    store: new DynamoRefusedRequestStore(table.documents, { tableName: table.tableName }),
    close: table.close,
  };
}

/** Refused requests by reason, most frequent first; each group newest first. */
export function groupByReason(refused: readonly RefusedRequest[]): [string, RefusedRequest[]][] {
  const groups = new Map<string, RefusedRequest[]>();
  for (const entry of refused) groups.set(entry.reason, [...(groups.get(entry.reason) ?? []), entry]);
  return [...groups.entries()]
    .map(([reason, entries]): [string, RefusedRequest[]] => [
      reason,
      [...entries].sort((a, b) => b.at.localeCompare(a.at)),
    ])
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
}

/** Lines shown per reason before "... and N more". */
const SHOWN_PER_REASON = 20;

async function list(io: CliIo, options: ListOptions): Promise<void> {
  const source = await sourceOf(io, options);
  try {
    const { items: found, truncated } = await source.store.list({
      since: options.since,
      ...(options.gateway && { gateway: options.gateway }),
      ...(options.reason && { reason: options.reason }),
    });
    const groups = groupByReason(found);
    if (options.json) {
      io.stdout(
        `${JSON.stringify(
          {
            target: source.label,
            since: options.since.toISOString(),
            total: found.length,
            truncated,
            reasons: groups.map(([reason, entries]) => ({
              reason,
              count: entries.length,
              requests: entries,
            })),
          },
          null,
          2,
        )}\n`,
      );
      return;
    }
    io.stdout(
      safe`${source.label}: ${found.length} refused request(s) since ${options.since.toISOString()}\n`,
    );
    if (truncated.length > 0) {
      io.stdout(
        safe`(only the newest 1000 per gateway for ${truncated.join(', ')}: narrow with --since or --reason for older ones)\n`,
      );
    }
    for (const [reason, entries] of groups) {
      const byGateway = new Map<string, number>();
      for (const entry of entries) byGateway.set(entry.gateway, (byGateway.get(entry.gateway) ?? 0) + 1);
      const gateways = [...byGateway.entries()]
        .map(([gateway, count]) => safe`${gateway} ${count}`)
        .join(', ');
      io.stdout(`\n${safe`${reason}: ${entries.length}`} (${gateways})\n`);
      for (const entry of entries.slice(0, SHOWN_PER_REASON)) {
        // The route and the header names are what an unauthenticated caller chose.
        const gateway = entry.requestedGateway
          ? `${entry.gateway} (${entry.requestedGateway})`
          : entry.gateway;
        io.stdout(
          safe`  ${entry.at}  ${gateway}  ${entry.status}  request ${entry.requestId}  from ${entry.sourceIp ?? '-'}  ` +
            safe`body ${entry.bodyBytes} B sha256 ${entry.bodySha256.slice(0, 16)}  headers ${entry.headerNames.join(',') || '-'}\n`,
        );
      }
      if (entries.length > SHOWN_PER_REASON) {
        io.stdout(`  ... and ${entries.length - SHOWN_PER_REASON} more (--json shows all)\n`);
      }
    }
  } finally {
    source.close();
  }
}

export function parseSince(text: string): Date {
  if (/^\d+[smhd]$/.test(text.trim())) return parseDuration(text);
  const at = new Date(text);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError('a duration such as 30m, 2h or 7d, or an ISO time');
  return at;
}

function parseGateway(text: string): string {
  if (text !== 'unknown' && !(GATEWAYS as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`one of ${GATEWAYS.join(', ')}, unknown`);
  }
  return text;
}

/** Adds `rejects` to the program. */
export function registerRejects(program: Command, io: CliIo): void {
  const rejects = program.command('rejects').summary('webhooks ingest refused, kept for diagnosis');
  const command = rejects
    .command('list')
    .summary('refused webhooks, grouped by reason')
    .description(
      'Refused webhooks (bad or missing signatures, unknown gateways, oversized or empty bodies, ...), grouped by reason: ' +
        'time, gateway, status, request id, source IP, body size and hash, header names. Never a secret, a signature or a body.',
    )
    .option('--gateway <gateway>', 'one gateway (or "unknown" for routes that named none)', parseGateway)
    .option('--reason <reason>', 'one refusal reason, e.g. invalid_signature')
    .option(
      '--since <when>',
      'a duration such as 30m, 2h, 7d, or an ISO time',
      parseSince,
      parseDuration('24h'),
    )
    .option('--json', 'print JSON');
  withStackOptions(command).action((options: ListOptions) => list(io, options));
}
