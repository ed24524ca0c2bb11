import { describe, expect, it } from 'vitest';
import { formatReport } from '../../soak/report.js';
import { runSoak } from '../../soak/soak.js';

// A short soak for CI: the same generator, faults, model and checks as `npm run soak`, with 500 webhooks and the
// "ci" fault profile (ingest outages, lost SendMessage responses, DynamoDB throttling on the payments table, failed
// EventBridge publishes, consumer crashes mid-batch; not lost DynamoDB responses nor the idempotency table, whose
// recovery takes 10-30 s per hit), and issue #14's attacks (replays under unsigned headers, unverified claims,
// payer-chosen references naming other payments, re-registrations), each planned at least once. Its payment events
// go to a delivery destination of the soak's own, whose receiver injects every kind of delivery failure (5xx,
// timeouts, 429s, resets, a breaker outage, a 410 the soak's on-call engineer resumes with `payhook deliveries
// resume`): each must still be delivered.
describe('soak (short)', () => {
  it('loses nothing, doubles nothing, dead-letters every poison message and lets no attack change a record', async () => {
    // Room to drain on 2 shared cores while the rest of the suite runs beside it (about 25-50 s here, and up to 30 s
    // more for the destination's last back-offs); a lost event does not sit in a queue, so a longer wait cannot hide
    // one.
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
    // Every attack was planned, and handled as it must be (the records above equal the model's with them).
    const { figures, delivery, check } = result;
    for (const [attack, planned] of Object.entries({
      'replays under fresh unsigned headers': figures.headerReplays,
      'claims of money before the webhooks': figures.claimsBeforeWebhooks,
      'claims of money after the webhooks': figures.claimsAfterWebhooks,
      'claims of failure': figures.claimsOfFailure,
      "claims settled by the gateway's verified answer": figures.claimsSettled,
      'Stripe sessions naming another payment': figures.payerReferences.stripe ?? 0,
      'Razorpay order-less payments naming another payment': figures.payerReferences.razorpay ?? 0,
      'registrations again with the same values': figures.registrationsAgain,
      'registrations with another amount': figures.registrationConflicts.amount ?? 0,
      'registrations with another currency': figures.registrationConflicts.currency ?? 0,
      "registered-only payments naming another's reference": figures.registeredOnly,
    })) {
      expect(planned, `${attack}\n${report}`).toBeGreaterThan(0);
    }
    expect(delivery.claimsAccepted, report).toBe(figures.claimWebhooks);
    expect(check.claimsRecorded, report).toBe(check.claimsSent);
    expect(check.verifiedAnswers, report).toBe(check.verifiedAnswersExpected);
    expect(delivery.registrationConflictsRefused, report).toBe(
      Object.values(figures.registrationConflicts).reduce((sum, n) => sum + n, 0),
    );
    expect(check.expectationsKept, report).toBe(check.expectationsExpected);

    // The destinations: every payment event (`payment-event`) and every applied webhook, byte for byte with its
    // signature headers (`original`), delivered at least once, whatever was injected on the way; nothing unwanted
    // (a filtered detail-type; an unconfirmed claim or a poison webhook).
    expect(result.destinations.map((each) => each.check.format).sort(), report).toEqual([
      'original',
      'payment-event',
    ]);
    for (const { check: destination } of result.destinations) {
      const what = `${destination.destination}\n${report}`;
      expect(destination.problems, what).toEqual([]);
      expect(destination.wanted, what).toBeGreaterThan(0);
      expect(destination.delivered, what).toBe(destination.wanted);
      expect(destination.unwantedPublished, what).toBeGreaterThan(0);
      expect(destination.unwantedDelivered, what).toBe(0);
      expect(destination.signatureFailures, what).toBe(0);
      expect(destination.deadLetters, what).toBe(0);
      for (const kind of ['error', 'timeout', 'throttle', 'reset', 'gone'] as const) {
        expect(destination.injected[kind], `${kind} ${what}`).toBeGreaterThan(0);
      }
      expect(destination.breakerOpens, what).toBeGreaterThan(0);
      expect(destination.retryAfterChecked, what).toBeGreaterThan(0);
      expect(destination.stop, what).toMatchObject({ stoppedSeen: true, resumed: true });
      expect(destination.requestsWhileStopped, what).toBe(0);
    }
  }, 480_000);
});
