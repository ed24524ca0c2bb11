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
    ['dead-lettered (found / poison sent)', `${check.deadLettered} / ${check.expectedDeadLetters}`],
    ['lost', check.lost],
    ['doubled', check.doubled],
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
  const problems = [...delivery.unexpected, ...check.problems];
  if (problems.length > 0) {
    lines.push('', `${problems.length} problem(s):`);
    for (const problem of problems.slice(0, maxProblems)) lines.push(`  - ${problem}`);
    if (problems.length > maxProblems) lines.push(`  ... and ${problems.length - maxProblems} more`);
  }
  lines.push('', passed(result) ? 'PASS: nothing lost, nothing doubled' : 'FAIL');
  return lines.join('\n');
}
