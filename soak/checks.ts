import { SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../lambdas/definitions.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import type { FactView, PaymentView, QueuesView } from '../local/contract.js';
import type { Plan, PlannedPayment } from './generator.js';
import { type ModelFact, VERIFIED_ANSWER_ID } from './model.js';
import { receiveEveryMessage } from './sqs.js';

const SYNTHETIC_PREFIX = 'payhook:';
const CLAIM_PREFIX = 'payhook:claim:';

/**
 * An event id payhook made up for the gateway's verified answer (the reconciler's): in its synthetic namespace, and not
 * an unverified claim's.
 */
export function isVerifiedAnswerId(eventId: string): boolean {
  return eventId.startsWith(SYNTHETIC_PREFIX) && !eventId.startsWith(CLAIM_PREFIX);
}

/** What the stack says, compared with the model. Every list names what went wrong, for the report. */
export interface CheckResult {
  /** Expected fact announcements (payment events) published, once or more. */
  readonly applied: number;
  /** Fact announcements the model expects, whatever the order (the name predates the record of facts). */
  readonly expectedTransitions: number;
  /** Expected announcements never published, valid events missing from their history, payments not found. */
  readonly lost: number;
  /**
   * Announcements outside the model (and its possible exceptions), a fact announced by two events, an event twice
   * in a history.
   */
  readonly doubled: number;
  /**
   * Extra copies of an announcement, with its own id: publishing is at least once (a consumer that published and
   * then could not record completion publishes again on retry, with the same id, which downstream dedupes).
   * Counted and named, not a failure; a second id for one fact is.
   */
  readonly republished: number;
  readonly republishedEvents: readonly string[];
  /**
   * The documented order-dependent announcements that were published (an attempt seen before the money, a running
   * refunded total seen before the refunds it counts), by fact type; each matched an id the model allowed for.
   */
  readonly exceptions: number;
  readonly exceptionsByType: Readonly<Record<string, number>>;
  /** Payments whose record (status, totals, facts with their states, amounts and event ids) equals the model's. */
  readonly recordsMatched: number;
  readonly paymentsChecked: number;
  readonly deadLettered: number;
  /** Extra copies of a poison message in its DLQ (it was queued twice); not a problem. */
  readonly duplicateDeadLetters: number;
  readonly expectedDeadLetters: number;
  /** Unverified claims found in their payments' histories (each under its own claim id), of those sent. */
  readonly claimsRecorded: number;
  readonly claimsSent: number;
  /** Payments where the gateway's verified answer settled a claim, as modelled (one answer, on the modelled fact). */
  readonly verifiedAnswers: number;
  readonly verifiedAnswersExpected: number;
  /** Registered payments whose record keeps the first expectation, of those registered. */
  readonly expectationsKept: number;
  readonly expectationsExpected: number;
  readonly problems: readonly string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson<T>(url: string): Promise<{ status: number; body?: T }> {
  const response = await fetch(url);
  return response.ok ? { status: 200, body: (await response.json()) as T } : { status: response.status };
}

/** Polls `/local/queues` until every main queue is empty (nothing visible, in flight or delayed) twice running. */
export async function drain(
  url: string,
  timeoutMs: number,
  progress: (line: string) => void = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let emptyInARow = 0;
  let nextReport = Date.now() + 15_000;
  for (;;) {
    const { body } = await getJson<QueuesView>(`${url}/local/queues`);
    const left = (body?.queues ?? []).reduce(
      (sum, queue) => sum + queue.queue.visible + queue.queue.inFlight + queue.queue.delayed,
      0,
    );
    emptyInARow = body && left === 0 ? emptyInARow + 1 : 0;
    if (emptyInARow >= 2) return;
    if (Date.now() > deadline) throw new Error(`queues not drained after ${timeoutMs} ms (${left} left)`);
    if (Date.now() >= nextReport) {
      progress(`  ${left} message(s) still queued or in flight`);
      nextReport += 15_000;
    }
    await sleep(250);
  }
}

interface DeadLetter {
  readonly priority: string;
  readonly eventId: string;
  readonly errorClass: string;
}

/** Reads every DLQ message straight from the emulator (the `/local/queues` counts say how many, not which). */
async function readDeadLetters(
  sqsEndpoint: string,
  deadLetterQueues: Readonly<Record<string, string>>,
): Promise<DeadLetter[]> {
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' },
  });
  const found: DeadLetter[] = [];
  try {
    for (const [priority, queueUrl] of Object.entries(deadLetterQueues)) {
      for (const message of await receiveEveryMessage(sqs, queueUrl)) {
        const attributes = message.MessageAttributes ?? {};
        found.push({
          priority,
          eventId: attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue ?? '?',
          errorClass: attributes[MESSAGE_ATTRIBUTES.errorClass]?.StringValue ?? '?',
        });
      }
    }
  } finally {
    sqs.destroy();
  }
  return found;
}

export interface CheckInputs {
  readonly url: string;
  readonly plan: Plan;
  readonly eventsFile: string;
  readonly sqsEndpoint: string;
  readonly deadLetterQueues: Readonly<Record<string, string>>;
}

/**
 * A fact as the view prints it, in the model's terms: the verified answer's event id (payhook's own) as the model's
 * stand-in for it.
 */
function factOf(view: FactView): ModelFact {
  return {
    id: view.id,
    amountMinor: view.amount?.amountMinor ?? null,
    state: view.state,
    eventIds: view.eventIds.map((id) => (isVerifiedAnswerId(id) ? VERIFIED_ANSWER_ID : id)),
  };
}

function factText(fact: ModelFact): string {
  return `${fact.id} ${fact.state} ${fact.amountMinor ?? 'no amount'} [${fact.eventIds.join(' ')}]`;
}

/**
 * How a payment's record differs from the model: status, money in, refunded total, the running total, and every
 * fact (id, state, amount, the event ids that told it). Empty when they agree.
 */
export function compareRecord(planned: PlannedPayment, view: PaymentView): string[] {
  const { payment, model } = planned;
  const where = `${payment.gateway} ${payment.key} (${planned.lifecycle}, ${planned.spread})`;
  const problems: string[] = [];
  const same = (what: string, actual: string | null, expected: string | null) => {
    if (actual !== expected)
      problems.push(`${what}: ${where} is ${actual ?? 'none'}, model says ${expected ?? 'none'}`);
  };
  same('status', view.status, model.status);
  // Every lifecycle has an event naming the merchant's reference (Stripe: the PaymentIntent's or charge's metadata).
  same('reference', view.reference, payment.reference);
  same('paid', view.money?.amountMinor ?? null, model.paidMinor);
  same('refunded', view.refunded?.amountMinor ?? null, model.refundedMinor);
  same('running refunded total', view.refundedFloor?.amountMinor ?? null, model.floorMinor);
  // The first registration's expectation, whatever was registered after it (and none where nothing was registered).
  same(
    'expectation',
    view.expected ? `${view.expected.amountMinor} ${view.expected.currency}` : null,
    model.expected ? `${model.expected.amountMinor} ${model.expected.currency}` : null,
  );
  const lists = [
    ['money in', view.moneyIn, model.moneyIn],
    ['refunds', view.refunds, model.refunds],
    ['disputes', view.disputes, model.disputes],
    ['attempts', view.attempts, model.attempts],
  ] as const;
  for (const [what, actual, expected] of lists) {
    const actualText = actual.map((fact) => factText(factOf(fact))).join('; ');
    const expectedText = expected.map(factText).join('; ');
    if (actualText !== expectedText) {
      problems.push(`${what}: ${where} has {${actualText}}, model says {${expectedText}}`);
    }
  }
  return problems;
}

/** What one payment's history says it announced: fact keys, each with the events that announced it. */
export function announcedInHistory(view: PaymentView): Map<string, string[]> {
  const announced = new Map<string, string[]>();
  for (const item of view.history) {
    for (const fact of item.announced) {
      const key = `${fact.type}/${fact.id}/${fact.state}`;
      announced.set(key, [...(announced.get(key) ?? []), item.eventId]);
    }
  }
  return announced;
}

/**
 * Facts a payment's history says were announced by two different events: each fact is announced once ever (the
 * record keeps what it announced), when it first appears.
 */
export function announcedTwice(view: PaymentView): string[] {
  return [...announcedInHistory(view)]
    .filter(([, events]) => events.length > 1)
    .map(([key, events]) => `${key} by ${events.join(', ')}`);
}

export async function check(inputs: CheckInputs): Promise<CheckResult> {
  const { url, plan } = inputs;
  const problems: string[] = [];
  let lost = 0;
  let doubled = 0;
  let republished = 0;
  const republishedEvents: string[] = [];

  // Payment events: the file the local publisher appends to (`/local/events` serves at most its last 1,000).
  const published = await readPublishedEvents(inputs.eventsFile);
  const tail = await getJson<{ events: unknown[] }>(`${url}/local/events?limit=1000`);
  if ((tail.body?.events.length ?? -1) !== Math.min(1000, published.length)) {
    problems.push(
      `/local/events shows ${tail.body?.events.length} events, the events file ${published.length}`,
    );
  }
  const publishedById = new Map<string, number>();
  for (const record of published) {
    const id = String((record.detail as { id?: unknown }).id);
    publishedById.set(id, (publishedById.get(id) ?? 0) + 1);
  }
  const expectedIds = new Set<string>();
  const exceptionIds = new Map<string, string>();
  let applied = 0;
  let expected = 0;
  for (const { payment, model } of plan.payments) {
    for (const announcement of model.possibleExceptions)
      exceptionIds.set(announcement.id, announcement.fact.type);
    for (const announcement of model.announcements) {
      expected += 1;
      expectedIds.add(announcement.id);
      const { type, id, state } = announcement.fact;
      const copies = publishedById.get(announcement.id) ?? 0;
      if (copies === 0) {
        lost += 1;
        problems.push(`lost: ${payment.gateway} ${payment.key} ${type} ${id} ${state} never announced`);
      } else {
        applied += 1;
        if (copies > 1) {
          republished += copies - 1;
          republishedEvents.push(
            `${payment.gateway} ${payment.key} ${type} ${id} ${state}: ${copies} copies of ${announcement.id}`,
          );
        }
      }
    }
  }
  let exceptions = 0;
  const exceptionsByType: Record<string, number> = {};
  for (const [id, copies] of publishedById) {
    if (expectedIds.has(id)) continue;
    const type = exceptionIds.get(id);
    if (type !== undefined) {
      exceptions += 1;
      exceptionsByType[type] = (exceptionsByType[type] ?? 0) + 1;
      if (copies > 1) {
        republished += copies - 1;
        republishedEvents.push(`order-dependent ${type} announcement: ${copies} copies of ${id}`);
      }
      continue;
    }
    doubled += copies;
    problems.push(`doubled: payment event ${id} is not in the model (${copies} published)`);
  }

  // Each payment: its record equals the model's, its history has every valid event once (claims under their own ids),
  // the gateway's verified answer exactly where modelled, no fact announced twice.
  let recordsMatched = 0;
  let claimsRecorded = 0;
  let verifiedAnswers = 0;
  let expectationsKept = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const planned = plan.payments[next];
      next += 1;
      if (planned === undefined) return;
      const { payment, model } = planned;
      const found = await getJson<PaymentView>(
        `${url}/local/payments/${payment.gateway}/${encodeURIComponent(payment.key)}`,
      );
      const view = found.body;
      if (!view) {
        lost += model.historyEventIds.size;
        problems.push(`lost: ${payment.gateway} ${payment.key}: no payment (${found.status})`);
        continue;
      }
      const differences = compareRecord(planned, view);
      if (differences.length === 0) recordsMatched += 1;
      problems.push(...differences);
      if (
        model.expected &&
        view.expected?.amountMinor === model.expected.amountMinor &&
        view.expected.currency === model.expected.currency
      ) {
        expectationsKept += 1;
      }
      const historyIds = view.history.map((item) => item.eventId);
      for (const id of model.historyEventIds) {
        if (!historyIds.includes(id)) {
          lost += 1;
          problems.push(`lost: ${payment.gateway} ${payment.key}: event ${id} not in the history`);
        }
      }
      const claimIds = new Set(planned.claims.map((claim) => claim.sourceEventId));
      claimsRecorded += [...claimIds].filter((id) => historyIds.includes(id)).length;
      const answers = new Set(historyIds.filter(isVerifiedAnswerId));
      if (model.verifiedAnswer && answers.size === 0) {
        lost += 1;
        problems.push(
          `lost: ${payment.gateway} ${payment.key}: the gateway's verified answer to a claim was never applied`,
        );
      } else if (answers.size > (model.verifiedAnswer ? 1 : 0)) {
        doubled += answers.size - (model.verifiedAnswer ? 1 : 0);
        problems.push(
          `doubled: ${payment.gateway} ${payment.key}: ${answers.size} verified answers in the history (${[...answers].join(', ')}), model says ${model.verifiedAnswer ? 1 : 0}`,
        );
      } else if (model.verifiedAnswer && differences.length === 0) {
        verifiedAnswers += 1;
      }
      for (const id of new Set(historyIds)) {
        if (!model.historyEventIds.has(id) && !isVerifiedAnswerId(id)) {
          doubled += 1;
          problems.push(
            `doubled: ${payment.gateway} ${payment.key}: event ${id} in the history was never sent`,
          );
        }
      }
      if (historyIds.length !== new Set(historyIds).size) {
        doubled += historyIds.length - new Set(historyIds).size;
        problems.push(`doubled: ${payment.gateway} ${payment.key}: an event appears twice in the history`);
      }
      for (const twice of announcedTwice(view)) {
        doubled += 1;
        problems.push(`doubled: ${payment.gateway} ${payment.key}: ${twice}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));

  // Dead letters: exactly the poison messages, each on its own priority's DLQ as payload_mismatch.
  const deadLetters = await readDeadLetters(inputs.sqsEndpoint, inputs.deadLetterQueues);
  const unmatched = [...deadLetters];
  for (const { delivery, priority } of plan.poison) {
    const at = unmatched.findIndex(
      (letter) => letter.eventId === delivery.event.sourceEventId && letter.priority === priority,
    );
    if (at < 0) {
      problems.push(`poison not dead-lettered: ${delivery.event.sourceEventId} (expected on ${priority})`);
      continue;
    }
    const [letter] = unmatched.splice(at, 1);
    if (letter?.errorClass !== 'payload_mismatch') {
      problems.push(`poison ${delivery.event.sourceEventId} dead-lettered as ${letter?.errorClass}`);
    }
  }
  // A poison message queued twice (ingest's SDK retried a SendMessage whose answer was lost) is dead-lettered twice:
  // the same event id, reason and queue as its matched copy. Anything else is unexpected.
  const poisonLetters = new Set(
    plan.poison.map(
      ({ delivery, priority }) => `${priority}:${delivery.event.sourceEventId}:payload_mismatch`,
    ),
  );
  let duplicateDeadLetters = 0;
  for (const letter of unmatched) {
    if (poisonLetters.has(`${letter.priority}:${letter.eventId}:${letter.errorClass}`)) {
      duplicateDeadLetters += 1;
      continue;
    }
    problems.push(`unexpected dead letter on ${letter.priority}: ${letter.eventId} (${letter.errorClass})`);
  }

  return {
    applied,
    expectedTransitions: expected,
    lost,
    doubled,
    republished,
    republishedEvents,
    exceptions,
    exceptionsByType,
    recordsMatched,
    paymentsChecked: plan.payments.length,
    deadLettered: deadLetters.length,
    duplicateDeadLetters,
    expectedDeadLetters: plan.poison.length,
    claimsRecorded,
    claimsSent: plan.payments.reduce(
      (sum, planned) => sum + new Set(planned.claims.map((claim) => claim.sourceEventId)).size,
      0,
    ),
    verifiedAnswers,
    verifiedAnswersExpected: plan.payments.filter((planned) => planned.model.verifiedAnswer).length,
    expectationsKept,
    expectationsExpected: plan.payments.filter((planned) => planned.model.expected !== null).length,
    problems,
  };
}
