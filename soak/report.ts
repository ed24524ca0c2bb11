import type { CheckResult } from './checks.js';
import { type DestinationResult, HOLD_CAP_FROM_SECONDS, HOLD_CAP_SECONDS } from './destination.js';
import type { FaultCounts } from './faults.js';
import type { PlanFigures } from './generator.js';
import type { DeliveryStats } from './sender.js';

export interface SoakResult {
  readonly payments: number;
  readonly webhooksPlanned: number;
  readonly seed: number;
  readonly faultProfile: string;
  readonly seconds: number;
  readonly lifecycles: Readonly<Record<string, number>>;
  readonly figures: PlanFigures;
  readonly delivery: DeliveryStats;
  readonly faults: FaultCounts;
  /** Reconciler runs after each phase (more than one while a claim it must settle showed no answer yet). */
  readonly reconcilerRuns: readonly number[];
  readonly check: CheckResult;
  /** The delivery destinations the soak received on (none with `destination: false`). */
  readonly destinations: readonly DestinationResult[];
}

/** Lost or doubled is a failure; so is any other mismatch (status, DLQ contents, an unexpected answer). */
export function passed(result: SoakResult): boolean {
  return (
    result.check.lost === 0 &&
    result.check.doubled === 0 &&
    result.check.problems.length === 0 &&
    result.delivery.unexpected.length === 0 &&
    result.delivery.gaveUp === 0 &&
    result.destinations.every((destination) => destination.check.problems.length === 0)
  );
}

function counts(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name} ${n}`).join(', ');
}

/** The lifecycle figures of the plan: what the webhooks were about. */
export function figureLines(figures: PlanFigures): string[] {
  return [
    `events: ${figures.events} distinct valid events in ${figures.deliveries} deliveries, unverified claims included (${figures.duplicateCopies} duplicate copies, ${figures.headerReplays} replayed under fresh unsigned headers, ${figures.forged} forged, ${figures.delayedDeliveries} delayed); by queue: ${counts(figures.byPriority)}`,
    `spread over phases: ${counts(figures.spreads)}; ${figures.burstPayments} payments sent in a burst`,
    `before the money: ${figures.pending} pending, ${figures.authorisations} authorisations, ${figures.failedAttempts} failed attempts; ${figures.unpaid} never paid`,
    `money in: ${figures.moneyInTwice} told by two event types, ${figures.deposits} OXA Pay deposits (${figures.multiDepositPayments} payments with several)`,
    `refunds: ${figures.refunds} (${counts(figures.refundsByOutcome)}); payments by refund count: ${counts(figures.paymentsByRefundCount)}; ${figures.fullyRefundedPayments} refunded in full; ${figures.floorOnlyRefunds} told only by a running total; ${figures.failedRefundsInTotals} failed or reversed after a running total counted them`,
    `refunds told by: ${counts(figures.refundsByEventCount)}`,
    `refund event types: ${counts(figures.refundEventTypes)}`,
    `disputes: ${figures.disputes} (${counts(figures.disputesByOutcome)}); ${figures.chargebacksAfterRefunds} chargebacks after refunds; ${figures.refundsBeforePayment} payments sent refunds-first (a phase before their money)`,
    `other events (history only): ${figures.noise}`,
    `expected statuses: ${counts(figures.expectedStatuses)}`,
    `refunded total by payhook's rules unlike the gateway's own: ${figures.refundedUnlikeGateway} payments${figures.refundedUnlikeGatewayExamples.map((example) => `\n  e.g. ${example}`).join('')}`,
    `expected announcements: ${figures.expectedAnnouncements}; order-dependent ones possible: ${figures.possibleExceptions}`,
    ...attackLines(figures),
  ];
}

/** The attacks of issue #14 in the plan. */
export function attackLines(figures: PlanFigures): string[] {
  const conflicts = Object.values(figures.registrationConflicts).reduce((sum, n) => sum + n, 0);
  return [
    `attack, replays: ${figures.headerReplays} captured signed Razorpay bodies replayed under fresh unsigned x-razorpay-event-id headers (the other gateways carry no unsigned header naming an event)`,
    `attack, unverified claims (Flutterwave verif-hash, no body signature; ${figures.claimWebhooks} webhooks with copies): ${figures.claimsOfMoney} of money with a wrong amount (${figures.claimsBeforeWebhooks} a phase before the payment's webhooks, ${figures.claimsAfterWebhooks} after them; ${figures.claimsBesideSignature} beside the no-longer-matching flutterwave-signature of the body they were tampered from), ${figures.claimsOfFailure} of failure (${figures.claimsOfFailureCaptured} the exact body of a genuine failed attempt); ${figures.claimsSettled} settled by the gateway's verified answer, ${figures.claimsLeftOpen} left open (${figures.claimsKeepingAuthorized} on a payment without money, which reads authorized while the gateway says pending)`,
    `attack, payer-chosen references naming another payment's id: ${counts(figures.payerReferences)} (Stripe: Checkout Sessions without a PaymentIntent, client_reference_id = another payment's pi_; Razorpay: payments without an order, notes = another payment's order_)`,
    `attack, registrations: ${figures.registered} payments registered (${figures.registeredBefore} before any webhook), ${figures.registrationRequests} requests: ${figures.registrationsAgain} again with the same values, ${conflicts} with another ${counts(figures.registrationConflicts)}; ${figures.registeredOnly} registered-only payments naming another payment's reference as their gateway id`,
  ];
}

/** One destination's lines: what it wanted, what arrived, what was injected, what the on-call engineer did. */
export function destinationLines(result: DestinationResult): string[] {
  const { check, settings } = result;
  const { injected, stop } = check;
  const breaker = settings.circuitBreaker as
    | { consecutiveFailures?: number; openSeconds?: number }
    | undefined;
  const capped = Object.entries(result.holdsCapped)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([asked, n]) => `${n} of ${asked} s`);
  const stopText = stop
    ? `${stop.stoppedSeen ? 'seen STOPPED by `payhook deliveries status`' : 'NEVER seen stopped'}, ${
        stop.resumed && stop.resumedAtMs !== undefined
          ? `resumed by \`payhook deliveries resume\` ${((stop.resumedAtMs - stop.goneAtMs) / 1000).toFixed(1)} s after the 410 with ${stop.heldAtResume ?? '?'} event(s) on its queue`
          : `NOT resumed${stop.error ? ` (${stop.error})` : ''}`
      }; ${check.requestsWhileStopped} request(s) while stopped`
    : 'no 410';
  const rows: [string, string | number][] = [
    [
      check.format === 'original'
        ? 'distinct webhooks accepted / wanted (applied) / not wanted (claims, poison)'
        : 'payment events published / wanted (filter) / not wanted',
      `${check.published} / ${check.wanted} / ${check.unwantedPublished}`,
    ],
    [
      'delivered (2xx) at least once / wanted; more than once',
      `${check.delivered} / ${check.wanted}; ${check.deliveredMoreThanOnce}`,
    ],
    ['never delivered', check.missing],
    ['requests received / answered 2xx', `${check.requests} / ${check.accepted}`],
    [
      'injected: 5xx / timeouts / 429 / resets / 410',
      `${injected.error} / ${injected.timeout} / ${injected.throttle} / ${injected.reset} / ${injected.gone} (${check.outageFailures} of them in the breaker outage)`,
    ],
    [
      'retries after a 429 with Retry-After >= 10 s timed / too soon',
      `${check.retryAfterChecked} / ${check.retryAfterEarly}`,
    ],
    [
      'circuit breaker opened (longest run of opens; now)',
      `${check.breakerOpens} (${result.breakerMaxOpens}; ${result.breakerFinal})`,
    ],
    ['stop', stopText],
    [
      'signature failures / not published / unwanted delivered / body mismatches',
      `${check.signatureFailures} / ${check.unexpected} / ${check.unwantedDelivered} / ${check.bodyMismatches}`,
    ],
    [
      're-published ids (same id, new envelope) / arrived with differing bytes',
      `${check.republished} / ${check.republishedDiffering}`,
    ],
    ['dead-lettered / left on its queue', `${check.deadLetters} / ${check.queueLeft}`],
    ['waited after the pipeline drained', `${result.drainSeconds.toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `destination "${check.destination}" (${check.format}; timeout ${String(settings.timeoutSeconds)} s, breaker after ${breaker?.consecutiveFailures ?? '?'} failures for ${breaker?.openSeconds ?? '?'} s; held copies' delays over ${HOLD_CAP_FROM_SECONDS} s capped at ${HOLD_CAP_SECONDS} s: ${capped.join(', ') || 'none'})`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ];
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
    [
      'unverified claims accepted (200) / recorded as claims / sent',
      `${delivery.claimsAccepted} / ${check.claimsRecorded} / ${check.claimsSent}`,
    ],
    [
      "claims settled by the gateway's verified answer / modelled",
      `${check.verifiedAnswers} / ${check.verifiedAnswersExpected} (reconciler runs after each phase: ${result.reconcilerRuns.join(', ')})`,
    ],
    [
      'registrations answered 201 / 200 / 409 naming the field',
      `${delivery.registrationsCreated} / ${delivery.registrationsKnown} / ${delivery.registrationConflictsRefused} (${delivery.registrationRequests} requests)`,
    ],
    [
      'first expectation kept / registered payments',
      `${check.expectationsKept} / ${check.expectationsExpected}`,
    ],
    [
      'records equal to the model (status, totals, facts)',
      `${check.recordsMatched} / ${check.paymentsChecked}`,
    ],
    ['fact announcements published / modelled', `${check.applied} / ${check.expectedTransitions}`],
    [
      'order-dependent announcements (documented exceptions)',
      `${check.exceptions}${check.exceptions > 0 ? ` (${counts(check.exceptionsByType)})` : ''}`,
    ],
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
    ...figureLines(result.figures),
    `faults injected: ${faults.outages} ingest outages (${faults.sqsOutageRefusals} SendMessage refused), ${faults.sqsLostResponses} SendMessage responses lost, ${faults.dynamoFailures} DynamoDB writes throttled, ${faults.dynamoLostResponses} DynamoDB write responses lost, ${faults.publishFailures} EventBridge publishes failed, ${faults.consumerCrashes} consumer crashes mid-batch`,
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ];
  for (const event of check.republishedEvents.slice(0, 5)) lines.push(`  re-published: ${event}`);
  for (const destination of result.destinations) lines.push('', ...destinationLines(destination));
  const problems = [
    ...delivery.unexpected,
    ...check.problems,
    ...result.destinations.flatMap((destination) => destination.check.problems),
  ];
  if (problems.length > 0) {
    lines.push('', `${problems.length} problem(s):`);
    for (const problem of problems.slice(0, maxProblems)) lines.push(`  - ${problem}`);
    if (problems.length > maxProblems) lines.push(`  ... and ${problems.length - maxProblems} more`);
  }
  const delivered = result.destinations.length > 0 ? ', every payment event delivered' : '';
  lines.push('', passed(result) ? `PASS: nothing lost, nothing doubled${delivered}` : 'FAIL');
  return lines.join('\n');
}

/** The soak's section of BENCHMARKS.md: what ran, the table, and how to run it again. */
export function soakMarkdown(result: SoakResult, machine: string): string {
  return [
    '# Soak: fault injection',
    '',
    '`npm run soak` (`npx tsx soak/run.ts [--webhooks N] [--seed S] [--faults none|ci|full] [--concurrency C]',
    '[--destination on|off] [--verbose] [--dry]`) plays the gateways (Paystack, Stripe, Flutterwave, Razorpay, OXA Pay): it sends N seeded,',
    'signed webhooks (default 10,000) about whole payment lifecycles: pending, authorisations and failed attempts, money',
    'in (told by one or two event types; several OXA Pay deposits), zero to three partial refunds each told by one to',
    'three event types (Stripe refund.created/refund.updated and charge.refunded with its running total, Razorpay',
    'refund.created/processed, Paystack refund.pending/processing/processed), failed and reversed refunds, disputes',
    'opened then won or lost, chargebacks after refunds, refunds sent before their payment. Most payments send all',
    'their events at once in random order, with sequential and concurrent duplicates, random delays and bursts; others',
    'are staged over two phases. Poison messages (a reused event id with another amount) and forged copies go too, and',
    'it resends on every 5xx as a gateway would. The attacks of issue #14 go too, each at a small rate: captured',
    'signed Razorpay bodies replayed under fresh unsigned event-id headers; unverified Flutterwave claims (the leaked',
    'verif-hash alone, or beside the signature of the body they were tampered from) of money with a wrong amount, a',
    "phase before or after the payment's webhooks, and of failure; Stripe Checkout Sessions and Razorpay order-less",
    "payments whose payer-chosen reference is another payment's id; registrations before and during the webhooks,",
    "repeated (200) and conflicting (409 naming the field), and registrations naming another payment's reference as",
    'their gateway id. After each phase the reconciler runs against the local gateway sandbox, set to what each gateway',
    'knows. Meanwhile faults are injected: ingest queue outages and lost SendMessage responses, DynamoDB throttling and',
    'lost write responses (payments and idempotency tables) through a proxy in front of the emulators; EventBridge',
    "publish failures and consumer crashes mid-batch through the stack's hooks. It then checks the stack against the",
    "generator's own model, computed from the set of events sent (never their order): each payment's status, money in,",
    'refunded total, facts (money in, refunds, disputes, attempts: ids, states, amounts, event ids; claims as markers)',
    "and first registered expectation; every valid event and claim once in its history, the gateway's verified answer",
    'exactly where a claim awaited it; every fact announcement',
    'published, none outside the model but the two documented order-dependent ones (an attempt seen before the money,',
    'a running refunded total seen before the refunds it counts), which are counted apart; every poison message in a',
    'DLQ with its reason, nothing else anywhere. It exits non-zero if anything is lost, doubled or different, and',
    'rewrites this section unless `--dry`. CI runs 500 webhooks with the `ci` profile (no lost DynamoDB responses:',
    'their recovery waits for the in-progress expiry). An announcement published again with its own id (a consumer',
    'published, then could not record completion, and its retry published again) is counted apart as re-published:',
    'publishing is at least once by design, and downstream dedupes on the id.',
    '',
    "Unless `--destination off`, the stack also delivers its payment events to a destination of the soak's own (2 s",
    'timeout, a breaker that opens after 4 failures for 10 s, one detail-type filtered out): a receiver that verifies',
    'every Standard Webhooks signature with the official library and records each webhook-id and body, while a seeded',
    'schedule injects 5xx, timeouts, 429s with Retry-After (delta-seconds and HTTP-date), connection resets, an outage',
    'that opens the circuit breaker, and one 410 Gone, after which the soak plays the on-call engineer: `payhook',
    'deliveries status` shows the destination stopped, and `payhook deliveries resume` resumes it. No event fails more',
    'than twice, so the back-offs (30 s doubling, or a longer Retry-After) bound the wait. After the pipeline drained,',
    "it waits for the destination's queue to empty and checks: every published event the destination wants delivered",
    '(2xx) at least once, its body the published event (byte-identical on every delivery of an event published once),',
    'nothing unwanted or never published, no signature failure, no request while stopped, no retry sooner than its',
    "Retry-After, an empty dead-letter queue, and every kind of failure actually injected. The stop's 15-minute recheck",
    `and the probe's 60 s hold are capped at ${HOLD_CAP_SECONDS} s (the delays of the delivery function's held copies, through the`,
    "stack's client hook), as the local stack has no option for them.",
    '',
    `Latest run: ${new Date().toISOString().slice(0, 10)}, ${machine}.`,
    '',
    '```',
    formatReport(result),
    '```',
  ].join('\n');
}
