import { describe, expect, it } from 'vitest';
import { formatReport } from '../../soak/report.js';
import { runSoak } from '../../soak/soak.js';

// A short soak for CI: the same generator, faults, model and checks as `npm run soak`, with 500 webhooks and the
// "ci" fault profile (ingest outages, lost SendMessage responses, DynamoDB throttling on the payments table, failed
// EventBridge publishes, consumer crashes mid-batch; not lost DynamoDB responses nor the idempotency table, whose
// recovery takes 10-30 s per hit).
describe('soak (short)', () => {
  it('loses nothing, doubles nothing and dead-letters every poison message', async () => {
    // Room to drain on 2 shared cores while the rest of the suite runs beside it (about 25-50 s here); a lost event
    // does not sit in a queue, so a longer wait cannot hide one.
    const result = await runSoak({ webhooks: 500, seed: 4242, faults: 'ci', drainTimeoutMs: 90_000 });
    const report = formatReport(result);
    expect(result.check.lost, report).toBe(0);
    expect(result.check.doubled, report).toBe(0);
    expect(result.check.expectedDeadLetters, report).toBeGreaterThan(0);
    expect(result.check.deadLettered, report).toBe(
      result.check.expectedDeadLetters + result.check.duplicateDeadLetters,
    );
    expect(result.check.problems, report).toEqual([]);
    expect(result.delivery.unexpected, report).toEqual([]);
    expect(result.delivery.gaveUp, report).toBe(0);
    expect(result.check.applied, report).toBe(result.check.expectedTransitions);
    // The run was not fault-free by accident: every kind of fault the "ci" profile injects happened.
    const { faults } = result;
    for (const injected of [
      faults.sqsOutageRefusals,
      faults.sqsLostResponses,
      faults.dynamoFailures,
      faults.publishFailures,
      faults.consumerCrashes,
    ]) {
      expect(injected, report).toBeGreaterThan(0);
    }
  }, 240_000);
});
