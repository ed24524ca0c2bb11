import { describe, expect, it } from 'vitest';
import { formatReport } from '../../soak/report.js';
import { runSoak } from '../../soak/soak.js';

// A short soak for CI: the same generator, faults, model and checks as `npm run soak`, with 150 payments and the
// "ci" fault profile (ingest outages, lost SendMessage responses, DynamoDB write failures on the
// payments table; not lost DynamoDB responses nor the idempotency table, whose recovery takes 10-30 s per hit).
describe('soak (short)', () => {
  it('loses nothing, doubles nothing and dead-letters every poison message', async () => {
    const result = await runSoak({ count: 150, seed: 4242, faults: 'ci', drainTimeoutMs: 45_000 });
    const report = formatReport(result);
    expect(result.check.lost, report).toBe(0);
    expect(result.check.doubled, report).toBe(0);
    expect(result.check.expectedDeadLetters, report).toBeGreaterThan(0);
    expect(result.check.deadLettered, report).toBe(result.check.expectedDeadLetters);
    expect(result.check.problems, report).toEqual([]);
    expect(result.delivery.unexpected, report).toEqual([]);
    expect(result.delivery.gaveUp, report).toBe(0);
    expect(result.check.applied, report).toBe(result.check.expectedTransitions);
  }, 90_000);
});
