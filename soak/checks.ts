import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../lambdas/definitions.js';
import { readPublishedEvents } from '../lambdas/publishing/file-publisher.js';
import type { PaymentView, QueuesView } from '../local/contract.js';
import type { Plan } from './generator.js';

/** What the stack says, compared with the model. Every list names what went wrong, for the report. */
export interface CheckResult {
  /** Expected transitions whose domain event was published (once or more). */
  readonly applied: number;
  readonly expectedTransitions: number;
  /** Expected domain events never published, and valid events missing from their payment's history. */
  readonly lost: number;
  /** Extra copies of a domain-event id, and domain events or transitions the model does not have. */
  readonly doubled: number;
  /**
   * Extra copies of an expected domain event, with its own id: publishing is at least once (a consumer that published
   * and then could not record completion publishes again on retry, with the same id, which downstream dedupes).
   * Counted and named, not a failure; a second id for one transition is.
   */
  readonly republished: number;
  readonly republishedEvents: readonly string[];
  readonly deadLettered: number;
  /** Extra copies of a poison message in its DLQ (it was queued twice); not a problem. */
  readonly duplicateDeadLetters: number;
  readonly expectedDeadLetters: number;
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
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 300,
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const attributes = message.MessageAttributes ?? {};
          found.push({
            priority,
            eventId: attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue ?? '?',
            errorClass: attributes[MESSAGE_ATTRIBUTES.errorClass]?.StringValue ?? '?',
          });
        }
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

export async function check(inputs: CheckInputs): Promise<CheckResult> {
  const { url, plan } = inputs;
  const problems: string[] = [];
  let lost = 0;
  let doubled = 0;
  let republished = 0;
  const republishedEvents: string[] = [];

  // Domain events: the file the local publisher appends to (`/local/events` serves at most its last 1,000).
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
  let applied = 0;
  let expectedTransitions = 0;
  for (const { payment, model } of plan.payments) {
    for (const transition of model.transitions) {
      expectedTransitions += 1;
      expectedIds.add(transition.domainEventId);
      const copies = publishedById.get(transition.domainEventId) ?? 0;
      if (copies === 0) {
        lost += 1;
        problems.push(
          `lost: ${payment.gateway} ${payment.key} ${transition.from ?? 'new'} -> ${transition.to} (${transition.sourceEventId}) never announced`,
        );
      } else {
        applied += 1;
        if (copies > 1) {
          republished += copies - 1;
          republishedEvents.push(
            `${payment.gateway} ${payment.key} -> ${transition.to} (${transition.sourceEventId}): ${copies} copies of ${transition.domainEventId}`,
          );
        }
      }
    }
  }
  for (const [id, copies] of publishedById) {
    if (!expectedIds.has(id)) {
      doubled += copies;
      problems.push(`doubled: domain event ${id} is not in the model (${copies} published)`);
    }
  }

  // Each payment: status, and its history (one item per valid event; transitions exactly as modelled).
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
      if (view.status !== model.status) {
        problems.push(
          `status: ${payment.gateway} ${payment.key} (${planned.lifecycle}) is ${view.status}, model says ${model.status}`,
        );
      }
      const historyIds = view.history.map((item) => item.eventId);
      for (const id of model.historyEventIds) {
        if (!historyIds.includes(id)) {
          lost += 1;
          problems.push(`lost: ${payment.gateway} ${payment.key}: event ${id} not in the history`);
        }
      }
      const transitions = view.history.filter((item) => item.transition !== null).length;
      if (transitions > model.transitions.length) {
        doubled += transitions - model.transitions.length;
        problems.push(
          `doubled: ${payment.gateway} ${payment.key} has ${transitions} transitions, model ${model.transitions.length}`,
        );
      }
      if (historyIds.length !== new Set(historyIds).size) {
        doubled += historyIds.length - new Set(historyIds).size;
        problems.push(`doubled: ${payment.gateway} ${payment.key}: an event appears twice in the history`);
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
    expectedTransitions,
    lost,
    doubled,
    republished,
    republishedEvents,
    deadLettered: deadLetters.length,
    duplicateDeadLetters,
    expectedDeadLetters: plan.poison.length,
    problems,
  };
}
