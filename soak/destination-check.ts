import { isGatewayName } from '../lambdas/domain/webhook-event.js';
import { ORIGINAL_HEADERS } from '../lambdas/messages/original-webhook.js';
import type { InjectedKind } from './delivery-faults.js';
import { bodyDigest, type ReceivedAttempt } from './receiver.js';
import type { AcceptedWebhook } from './sender.js';

/**
 * What the soak's receiver saw at one destination, compared with what the stack published: every event the
 * destination wants delivered (answered 2xx) at least once, with a valid signature and the body it must have; nothing
 * it does not want, nothing never published; its dead-letter queue empty and its queue drained; and the failures the
 * schedule was to inject actually injected (else the run proved nothing). Pure: the soak gathers the inputs.
 *
 * Format-agnostic: each format turns what was published (or sent) into {@link ExpectedDelivery}s that judge a body.
 */

/** One delivery the destination must (or, unwanted, must not) receive, keyed by the id it carries. */
export interface ExpectedDelivery {
  readonly id: string;
  /**
   * Times it was queued for the destination: a re-published payment event carries the same id in a new envelope. Its
   * bytes must be the same on every delivery when it was queued once.
   */
  readonly copies: number;
  /** Whether the destination's filter wants it. */
  readonly wanted: boolean;
  /** What it is, for the problems (`payment.succeeded stripe ORDER-1`). */
  readonly label: string;
  /** Why a received body is not this delivery's, or `undefined` when it is. */
  mismatch(attempt: ReceivedAttempt): string | undefined;
}

/** A dead letter found on the destination's DLQ. */
export interface DeadLetterSeen {
  readonly id?: string;
  readonly errorClass: string;
  readonly reason?: string;
}

/** What the on-call engineer did about the 410. */
export interface StopRecord {
  /** When the endpoint answered 410 (epoch ms). */
  readonly goneAtMs: number;
  /** `payhook deliveries status` showed the destination stopped. */
  readonly stoppedSeen: boolean;
  /** Events held on its queue (delayed) when it was resumed, as `status` showed them. */
  readonly heldAtResume?: number;
  /** `payhook deliveries resume` said it resumed a stopped destination. */
  readonly resumed: boolean;
  readonly resumedAtMs?: number;
  readonly error?: string;
}

export interface DestinationCheckInputs {
  readonly destination: string;
  readonly format: string;
  readonly expected: readonly ExpectedDelivery[];
  readonly attempts: readonly ReceivedAttempt[];
  readonly deadLetters: readonly DeadLetterSeen[];
  /** Messages still on the destination's queue when the soak stopped waiting. */
  readonly queueLeft: number;
  /** Kinds the schedule must have injected at least once. */
  readonly requiredKinds: readonly InjectedKind[];
  readonly stop?: StopRecord;
  /** After the 410, requests a batch already under way may still send; later ones must wait for the resume. */
  readonly stopGraceMs: number;
  /** Times the destination's circuit breaker was seen open; and whether it must have opened. */
  readonly breakerOpens: number;
  readonly breakerRequired: boolean;
  /** A retry after a 429 with `Retry-After` of at least this many seconds must come no sooner (less the tolerance). */
  readonly retryAfterCheckedFromSeconds: number;
  readonly retryAfterToleranceMs: number;
  /** At least one such 429 must have been checked. */
  readonly retryAfterRequired: boolean;
}

export interface DestinationCheck {
  readonly destination: string;
  readonly format: string;
  /** Distinct ids published (queued for the destination or not), and how many of them it wants. */
  readonly published: number;
  readonly wanted: number;
  readonly unwantedPublished: number;
  /** Ids published more than once (a re-publish), and of those, how many arrived with differing bytes. */
  readonly republished: number;
  readonly republishedDiffering: number;
  /** Wanted ids answered 2xx at least once; and more than once (at least once: receivers dedupe on the id). */
  readonly delivered: number;
  readonly deliveredMoreThanOnce: number;
  readonly missing: number;
  readonly requests: number;
  readonly accepted: number;
  /** Requests answered with an injected failure, by kind; and those of the breaker outage. */
  readonly injected: Readonly<Record<InjectedKind, number>>;
  readonly outageFailures: number;
  readonly signatureFailures: number;
  readonly unexpected: number;
  readonly unwantedDelivered: number;
  readonly bodyMismatches: number;
  /** 429s whose retry was timed, and retries that came sooner than the `Retry-After` asked. */
  readonly retryAfterChecked: number;
  readonly retryAfterEarly: number;
  readonly stop?: StopRecord;
  /** Requests that arrived while the destination was stopped (after the grace), which must be none. */
  readonly requestsWhileStopped: number;
  readonly breakerOpens: number;
  readonly deadLetters: number;
  readonly queueLeft: number;
  readonly problems: readonly string[];
}

const MAX_LISTED = 20;

/** `problems.push`, at most {@link MAX_LISTED} per kind, then a count of the rest. */
function lister(problems: string[]) {
  const counts = new Map<string, number>();
  return {
    add(kind: string, text: string) {
      const count = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, count);
      if (count <= MAX_LISTED) problems.push(text);
    },
    finish() {
      for (const [kind, count] of counts) {
        if (count > MAX_LISTED) problems.push(`${kind}: ... and ${count - MAX_LISTED} more`);
      }
    },
  };
}

export function checkDestination(inputs: DestinationCheckInputs): DestinationCheck {
  const { destination: name, attempts } = inputs;
  const problems: string[] = [];
  const list = lister(problems);
  const expected = new Map(inputs.expected.map((each) => [each.id, each]));
  const byId = new Map<string, ReceivedAttempt[]>();
  const injected: Record<InjectedKind, number> = { error: 0, timeout: 0, throttle: 0, reset: 0, gone: 0 };
  let outageFailures = 0;
  let accepted = 0;
  let signatureFailures = 0;
  const unexpectedIds = new Set<string>();
  let unwantedDelivered = 0;
  let bodyMismatches = 0;

  for (const attempt of attempts) {
    const { answer } = attempt;
    if (answer.kind === 'accept') accepted += 1;
    else if (answer.kind !== 'refused') {
      injected[answer.kind] += 1;
      if (answer.cause === 'outage') outageFailures += 1;
    }
    if (!attempt.verified) {
      signatureFailures += 1;
      list.add(
        'signature',
        `${name}: request ${attempt.seq} (id ${attempt.id ?? 'none'}) failed verification: ${attempt.verifyError ?? '?'}`,
      );
      continue;
    }
    if (attempt.id === undefined) continue;
    byId.set(attempt.id, [...(byId.get(attempt.id) ?? []), attempt]);
    const delivery = expected.get(attempt.id);
    if (!delivery) {
      if (!unexpectedIds.has(attempt.id)) {
        unexpectedIds.add(attempt.id);
        list.add('unexpected', `${name}: delivered ${attempt.id}, which the stack never published`);
      }
      continue;
    }
    if (!delivery.wanted) {
      unwantedDelivered += 1;
      list.add('unwanted', `${name}: delivered ${delivery.label} (${attempt.id}), which it does not want`);
    }
    const mismatch = delivery.mismatch(attempt);
    if (mismatch !== undefined) {
      bodyMismatches += 1;
      list.add('body', `${name}: request ${attempt.seq} for ${delivery.label}: ${mismatch}`);
    }
  }

  let delivered = 0;
  let deliveredMoreThanOnce = 0;
  let missing = 0;
  let republished = 0;
  let republishedDiffering = 0;
  for (const delivery of inputs.expected) {
    const received = byId.get(delivery.id) ?? [];
    const bodies = new Set(received.map((attempt) => attempt.body));
    if (delivery.copies > 1) {
      republished += 1;
      if (bodies.size > 1) republishedDiffering += 1;
    } else if (bodies.size > 1) {
      bodyMismatches += 1;
      list.add(
        'body',
        `${name}: ${delivery.label} (${delivery.id}) was published once but arrived as ${bodies.size} different bodies`,
      );
    }
    if (!delivery.wanted) continue;
    const acceptedCount = received.filter((attempt) => attempt.answer.kind === 'accept').length;
    if (acceptedCount === 0) {
      missing += 1;
      const tried = received.map((attempt) => attempt.answer.kind).join(', ') || 'never attempted';
      list.add('missing', `${name}: never delivered ${delivery.label} (${delivery.id}): ${tried}`);
    } else {
      delivered += 1;
      if (acceptedCount > 1) deliveredMoreThanOnce += 1;
    }
  }

  // A 429's retry comes no sooner than its Retry-After (the deliverer waits the longer of its back-off and it). Only
  // ids queued once: a re-published copy is a message of its own, on its own schedule.
  let retryAfterChecked = 0;
  let retryAfterEarly = 0;
  for (const [id, received] of byId) {
    if (expected.get(id)?.copies !== 1) continue;
    received.forEach((attempt, index) => {
      const { answer } = attempt;
      if (answer.kind !== 'throttle' || answer.retryAfter.seconds < inputs.retryAfterCheckedFromSeconds)
        return;
      const next = received[index + 1];
      if (!next) return;
      retryAfterChecked += 1;
      const gapMs = next.atMs - attempt.atMs;
      if (gapMs < answer.retryAfter.seconds * 1000 - inputs.retryAfterToleranceMs) {
        retryAfterEarly += 1;
        list.add(
          'retry-after',
          `${name}: ${id} was retried ${(gapMs / 1000).toFixed(1)} s after a 429 asking for Retry-After ${attempt.retryAfter}`,
        );
      }
    });
  }

  let requestsWhileStopped = 0;
  const { stop } = inputs;
  if (inputs.requiredKinds.includes('gone')) {
    if (!stop) problems.push(`${name}: no 410 was answered, so the stop and resume were never exercised`);
    else {
      if (!stop.stoppedSeen)
        problems.push(`${name}: payhook deliveries status never showed the destination stopped`);
      if (!stop.resumed) {
        problems.push(
          `${name}: payhook deliveries resume did not resume it${stop.error ? `: ${stop.error}` : ''}`,
        );
      }
    }
  }
  if (stop) {
    const from = stop.goneAtMs + inputs.stopGraceMs;
    const until = stop.resumedAtMs ?? Number.POSITIVE_INFINITY;
    requestsWhileStopped = attempts.filter((attempt) => attempt.atMs > from && attempt.atMs < until).length;
    if (requestsWhileStopped > 0) {
      problems.push(
        `${name}: ${requestsWhileStopped} request(s) arrived while it was stopped (${inputs.stopGraceMs} ms after the 410 until the resume)`,
      );
    }
  }

  for (const kind of inputs.requiredKinds) {
    if (injected[kind] === 0)
      problems.push(`${name}: no ${kind} was injected, so the run proved nothing about it`);
  }
  if (inputs.breakerRequired && inputs.breakerOpens === 0) {
    problems.push(`${name}: the circuit breaker never opened, so pausing and probing were not exercised`);
  }
  if (inputs.retryAfterRequired && retryAfterChecked === 0) {
    problems.push(
      `${name}: no retry after a 429 with Retry-After >= ${inputs.retryAfterCheckedFromSeconds} s was timed`,
    );
  }
  for (const letter of inputs.deadLetters) {
    list.add(
      'dead letter',
      `${name}: dead-lettered ${letter.id ?? '?'}: ${letter.errorClass}${letter.reason ? ` (${letter.reason})` : ''}`,
    );
  }
  if (inputs.queueLeft > 0) {
    problems.push(`${name}: ${inputs.queueLeft} message(s) still on its queue when the soak stopped waiting`);
  }
  list.finish();

  return {
    destination: name,
    format: inputs.format,
    published: inputs.expected.length,
    wanted: inputs.expected.filter((each) => each.wanted).length,
    unwantedPublished: inputs.expected.filter((each) => !each.wanted).length,
    republished,
    republishedDiffering,
    delivered,
    deliveredMoreThanOnce,
    missing,
    requests: attempts.length,
    accepted,
    injected,
    outageFailures,
    signatureFailures,
    unexpected: unexpectedIds.size,
    unwantedDelivered,
    bodyMismatches,
    retryAfterChecked,
    retryAfterEarly,
    ...(stop && { stop }),
    requestsWhileStopped,
    breakerOpens: inputs.breakerOpens,
    deadLetters: inputs.deadLetters.length,
    queueLeft: inputs.queueLeft,
    problems,
  };
}

/** One line of the events file, as far as the check needs it. */
export interface PublishedPaymentEvent {
  readonly detailType: string;
  readonly detail: { readonly id: string; readonly gateway?: string; readonly reference?: string };
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The `payment-event` expectations: one per payment event id the stack published. A body must be
 * `{"type","timestamp","data"}` in that order, `type` the event's detail-type, `timestamp` RFC 3339 and `data` the
 * published event itself, to the byte (as JSON text). The timestamp is the envelope's time, which a re-publish stamps
 * anew: only ids published once must arrive byte-identical every time.
 */
export function paymentEventExpectations(
  published: readonly PublishedPaymentEvent[],
  wants: (event: PublishedPaymentEvent) => boolean,
): ExpectedDelivery[] {
  const byId = new Map<string, PublishedPaymentEvent[]>();
  for (const event of published) byId.set(event.detail.id, [...(byId.get(event.detail.id) ?? []), event]);
  return [...byId].map(([id, copies]) => {
    const [first] = copies as [PublishedPaymentEvent, ...PublishedPaymentEvent[]];
    const details = new Set(copies.map((copy) => JSON.stringify(copy.detail)));
    const types = new Set(copies.map((copy) => copy.detailType));
    return {
      id,
      copies: copies.length,
      wanted: copies.some(wants),
      label: `${first.detailType} ${first.detail.gateway ?? '?'} ${first.detail.reference ?? first.detail.id}`,
      mismatch(attempt) {
        let body: unknown;
        try {
          body = JSON.parse(attempt.body);
        } catch {
          return 'the body is not JSON';
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          return 'the body is not an object';
        const record = body as Record<string, unknown>;
        const keys = Object.keys(record).join(',');
        if (keys !== 'type,timestamp,data') return `the body's keys are ${keys}, not type,timestamp,data`;
        if (typeof record.type !== 'string' || !types.has(record.type)) {
          return `type ${String(record.type)}, published as ${[...types].join(' or ')}`;
        }
        if (typeof record.timestamp !== 'string' || !RFC_3339.test(record.timestamp)) {
          return `timestamp ${String(record.timestamp)} is not RFC 3339`;
        }
        if (!details.has(JSON.stringify(record.data))) return 'data differs from the published event';
        return undefined;
      },
    };
  });
}

/**
 * What an `original` destination must receive: every webhook the stack accepted and applied, byte for byte, with the
 * headers it was sent with (those of `ORIGINAL_HEADERS` for its gateway); keyed by the digest of its bytes, so the
 * copies and retries of one webhook are one delivery. Unwanted (never to arrive): an unverified claim's body (every
 * claim in the soak is contradicted by the gateway's answer or claims no money, so none is ever confirmed) and a poison
 * webhook's (dead-lettered, never applied). A body sent both signed and as a claim (a captured genuine body) is
 * wanted, and must arrive with a signed copy's headers, never the claim's.
 */
export function originalExpectations(sent: readonly AcceptedWebhook[]): ExpectedDelivery[] {
  const byBody = new Map<string, AcceptedWebhook[]>();
  for (const webhook of sent) {
    const id = bodyDigest(webhook.body);
    byBody.set(id, [...(byBody.get(id) ?? []), webhook]);
  }
  return [...byBody].map(([id, copies]) => {
    const signed = copies.filter((copy) => copy.kind === 'signed');
    const [first] = copies as [AcceptedWebhook, ...AcceptedWebhook[]];
    const gateway = first.gateway;
    const names = isGatewayName(gateway) ? ORIGINAL_HEADERS[gateway] : [];
    const shown = (headers: Readonly<Record<string, string>>) => {
      const lower = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      return JSON.stringify(
        names.filter((name) => lower[name] !== undefined).map((name) => [name, lower[name]]),
      );
    };
    const allowed = new Set(signed.map((copy) => shown(copy.headers)));
    return {
      id,
      copies: 1,
      wanted: signed.length > 0,
      label: `${first.kind} ${gateway} webhook ${id.slice(0, 12)}`,
      mismatch(attempt) {
        if (attempt.body !== first.body) return 'the body differs from the bytes the gateway sent';
        if (!allowed.has(shown(attempt.headers))) {
          return 'its signature headers are not those of any signed copy the stack accepted';
        }
        // Nothing but the original's headers and the transport's: no signature of payhook's.
        if (attempt.headers['webhook-signature'] !== undefined && gateway !== 'standard') {
          return 'it carries a webhook-signature the gateway did not send';
        }
        return undefined;
      },
    };
  });
}
