import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import type { StructuredLog } from '../../lambdas/common/log.js';
import { createDeliverer, type DeliveryTarget } from '../../lambdas/delivery/deliverer.js';
import type { DeliveryLimits } from '../../lambdas/delivery/delivery-policy.js';
import { parseDestinations } from '../../lambdas/delivery/destinations.js';
import { sendDelivery } from '../../lambdas/delivery/http-sender.js';
import { paymentEventBody, readDeliveryEnvelope } from '../../lambdas/delivery/payment-event-body.js';
import { SqsDeliveryQueue } from '../../lambdas/delivery/sqs-delivery-queue.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import { FileSigningSecrets } from '../../lambdas/secrets/destination-secrets.js';
import { DynamoBreakerStates } from '../../lambdas/store/dynamodb-breaker-states.js';
import { DynamoDestinationStates } from '../../lambdas/store/dynamodb-destination-states.js';
import { DynamoRateLimiter } from '../../lambdas/store/dynamodb-rate-limiter.js';
import { createDeliveryQueues, type LocalDestination } from '../../local/deliveries.js';
import { DeliveryFanOut } from '../../local/delivery-fan-out.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { queueCounts } from '../../local/queues.js';
import { pollOnce } from '../../local/sqs-event-source.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { attribute, drain, type SqsEmulator, startSqsEmulator } from '../support/sqs-emulator.js';

// The real delivery function (lambdas/delivery/deliverer.ts) against fauxqs and dynalite, fed by the local stand-in for
// the delivery rules (local/delivery-fan-out.ts) and polled as the event source mapping does (local/sqs-event-source.ts),
// delivering over real HTTP to receivers on 127.0.0.1 that a merchant could have written: each request is checked with
// the official `standardwebhooks` library. Retries are made fast by small back-off limits and an injected clock, never
// by long sleeps.

const key = (text: string) => `whsec_${Buffer.from(text.padEnd(32, '.')).toString('base64')}`;
const CURRENT = key('the destination key, current');
const PREVIOUS = key('the destination key before rotation');
const UNRELATED = key('somebody else entirely');

let sqs: SqsEmulator;
let dynamo: DynamoEmulator;
let states: DynamoDestinationStates;
let paymentsTable: string;
let scratch: string;
let destinationCount = 0;
const servers: Server[] = [];

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
  const tables = await dynamo.createTables('deliveries-test');
  paymentsTable = tables.payments;
  states = new DynamoDestinationStates(createDocumentClient(dynamo.client), tables.payments);
  scratch = mkdtempSync(join(tmpdir(), 'payhook-deliveries-'));
});

afterAll(async () => {
  await Promise.all([sqs?.stop(), dynamo?.stop()]);
  rmSync(scratch, { recursive: true, force: true });
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- receivers -------------------------------------------------------------------------------------------------

interface Received {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: number;
}

interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Before the status line is written. */
  readonly delayMs?: number;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

/** A merchant's endpoint: answers its n-th request (from 0) with `script(n)`, recording what arrived. */
async function startReceiver(script: (attempt: number) => Answer): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const attempt = received.length;
      received.push({
        headers: headersOf(request),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const answer = script(attempt);
      setTimeout(() => {
        if (response.destroyed) return;
        response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        response.end(answer.body ?? '');
      }, answer.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

/** What a merchant's handler does first: the library verifies the delivery with the secret it holds, or throws. */
function verifiedWith(secret: string, delivery: Received): unknown {
  return new Webhook(secret).verify(delivery.body, delivery.headers);
}

// ---- destinations, events, the function ------------------------------------------------------------------------

/** A destination of its own per test (its own queues, its own stop state), with the secrets file naming its keys. */
async function destination(
  url: string,
  settings: Record<string, unknown> = {},
  secrets: readonly string[] = [CURRENT],
): Promise<{ target: DeliveryTarget & LocalDestination; secretsFile: string }> {
  destinationCount += 1;
  const name = `shop-${destinationCount}`;
  const parsed = parseDestinations({ [name]: { url, ...settings } }, 'test', { allowHttp: true });
  const created = await createDeliveryQueues(sqs.client, parsed);
  const local = created[name] as LocalDestination;
  const secretsFile = join(scratch, `secrets-${name}.json`);
  writeFileSync(secretsFile, JSON.stringify({ destinations: { [name]: { secrets } } }));
  return { target: { name, ...local }, secretsFile };
}

let eventCount = 0;

function paymentEvent(overrides: Partial<PaymentEvent> = {}): PaymentEvent {
  eventCount += 1;
  return {
    version: 1,
    id: randomUUID(),
    gateway: 'stripe',
    reference: `ORDER-${eventCount}`,
    gatewayPaymentId: `pi_${eventCount}`,
    from: 'pending',
    to: 'succeeded',
    amount: '4999',
    currency: 'USD',
    exponent: 2,
    status: 'succeeded',
    paid: '4999',
    refunded: '0',
    fact: { type: 'money_in', id: `ch_${eventCount}`, state: 'received' },
    occurredAt: '2026-11-30T10:00:00.000Z',
    sourceEventId: `evt_${eventCount}`,
    ...overrides,
  };
}

const NO_FILE: PaymentEventPublisher = { publish: async () => undefined };

/** Queues the event for the destinations that want it, exactly as the local stack's bus does. */
async function publish(targets: readonly (DeliveryTarget & LocalDestination)[], event: PaymentEvent) {
  await new DeliveryFanOut(NO_FILE, sqs.client, targets, { region: 'us-east-1' }).publish(event);
}

interface Visibility {
  readonly seconds: number;
  readonly receiptHandle: string;
}

/** The real SQS adapter, noting each visibility it sets (a back-off, a Retry-After, a hold) before setting it. */
class NotingDeliveryQueue extends SqsDeliveryQueue {
  readonly visibilities: Visibility[] = [];
  readonly heldCopies: {
    readonly delaySeconds: number;
    readonly ageMs: number;
    readonly reserved: boolean;
  }[] = [];

  override holdCopy(
    queueUrl: string,
    record: SQSRecord,
    delaySeconds: number,
    ageMs: number,
    reservation?: { readonly dueAtMs: number; readonly ratePerSecond: number },
  ): Promise<boolean> {
    this.heldCopies.push({ delaySeconds, ageMs, reserved: reservation !== undefined });
    return super.holdCopy(queueUrl, record, delaySeconds, ageMs, reservation);
  }

  override retryAfter(queueUrl: string, record: SQSRecord, seconds: number): Promise<boolean> {
    this.visibilities.push({ seconds, receiptHandle: record.receiptHandle });
    return super.retryAfter(queueUrl, record, seconds);
  }
}

interface Logged {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

function recordingLog(): StructuredLog & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** No waiting between attempts unless a test asks for back-off. */
const IMMEDIATE: Omit<DeliveryLimits, 'retryPeriodSeconds'> = { baseBackoffSeconds: 0, maxBackoffSeconds: 0 };

function deliveryFunction(
  target: DeliveryTarget,
  secretsFile: string,
  options: {
    limits?: Omit<DeliveryLimits, 'retryPeriodSeconds'>;
    now?: () => Date;
    stoppedRecheckSeconds?: number;
    /** The breaker and the rate limiter, on the emulated payments table, as the function has them. */
    controls?: boolean;
    maxHoldSeconds?: number;
  } = {},
) {
  const queue = new NotingDeliveryQueue(sqs.client);
  const log = recordingLog();
  const deliver = createDeliverer({
    targets: [target],
    states,
    secrets: new FileSigningSecrets(secretsFile, UNRELATED),
    send: sendDelivery,
    queue,
    local: true,
    limits: options.limits ?? IMMEDIATE,
    ...(options.now && { now: options.now }),
    ...(options.stoppedRecheckSeconds !== undefined && {
      stoppedRecheckSeconds: options.stoppedRecheckSeconds,
    }),
    random: () => 0.5,
    ...(options.maxHoldSeconds !== undefined && { maxHoldSeconds: options.maxHoldSeconds }),
    ...(options.controls && {
      breakers: new DynamoBreakerStates(createDocumentClient(dynamo.client), paymentsTable),
      rateLimiter: new DynamoRateLimiter(createDocumentClient(dynamo.client), paymentsTable),
    }),
    log,
  });
  return { deliver, queue, log };
}

/** One turn of the event source mapping on the destination's queue. */
async function pollDestination(
  target: DeliveryTarget,
  deliver: ReturnType<typeof createDeliverer>,
): Promise<number> {
  const result = await pollOnce(sqs.client, target.queueUrl, deliver, {
    batchSize: 10,
    waitSeconds: 0,
    context: (id) => lambdaContext('payhook-deliver', 60, id),
  });
  return result.received;
}

/** Polls until `done`, as the mapping keeps polling; fails after `timeoutMs`. */
async function pollUntil(
  target: DeliveryTarget,
  deliver: ReturnType<typeof createDeliverer>,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await pollDestination(target, deliver);
    await sleep(50);
  }
}

async function countsOf(queueUrl: string) {
  return queueCounts(sqs.client, queueUrl);
}

/** Receives (without deleting) what is visible now; nothing when every message is hidden. */
async function visibleNow(queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
  );
  return Messages;
}

// ---- the tests -------------------------------------------------------------------------------------------------

describe('delivering payment events to a destination (deliverer + fauxqs + dynalite + real HTTP)', () => {
  it('delivers payment.succeeded signed so the official standardwebhooks library verifies it, then deletes the message', async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    const { target, secretsFile } = await destination(receiver.url);
    const { deliver } = deliveryFunction(target, secretsFile);
    const event = paymentEvent();
    await publish([target], event);

    await pollUntil(target, deliver, () => receiver.received.length === 1);

    const [delivery] = receiver.received;
    if (!delivery) throw new Error('nothing delivered');
    // What a merchant's handler reads: the event, verified, in the Standard Webhooks shape.
    expect(verifiedWith(CURRENT, delivery)).toEqual({
      type: 'payment.succeeded',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      data: event,
    });
    // The id receivers dedupe on is payhook's own event id, not EventBridge's per-publish one.
    expect(delivery.headers['webhook-id']).toBe(event.id);
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers['user-agent']).toBe('payhook-delivery');
    expect(() => verifiedWith(UNRELATED, delivery)).toThrow(WebhookVerificationError);
    await sleep(50);
    expect(await countsOf(target.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
  });

  it('signs with both secrets during a rotation, so a receiver holding either the new or the old one verifies', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    const { target, secretsFile } = await destination(receiver.url, {}, [CURRENT, PREVIOUS]);
    const { deliver } = deliveryFunction(target, secretsFile);
    await publish([target], paymentEvent());

    await pollUntil(target, deliver, () => receiver.received.length === 1);

    const [delivery] = receiver.received;
    if (!delivery) throw new Error('nothing delivered');
    expect(delivery.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifiedWith(CURRENT, delivery)).toMatchObject({ type: 'payment.succeeded' });
    expect(verifiedWith(PREVIOUS, delivery)).toMatchObject({ type: 'payment.succeeded' });
    expect(() => verifiedWith(UNRELATED, delivery)).toThrow('No matching signature found');
  });

  it('retries 5xx after a back-off until the endpoint answers 200, every attempt with the same webhook-id and body', async () => {
    const receiver = await startReceiver((attempt) => ({ status: [500, 503][attempt] ?? 200 }));
    const { target, secretsFile } = await destination(receiver.url);
    // A one-second back-off: long enough to see the message hidden, short enough for a test.
    const { deliver, queue } = deliveryFunction(target, secretsFile, {
      limits: { baseBackoffSeconds: 1, maxBackoffSeconds: 1 },
    });
    const event = paymentEvent();
    await publish([target], event);

    await pollDestination(target, deliver);
    expect(receiver.received).toHaveLength(1);
    // Not retried at once: the message waits out its back-off hidden on the queue, not deleted, not dead-lettered.
    expect(await visibleNow(target.queueUrl)).toEqual([]);
    expect(await countsOf(target.queueUrl)).toMatchObject({ inFlight: 1 });

    await pollUntil(target, deliver, () => receiver.received.length === 3);
    await sleep(50);

    expect(queue.visibilities.map((visibility) => visibility.seconds)).toEqual([1, 1]);
    const [first, second, third] = receiver.received;
    if (!first || !second || !third) throw new Error('three attempts expected');
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
    expect(third.at - second.at).toBeGreaterThanOrEqual(900);
    // One event, one id and one body on every attempt: a receiver that dedupes on webhook-id applies it once.
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id']))).toEqual(
      new Set([event.id]),
    );
    expect(new Set(receiver.received.map((delivery) => delivery.body)).size).toBe(1);
    // Each attempt is signed at its own time, so each verifies within the receiver's replay window.
    for (const delivery of receiver.received) expect(verifiedWith(CURRENT, delivery)).toBeTruthy();
    expect(await countsOf(target.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
  });

  it('retries an answer slower than the destination timeout instead of counting it as delivered', async () => {
    const receiver = await startReceiver((attempt) => ({ status: 200, delayMs: attempt === 0 ? 1600 : 0 }));
    const { target, secretsFile } = await destination(receiver.url, { timeoutSeconds: 1 });
    const { deliver, log } = deliveryFunction(target, secretsFile);
    await publish([target], paymentEvent());

    await pollUntil(target, deliver, () => receiver.received.length === 2);
    await pollUntil(target, deliver, async () => (await countsOf(target.queueUrl)).inFlight === 0);

    const outcomes = log.lines
      .filter((line) => line.message === 'delivery attempt')
      .map((line) => [line.fields.outcome, line.fields.failure ?? line.fields.status]);
    expect(outcomes).toEqual([
      ['retry', 'timeout'],
      ['delivered', 200],
    ]);
    const [first, second] = receiver.received;
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.body).toBe(first?.body);
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
  });

  it('honours 429 Retry-After as the message visibility when it asks for longer than the back-off', async () => {
    const receiver = await startReceiver(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const { target, secretsFile } = await destination(receiver.url);
    const { deliver, queue } = deliveryFunction(target, secretsFile, {
      limits: { baseBackoffSeconds: 1, maxBackoffSeconds: 1 },
    });
    await publish([target], paymentEvent());

    await pollDestination(target, deliver);
    expect(queue.visibilities.map((visibility) => visibility.seconds)).toEqual([120]);
    // Past the one-second back-off the endpoint's two minutes still hold it: the endpoint is not asked again.
    await sleep(1300);
    expect(await pollDestination(target, deliver)).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(await countsOf(target.queueUrl)).toMatchObject({ visible: 0, inFlight: 1 });
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
  });

  it('stops the destination on 410 Gone and holds later events on the queue unattempted until resume lets them through', async () => {
    const receiver = await startReceiver((attempt) => ({ status: attempt === 0 ? 410 : 200 }));
    const { target, secretsFile } = await destination(receiver.url);
    // A one-second look-again instead of 15 minutes, so the test does not wait.
    const { deliver, queue } = deliveryFunction(target, secretsFile, { stoppedRecheckSeconds: 1 });
    const gone = paymentEvent();
    const later = paymentEvent();

    await publish([target], gone);
    await pollDestination(target, deliver);
    expect(receiver.received).toHaveLength(1);
    expect(await states.get(target.name)).toMatchObject({
      stopped: true,
      reason: expect.stringContaining('410'),
    });

    await publish([target], later);
    await pollDestination(target, deliver);
    // Held: not sent (the endpoint said it wants no more), not dead-lettered; the event that met the 410 and the later
    // one went back as delayed copies carrying their age (fresh receives: a long stop burns none).
    expect(receiver.received).toHaveLength(1);
    expect(queue.visibilities).toEqual([]);
    expect(queue.heldCopies).toEqual([
      { delaySeconds: 1, ageMs: expect.any(Number), reserved: false },
      { delaySeconds: 1, ageMs: expect.any(Number), reserved: false },
    ]);
    expect(Math.max(...queue.heldCopies.map((copy) => copy.ageMs))).toBeLessThan(5000);
    const waiting = await countsOf(target.queueUrl);
    expect(waiting.visible + waiting.inFlight + waiting.delayed).toBe(2);
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);

    // Still stopped at the next look: held again, still not sent.
    await sleep(1100);
    await pollDestination(target, deliver);
    expect(receiver.received).toHaveLength(1);

    await states.resume(target.name);
    await pollUntil(target, deliver, () => receiver.received.length === 3);
    await sleep(50);

    const ids = receiver.received.map((delivery) => delivery.headers['webhook-id']);
    expect(ids[0]).toBe(gone.id);
    expect(ids.slice(1).sort()).toEqual([gone.id, later.id].sort());
    const goneBodies = receiver.received.filter((delivery) => delivery.headers['webhook-id'] === gone.id);
    expect(goneBodies[1]?.body).toBe(goneBodies[0]?.body);
    expect(await states.get(target.name)).toEqual({ stopped: false });
    expect(await countsOf(target.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("dead-letters another 4xx at once with the status and the answer's first bytes, the body unchanged", async () => {
    const answer = `bad request: unknown field "amount" ${'x'.repeat(300)}`;
    const receiver = await startReceiver(() => ({ status: 400, body: answer }));
    const { target, secretsFile } = await destination(receiver.url);
    const { deliver } = deliveryFunction(target, secretsFile);
    const event = paymentEvent();
    await publish([target], event);

    await pollDestination(target, deliver);

    expect(receiver.received).toHaveLength(1);
    const dead = await drain(sqs.client, target.deadLetterQueueUrl);
    expect(dead).toHaveLength(1);
    const [letter] = dead;
    if (!letter) throw new Error('no dead letter');
    // The queued EventBridge event as it was, so a redrive delivers the very bytes the endpoint refused.
    const envelope = readDeliveryEnvelope(letter.Body ?? '');
    expect(envelope.detail).toEqual(event);
    expect(paymentEventBody(envelope)).toBe(receiver.received[0]?.body);
    expect({
      destination: attribute(letter, 'destination'),
      errorClass: attribute(letter, 'errorClass'),
      errorMessage: attribute(letter, 'errorMessage'),
      status: attribute(letter, 'status'),
      answerStart: attribute(letter, 'answerStart'),
      receiveCount: attribute(letter, 'receiveCount'),
    }).toEqual({
      destination: target.name,
      errorClass: 'permanent_status',
      errorMessage: 'HTTP 400',
      status: '400',
      answerStart: answer.slice(0, 256),
      receiveCount: '1',
    });
    expect(await countsOf(target.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('dead-letters an event still failing past its retry period as retries_exhausted, with the last answer', async () => {
    const receiver = await startReceiver(() => ({ status: 503, body: 'down for maintenance' }));
    const { target, secretsFile } = await destination(receiver.url, { retryHours: 1 });
    let clockAhead = 0;
    const { deliver } = deliveryFunction(target, secretsFile, {
      now: () => new Date(Date.now() + clockAhead),
    });
    await publish([target], paymentEvent());

    await pollDestination(target, deliver);
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
    // The second attempt happens an hour and a minute after the event was queued for this destination.
    clockAhead = 61 * 60 * 1000;
    await pollUntil(target, deliver, () => receiver.received.length === 2);
    await pollUntil(target, deliver, async () => (await countsOf(target.queueUrl)).inFlight === 0);

    const [letter, ...more] = await drain(sqs.client, target.deadLetterQueueUrl);
    expect(more).toEqual([]);
    if (!letter) throw new Error('no dead letter');
    expect(attribute(letter, 'errorClass')).toBe('retries_exhausted');
    expect(attribute(letter, 'status')).toBe('503');
    expect(attribute(letter, 'answerStart')).toBe('down for maintenance');
    expect(attribute(letter, 'errorMessage')).toMatch(
      /^gave up after 2 attempt\(s\) over 61 min; last: HTTP 503$/,
    );
  });

  it('retries a delivery whose signing secret is unusable, then dead-letters it as signing_failed naming no secret', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    // Too short to be a Standard Webhooks key: ours to fix, so nothing is sent until it is.
    const { target, secretsFile } = await destination(receiver.url, { retryHours: 1 }, ['whsec_c2hvcnQ=']);
    let clockAhead = 0;
    const { deliver } = deliveryFunction(target, secretsFile, {
      now: () => new Date(Date.now() + clockAhead),
    });
    await publish([target], paymentEvent());

    await pollDestination(target, deliver);
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
    const waiting = await countsOf(target.queueUrl);
    expect(waiting.visible + waiting.inFlight).toBe(1);
    clockAhead = 61 * 60 * 1000;
    await pollUntil(target, deliver, async () => (await countsOf(target.deadLetterQueueUrl)).visible === 1);

    expect(receiver.received).toEqual([]);
    const [letter] = await drain(sqs.client, target.deadLetterQueueUrl);
    if (!letter) throw new Error('no dead letter');
    expect(attribute(letter, 'errorClass')).toBe('signing_failed');
    expect(attribute(letter, 'errorMessage')).toMatch(/signing secret/);
    expect(attribute(letter, 'errorMessage')).not.toContain('c2hvcnQ');
  });

  it('holds events beyond rateLimitPerSecond on the queue, delayed not failed, and delivers them all within the rate', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    const { target, secretsFile } = await destination(receiver.url, { rateLimitPerSecond: 2 });
    const { deliver, queue } = deliveryFunction(target, secretsFile, { controls: true });
    const events = Array.from({ length: 6 }, () => paymentEvent());
    for (const event of events) await publish([target], event);

    await pollDestination(target, deliver);
    // A full bucket holds one second's worth: two now, the other four wait as delayed copies (none failed), each
    // for the token reserved for it at 2/s.
    expect(receiver.received).toHaveLength(2);
    expect(queue.heldCopies.map((copy) => [copy.delaySeconds, copy.reserved])).toEqual([
      [1, true],
      [1, true],
      [2, true],
      [2, true],
    ]);
    expect(queue.visibilities).toEqual([]);

    await pollUntil(target, deliver, () => receiver.received.length === 6, 15_000);
    // Each waited once: no copy was refused again and copied a second time.
    expect(queue.heldCopies).toHaveLength(4);
    const times = receiver.received.map((delivery) => delivery.at);
    // Six at two per second, one second of burst: the last no sooner than two seconds after the first.
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1900);
    expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id']))).toEqual(
      new Set(events.map((event) => event.id)),
    );
    expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);
  });

  // Any answer that is not a failure shows the endpoint is there: a 400 closes it as a 200 does.
  it.each([200, 400])(
    'opens the breaker after consecutive failures, holds events unattempted, then closes on a probe answered %i',
    async (answer) => {
      let up = false;
      const receiver = await startReceiver(() => ({ status: up ? answer : 503 }));
      const { target, secretsFile } = await destination(receiver.url, {
        circuitBreaker: { consecutiveFailures: 3, openSeconds: 10 },
      });
      let clockAhead = 0;
      // Held events look again after a second instead of the breaker's pause, so the test does not wait.
      const { deliver, queue } = deliveryFunction(target, secretsFile, {
        controls: true,
        maxHoldSeconds: 1,
        now: () => new Date(Date.now() + clockAhead),
      });
      const events = Array.from({ length: 3 }, () => paymentEvent());
      for (const event of events) await publish([target], event);

      // Three failures in a row (one batch, the back-off zero here) open it.
      await pollDestination(target, deliver);
      expect(receiver.received).toHaveLength(3);
      const breakers = new DynamoBreakerStates(createDocumentClient(dynamo.client), paymentsTable);
      expect((await breakers.get(target.name)).state.kind).toBe('open');

      // Open: the retried events are held as delayed copies, the endpoint is not called.
      await pollDestination(target, deliver);
      expect(receiver.received).toHaveLength(3);
      expect(queue.heldCopies.length).toBeGreaterThanOrEqual(1);
      expect(await drain(sqs.client, target.deadLetterQueueUrl)).toEqual([]);

      // Past the pause, the endpoint back: one probe goes, succeeds and closes it; the rest follow.
      up = true;
      clockAhead = 11_000;
      await pollUntil(target, deliver, () => receiver.received.length >= 6, 15_000);
      expect((await breakers.get(target.name)).state.kind).toBe('closed');
      const delivered = receiver.received.slice(3).map((delivery) => delivery.headers['webhook-id']);
      expect(new Set(delivered)).toEqual(new Set(events.map((event) => event.id)));
    },
  );

  it('dead-letters a message that is not a payhook event without sending it anywhere', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    const { target, secretsFile } = await destination(receiver.url);
    const { deliver } = deliveryFunction(target, secretsFile);
    const foreign = {
      version: '0',
      id: 'x',
      'detail-type': 'payment.succeeded',
      source: 'elsewhere',
      detail: {},
    };
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: target.queueUrl, MessageBody: JSON.stringify(foreign) }),
    );

    await pollDestination(target, deliver);

    expect(receiver.received).toEqual([]);
    const [letter] = await drain(sqs.client, target.deadLetterQueueUrl);
    expect(letter && attribute(letter, 'errorClass')).toBe('invalid_message');
  });
});

describe('the local stand-in for the delivery rules (local/delivery-fan-out.ts)', () => {
  async function targets(settings: Record<string, Record<string, unknown>>) {
    destinationCount += 1;
    const named = Object.fromEntries(
      Object.entries(settings).map(([name, each]) => [
        `${name}-${destinationCount}`,
        { url: 'http://127.0.0.1:1/hooks', ...each },
      ]),
    );
    const created = await createDeliveryQueues(
      sqs.client,
      parseDestinations(named, 'test', { allowHttp: true }),
    );
    return Object.entries(created).map(([name, local]) => ({ name, ...local }));
  }

  it('queues an event only for the destinations whose filter wants it, as their EventBridge rules would', async () => {
    const [all, refunds, paystack] = await targets({
      all: {},
      refunds: { detailTypes: ['payment.refunded'] },
      paystack: { gateways: ['paystack'] },
    });
    if (!all || !refunds || !paystack) throw new Error('three destinations expected');
    const event = paymentEvent({ gateway: 'stripe', to: 'succeeded' });

    await publish([all, refunds, paystack], event);

    const [message, ...more] = await drain(sqs.client, all.queueUrl);
    expect(more).toEqual([]);
    expect(await drain(sqs.client, refunds.queueUrl)).toEqual([]);
    expect(await drain(sqs.client, paystack.queueUrl)).toEqual([]);
    // The body is an EventBridge event as its SQS target receives it, which the delivery function reads.
    const body = JSON.parse(message?.Body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      version: '0',
      'detail-type': 'payment.succeeded',
      source: 'payhook',
      account: expect.stringMatching(/^\d{12}$/),
      region: 'us-east-1',
      resources: [],
      detail: event,
    });
    expect(readDeliveryEnvelope(message?.Body ?? '')).toMatchObject({
      detailType: 'payment.succeeded',
      detail: event,
    });
  });

  it('sends nothing when the event could not be written to the bus, as a failed PutEvents reaches no rule', async () => {
    const [all] = await targets({ all: {} });
    if (!all) throw new Error('a destination expected');
    const failing: PaymentEventPublisher = {
      publish: async () => {
        throw new Error('the events file is not writable');
      },
    };

    await expect(
      new DeliveryFanOut(failing, sqs.client, [all], { region: 'us-east-1' }).publish(paymentEvent()),
    ).rejects.toThrow('not writable');
    expect(await drain(sqs.client, all.queueUrl)).toEqual([]);
  });
});
