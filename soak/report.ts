import type { CheckResult } from './checks.js';
import type { FaultCounts } from './faults.js';
import type { DeliveryStats } from './sender.js';

export interface SoakResult {
  readonly payments: number;
  readonly webhooksPlanned: number;
  readonly seed: number;
  readonly faultProfile: string;
  readonly seconds: number;
  readonly lifecycles: Readonly<Record<string, number>>;
  readonly delivery: DeliveryStats;
  readonly faults: FaultCounts;
  readonly check: CheckResult;
}

/** Lost or doubled is a failure; so is any other mismatch (status, DLQ contents, an unexpected answer). */
export function passed(result: SoakResult): boolean {
  return (
    result.check.lost === 0 &&
    result.check.doubled === 0 &&
    result.check.problems.length === 0 &&
    result.delivery.unexpected.length === 0 &&
    result.delivery.gaveUp === 0
  );
}

export function formatReport(result: SoakResult, maxProblems = 30): string {
  const { delivery, check, faults } = result;
  const rows: [string, string | number][] = [
    ['payments', result.payments],
    ['webhooks sent (HTTP requests, retries included)', delivery.requests],
    ['accepted (2xx)', delivery.accepted],
    ['rejected (4xx; forged copies refused)', `${delivery.rejected} (${delivery.forgedRefused})`],
    ['5xx answers retried by the gateway', `${delivery.serverErrors} (${delivery.retried} webhooks)`],
    ['gave up after retries', delivery.gaveUp],
    ['applied (transitions announced / modelled)', `${check.applied} / ${check.expectedTransitions}`],
    ['duplicates absorbed (extra copies accepted)', delivery.duplicatesAccepted],
    [
      'dead-lettered (found / poison sent; copies of a poison queued twice)',
      `${check.deadLettered} / ${check.expectedDeadLetters}; ${check.duplicateDeadLetters}`,
    ],
    ['lost', check.lost],
    ['doubled', check.doubled],
    ['re-published with the same id (at least once; downstream dedupes)', check.republished],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    `payhook soak: ${result.webhooksPlanned} webhooks planned over ${result.payments} payments, seed ${result.seed}, faults "${result.faultProfile}", ${result.seconds.toFixed(1)} s`,
    `lifecycles: ${Object.entries(result.lifecycles)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
    `faults injected: ${faults.outages} ingest outages (${faults.sqsOutageRefusals} SendMessage refused), ${faults.sqsLostResponses} SendMessage responses lost, ${faults.dynamoFailures} DynamoDB writes throttled, ${faults.dynamoLostResponses} DynamoDB write responses lost, ${faults.publishFailures} EventBridge publishes failed, ${faults.consumerCrashes} consumer crashes mid-batch`,
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ];
  for (const event of check.republishedEvents.slice(0, 5)) lines.push(`  re-published: ${event}`);
  const problems = [...delivery.unexpected, ...check.problems];
  if (problems.length > 0) {
    lines.push('', `${problems.length} problem(s):`);
    for (const problem of problems.slice(0, maxProblems)) lines.push(`  - ${problem}`);
    if (problems.length > maxProblems) lines.push(`  ... and ${problems.length - maxProblems} more`);
  }
  lines.push('', passed(result) ? 'PASS: nothing lost, nothing doubled' : 'FAIL');
  return lines.join('\n');
}

/** The soak's section of BENCHMARKS.md: what ran, the table, and how to run it again. */
export function soakMarkdown(result: SoakResult, machine: string): string {
  return [
    '# Soak: fault injection',
    '',
    '`npm run soak` (`npx tsx soak/run.ts [--webhooks N] [--seed S] [--faults none|ci|full] [--concurrency C]',
    '[--verbose] [--dry]`) plays the gateways: it sends N seeded, signed webhooks (default 10,000: first deliveries,',
    'sequential and concurrent duplicates, out-of-order lifecycles, partial and full refunds, poison messages with a',
    'reused event id and another amount, forged copies) to the local stack and resends on every 5xx as a gateway',
    'would. Meanwhile faults are injected: ingest queue outages and lost SendMessage responses, DynamoDB throttling and',
    'lost write responses (payments and idempotency tables) through a proxy in front of the emulators; EventBridge',
    "publish failures and consumer crashes mid-batch through the stack's hooks. It then checks the stack against the",
    "generator's own model: every accepted valid event applied, each payment's status, exactly one domain event id",
    'per transition, every poison message in a DLQ with its reason, nothing else anywhere. It exits non-zero if',
    'anything is lost or doubled, and rewrites this section unless `--dry`. CI runs 500 webhooks with the `ci`',
    'profile (no lost DynamoDB responses: their recovery waits for the in-progress expiry). A domain event published',
    'again with its own id (a consumer published, then could not record completion, and its retry published again)',
    'is counted apart as re-published: publishing is at least once by design, and downstream dedupes on the id.',
    '',
    `Latest run: ${new Date().toISOString().slice(0, 10)}, ${machine}.`,
    '',
    '```',
    formatReport(result),
    '```',
  ].join('\n');
}
