import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { type Message, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeadLetters } from '../../cli/oncall/dead-letters.js';
import { renormalise } from '../../cli/oncall/renormalise.js';
import { deployedTarget, outputKeys } from '../../cli/oncall/target.js';
import type { DeadLetterFilter, QueuePair } from '../../cli/oncall/types.js';
import { readSample } from '../../events/index.js';
import { createSqsClient } from '../../lambdas/composition/clients.js';
import { MESSAGE_ATTRIBUTES, PRIORITIES } from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS, parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { unparseableWebhook } from '../../lambdas/intake/unparseable-webhook.js';
import { stringAttributes } from '../../lambdas/messages/sqs-text.js';
import {
  readWebhookEventMessage,
  writeWebhookEventMessage,
} from '../../lambdas/messages/webhook-event-message.js';
import { queueCounts } from '../../local/queues.js';
import { runPayhookWith } from '../support/cli.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';
import {
  attribute,
  createPipelineQueues,
  drain,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

// `payhook dlq renormalise` on the real SQS emulator with the real adapters: an adapter "fixed" is simulated by parking
// by hand, with an old reason, a body today's adapter reads.

const SETTINGS = parseGatewaySettings(undefined);
const HOUR = 3_600_000;

let sqs: SqsEmulator;

beforeAll(async () => {
  sqs = await startSqsEmulator();
});

afterAll(async () => {
  await sqs?.stop();
});

interface Pipeline {
  readonly urls: PipelineQueues;
  readonly pairs: QueuePair[];
}

async function pipeline(): Promise<Pipeline> {
  const urls = await createPipelineQueues(sqs.client, `renorm-${randomUUID().slice(0, 8)}`);
  return {
    urls,
    pairs: PRIORITIES.map((priority) => ({
      priority,
      queueUrl: urls.queues[priority],
      deadLetterQueueUrl: urls.deadLetterQueues[priority],
    })),
  };
}

interface ParkSpec {
  readonly gateway: GatewayName;
  readonly payload: string | Buffer;
  readonly reason: string;
  readonly requestId: string;
  readonly errorClass?: 'batch_too_large';
  readonly hoursAgo?: number;
}

/** Parks a webhook on the low-priority dead-letter queue exactly as ingest does. */
async function park(client: SQSClient, parking: string, spec: ParkSpec): Promise<void> {
  const queue = new SqsEventQueue(client, { queues: { high: '', normal: '', low: '' }, parking });
  await queue.park(
    unparseableWebhook(
      spec.gateway,
      {
        headers: { 'content-type': 'application/json', 'user-agent': 'Gateway/1.0' },
        body: Buffer.from(spec.payload),
        receivedAt: new Date(Date.now() - (spec.hoursAgo ?? 1) * HOUR),
        requestId: spec.requestId,
      },
      {
        reason: spec.reason,
        payload: spec.payload,
        ...(spec.errorClass !== undefined && { errorClass: spec.errorClass }),
      },
    ),
  );
}

/** A consumer's dead letter (not a parked webhook), as the consumer writes one. */
async function consumerDeadLetter(pipe: Pipeline): Promise<void> {
  const message = writeWebhookEventMessage({
    gateway: 'paystack',
    eventId: `charge.success:${randomUUID()}`,
    eventType: 'charge.success',
    kind: 'payment.succeeded',
    reference: 'ORDER-CONSUMER',
    money: moneyFromMinor('250000', 'NGN'),
    mode: 'test',
    receivedAt: new Date().toISOString(),
    priority: 'high',
    requestId: 'req-consumer',
    payload: '{"event":"charge.success"}',
  });
  await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: pipe.urls.deadLetterQueues.high,
      MessageBody: message.body,
      MessageAttributes: stringAttributes({
        ...message.attributes,
        [MESSAGE_ATTRIBUTES.errorClass]: 'retries_exhausted',
        [MESSAGE_ATTRIBUTES.firstFailedAt]: new Date().toISOString(),
      }),
    }),
  );
}

const PAYSTACK = readSample('paystack', 'charge.success');
/** Valid UTF-8, but mostly emoji: ingest parks it as base64 (escaped, it would be three times its size). */
const EMOJI = PAYSTACK.replace('"Ada"', `"${'🙂'.repeat(400)}"`).replace('ORDER-1001', 'ORDER-EMOJI');
/** Latin-1, not UTF-8 (`José` with a lone 0xE9 byte): ingest parks it as base64, and no adapter can read it. */
const [HEAD = '', TAIL = ''] = PAYSTACK.replace('ORDER-1001', 'ORDER-LATIN1').split('"Ada"');
const NOT_UTF8 = Buffer.concat([Buffer.from(`${HEAD}"Jos`), Buffer.from([0xe9]), Buffer.from(`"${TAIL}`)]);
const NOT_UTF8_REASON = 'body is not valid UTF-8';

/** Adyen items exactly as the adapter writes them, from the batch sample. */
const ADYEN_ITEMS = ADAPTERS.adyen
  .normalise(
    {
      headers: {},
      body: Buffer.from(readSample('adyen', 'batch')),
      receivedAt: new Date(),
      requestId: 'req-sample',
    },
    DEFAULT_GATEWAY_SETTINGS,
  )
  .events.map((event) => JSON.parse(event.payload).NotificationRequestItem as Record<string, unknown>);
/** An Adyen request's items past its first 100: two readable (AUTHORISATION, REFUND), one without a pspReference. */
const ADYEN_OVERFLOW = JSON.stringify({
  live: 'false',
  notificationItems: [
    { NotificationRequestItem: ADYEN_ITEMS[0] },
    { NotificationRequestItem: { ...ADYEN_ITEMS[2], pspReference: undefined } },
    { NotificationRequestItem: ADYEN_ITEMS[1] },
  ],
});
const ADYEN_BAD_ITEM_REASON =
  'notificationItems[1]: NotificationRequestItem has no eventCode or no pspReference';

/** The parked set every test starts from (each test on its own queues). */
async function parkEverything(pipe: Pipeline): Promise<void> {
  const parking = pipe.urls.deadLetterQueues.low;
  await park(sqs.client, parking, {
    gateway: 'paystack',
    payload: PAYSTACK,
    // What an adapter with a bug said; today's adapter reads this body.
    reason: 'Paystack payload has no "event" name or no "data" object',
    requestId: 'req-fixed',
    hoursAgo: 5,
  });
  await park(sqs.client, parking, {
    gateway: 'paystack',
    payload: EMOJI,
    reason: 'unexpected RangeError: an older bug',
    requestId: 'req-emoji',
    hoursAgo: 4,
  });
  await park(sqs.client, parking, {
    gateway: 'paystack',
    payload: '<html>502 Bad Gateway</html>',
    reason: 'an older reason',
    requestId: 'req-not-json',
    hoursAgo: 3,
  });
  await park(sqs.client, parking, {
    gateway: 'paystack',
    payload: NOT_UTF8,
    reason: NOT_UTF8_REASON,
    requestId: 'req-latin1',
    hoursAgo: 2,
  });
  await park(sqs.client, parking, {
    gateway: 'adyen',
    payload: ADYEN_OVERFLOW,
    reason: '3 distinct notification items past the first 100',
    errorClass: 'batch_too_large',
    requestId: 'req-adyen',
    hoursAgo: 1,
  });
  await park(sqs.client, parking, {
    gateway: 'stripe',
    payload: readSample('stripe', 'payment_intent.succeeded'),
    reason: 'an older reason',
    requestId: 'req-stripe-old',
    hoursAgo: 72,
  });
  await consumerDeadLetter(pipe);
}

/** Every queue's messages, visible and in flight, keyed `high`, `high-dlq`, ... */
async function snapshot(pipe: Pipeline): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const priority of PRIORITIES) {
    for (const [key, url] of [
      [priority, pipe.urls.queues[priority]],
      [`${priority}-dlq`, pipe.urls.deadLetterQueues[priority]],
    ] as const) {
      const counts = await queueCounts(sqs.client, url);
      result[key] = counts.visible + counts.inFlight + counts.delayed;
    }
  }
  return result;
}

interface ParkedNow {
  readonly messageId: string;
  readonly requestId: string;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly body: Record<string, unknown>;
}

/** The parked webhooks on the low dead-letter queue now (read and let go), by request id. */
async function parkedNow(pipe: Pipeline): Promise<ParkedNow[]> {
  const { raw } = await readDeadLetters(sqs.client, pipe.pairs, { queues: ['low'] }, new Date());
  return [...raw.values()].map(({ message }) => {
    const body = JSON.parse(message.Body ?? '') as Record<string, unknown>;
    return {
      messageId: message.MessageId ?? '',
      requestId: String(body.requestId),
      errorClass: String(body.errorClass),
      errorMessage: String(body.errorMessage),
      body,
    };
  });
}

function byRequest(parked: readonly ParkedNow[], requestId: string): ParkedNow[] {
  return parked.filter((item) => item.requestId === requestId);
}

function payloadBytes(parked: ParkedNow): Buffer {
  return Buffer.from(
    String(parked.body.payload),
    parked.body.payloadEncoding === 'base64' ? 'base64' : 'utf8',
  );
}

const queued = (messages: readonly Message[]) =>
  messages.map((message) => readWebhookEventMessage(message.Body ?? ''));

describe('payhook dlq renormalise (fauxqs, real adapters)', () => {
  it('in a dry run changes nothing, and says per message what would happen', async () => {
    const pipe = await pipeline();
    await parkEverything(pipe);
    const before = await snapshot(pipe);
    const parkedBefore = await parkedNow(pipe);
    // The precondition of the base64 cases: ingest parked these two as base64.
    expect(byRequest(parkedBefore, 'req-emoji')[0]?.body.payloadEncoding).toBe('base64');
    expect(byRequest(parkedBefore, 'req-latin1')[0]?.body.payloadEncoding).toBe('base64');

    const result = await renormalise(sqs.client, pipe.pairs, {}, { settings: SETTINGS, dryRun: true });

    expect(await snapshot(pipe)).toEqual(before);
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 6, 'high-dlq': 1, high: 0, normal: 0, low: 0 });
    expect((await parkedNow(pipe)).map((item) => item.messageId).sort()).toEqual(
      parkedBefore.map((item) => item.messageId).sort(),
    );
    expect(result.dryRun).toBe(true);
    const outcome = (requestId: string) => result.messages.find((message) => message.requestId === requestId);
    expect(outcome('req-fixed')).toMatchObject({
      outcome: 'queued',
      gateway: 'paystack',
      events: [{ eventType: 'charge.success', priority: 'high', kind: 'payment.succeeded' }],
      parked: [],
    });
    expect(outcome('req-emoji')).toMatchObject({
      outcome: 'queued',
      events: [{ eventType: 'charge.success' }],
    });
    expect(outcome('req-not-json')).toMatchObject({
      outcome: 'reparked',
      events: [],
      parked: [{ errorClass: 'unparseable_payload', reason: expect.stringMatching(/^body is not JSON/) }],
    });
    expect(outcome('req-latin1')).toMatchObject({
      outcome: 'unchanged',
      parked: [{ errorClass: 'unparseable_payload', reason: NOT_UTF8_REASON }],
    });
    expect(outcome('req-stripe-old')).toMatchObject({
      outcome: 'queued',
      events: [{ eventType: 'payment_intent.succeeded' }],
    });
    // batch_too_large is left for a human unless asked for by name; the consumer's dead letter is not parked.
    expect(outcome('req-adyen')).toBeUndefined();
    expect(result.messages).toHaveLength(5);
    expect(result.counts).toEqual({ queued: 3, reparked: 1, unchanged: 1, held: 0, failed: 0 });
    expect(result.queuedEvents).toBe(3);
    expect(result.skipped).toEqual({
      notMatching: 0,
      notParked: 1,
      batchTooLarge: 1,
      pastLimit: 0,
      notReached: 0,
    });
  });

  it('queues what now normalises as current messages with the exact bytes, re-parks what fails anew, leaves the rest', async () => {
    const pipe = await pipeline();
    await parkEverything(pipe);
    const before = await parkedNow(pipe);
    const since = new Date(Date.now() - 24 * HOUR);

    // Filters that match nothing touch nothing.
    for (const filter of [
      { gateway: 'razorpay' },
      { queues: ['high'] },
      { errorClass: 'key_too_large' },
    ] satisfies DeadLetterFilter[]) {
      const nothing = await renormalise(sqs.client, pipe.pairs, filter, { settings: SETTINGS });
      expect(nothing.messages, JSON.stringify(filter)).toEqual([]);
    }
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 6, 'high-dlq': 1, high: 0, normal: 0, low: 0 });

    const result = await renormalise(
      sqs.client,
      pipe.pairs,
      { gateway: 'paystack', since },
      { settings: SETTINGS },
    );
    expect(result.counts).toEqual({ queued: 2, reparked: 1, unchanged: 1, held: 0, failed: 0 });
    // Not matching: the Adyen batch (gateway) and the Stripe body (since); the consumer's paystack dead letter matches, but is not parked.
    expect(result.skipped).toMatchObject({ notMatching: 2, notParked: 1 });

    // The two that now read are on the high queue, as current-version messages without an original (a parked webhook
    // kept no signature headers, so it can reach no original destination: version 3), their payloads byte-exact.
    const high = await drain(sqs.client, pipe.urls.queues.high);
    expect(high).toHaveLength(2);
    for (const message of high) {
      expect(JSON.parse(message.Body ?? '').version).toBe(3);
      expect(JSON.parse(message.Body ?? '')).not.toHaveProperty('original');
      expect(attribute(message, MESSAGE_ATTRIBUTES.messageType)).toBe('webhook-event');
    }
    const events = queued(high).sort((a, b) => a.requestId.localeCompare(b.requestId));
    expect(events.map((event) => [event.requestId, event.eventType, event.kind, event.reference])).toEqual([
      ['req-emoji', 'charge.success', 'payment.succeeded', 'ORDER-EMOJI'],
      ['req-fixed', 'charge.success', 'payment.succeeded', 'ORDER-1001'],
    ]);
    expect(Buffer.from(events[0]?.payload ?? '', 'utf8').equals(Buffer.from(EMOJI, 'utf8'))).toBe(true);
    expect(Buffer.from(events[1]?.payload ?? '', 'utf8').equals(Buffer.from(PAYSTACK, 'utf8'))).toBe(true);
    // Received when ingest received it, not now.
    expect(events[1]?.receivedAt).toBe(byRequest(before, 'req-fixed')[0]?.body.receivedAt);
    expect(await snapshot(pipe)).toMatchObject({ high: 0, normal: 0, low: 0 });

    const after = await parkedNow(pipe);
    expect(byRequest(after, 'req-fixed')).toEqual([]);
    expect(byRequest(after, 'req-emoji')).toEqual([]);
    // Still unreadable, with today's reason: parked again (a new message), the same bytes, the same request and time.
    const [notJson, ...moreNotJson] = byRequest(after, 'req-not-json');
    const [oldNotJson] = byRequest(before, 'req-not-json');
    expect(moreNotJson).toEqual([]);
    expect(notJson?.messageId).not.toBe(oldNotJson?.messageId);
    expect(notJson?.errorClass).toBe('unparseable_payload');
    expect(notJson?.errorMessage).toMatch(/^body is not JSON/);
    expect(notJson && payloadBytes(notJson).toString()).toBe('<html>502 Bad Gateway</html>');
    expect(notJson?.body.receivedAt).toBe(oldNotJson?.body.receivedAt);
    // Unchanged: the very same message, untouched.
    expect(byRequest(after, 'req-latin1')).toEqual(byRequest(before, 'req-latin1'));
    const [latin1] = byRequest(after, 'req-latin1');
    expect(latin1 && payloadBytes(latin1).equals(NOT_UTF8)).toBe(true);
    // Outside the filters: untouched.
    expect(byRequest(after, 'req-adyen')).toEqual(byRequest(before, 'req-adyen'));
    expect(byRequest(after, 'req-stripe-old')).toEqual(byRequest(before, 'req-stripe-old'));
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 4, 'high-dlq': 1 });

    // The parked list reads the new reason.
    const { letters } = await readDeadLetters(sqs.client, pipe.pairs, { queues: ['low'] }, new Date());
    expect(letters.find((letter) => letter.messageId === notJson?.messageId)?.errorMessage).toMatch(
      /^body is not JSON/,
    );

    // Run again: nothing left to change for these.
    const again = await renormalise(sqs.client, pipe.pairs, { gateway: 'paystack' }, { settings: SETTINGS });
    expect(again.counts).toEqual({ queued: 0, reparked: 0, unchanged: 2, held: 0, failed: 0 });
  });

  it('renormalises batch_too_large only when asked by name: good items queued, the bad one parked on its own', async () => {
    const pipe = await pipeline();
    await parkEverything(pipe);
    const [batch] = byRequest(await parkedNow(pipe), 'req-adyen');

    const result = await renormalise(
      sqs.client,
      pipe.pairs,
      { errorClass: 'batch_too_large' },
      { settings: SETTINGS },
    );
    expect(result.messages).toEqual([
      expect.objectContaining({
        messageId: batch?.messageId,
        outcome: 'queued',
        events: [
          expect.objectContaining({ eventType: 'AUTHORISATION', priority: 'high' }),
          expect.objectContaining({ eventType: 'REFUND', priority: 'normal' }),
        ],
        parked: [{ errorClass: 'unparseable_payload', reason: ADYEN_BAD_ITEM_REASON }],
      }),
    ]);
    const [authorisation] = queued(await drain(sqs.client, pipe.urls.queues.high));
    const [refund] = queued(await drain(sqs.client, pipe.urls.queues.normal));
    expect(authorisation).toMatchObject({
      gateway: 'adyen',
      eventType: 'AUTHORISATION',
      requestId: 'req-adyen',
    });
    expect(refund).toMatchObject({ gateway: 'adyen', eventType: 'REFUND', requestId: 'req-adyen' });

    const adyen = byRequest(await parkedNow(pipe), 'req-adyen');
    expect(adyen).toHaveLength(1);
    expect(adyen[0]).toMatchObject({
      errorClass: 'unparseable_payload',
      errorMessage: ADYEN_BAD_ITEM_REASON,
    });
    expect(adyen[0]?.messageId).not.toBe(batch?.messageId);
    // The item parked on its own reads back as the same item, for the same reason: left as it is from now on.
    const again = await renormalise(sqs.client, pipe.pairs, { gateway: 'adyen' }, { settings: SETTINGS });
    expect(again.messages).toEqual([
      expect.objectContaining({ messageId: adyen[0]?.messageId, outcome: 'unchanged' }),
    ]);
    // The other parked webhooks were not touched.
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 6, high: 0, normal: 0, low: 0 });
  });

  it('holds back what the settings refuse, and stops at --limit, oldest first', async () => {
    const pipe = await pipeline();
    await parkEverything(pipe);
    const held = await renormalise(
      sqs.client,
      pipe.pairs,
      { gateway: 'paystack' },
      { settings: parseGatewaySettings('{"enabled":["stripe"]}') },
    );
    expect(held.counts).toMatchObject({ queued: 0, held: 4 });
    expect(held.messages[0]?.note).toBe('Paystack is not enabled in these gateway settings');

    const limited = await renormalise(sqs.client, pipe.pairs, {}, { settings: SETTINGS, limit: 1 });
    expect(limited.messages.map((message) => message.requestId)).toEqual(['req-stripe-old']);
    expect(limited.skipped.pastLimit).toBe(4);
    expect(queued(await drain(sqs.client, pipe.urls.queues.high)).map((event) => event.requestId)).toEqual([
      'req-stripe-old',
    ]);
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 5, high: 0 });
  });

  it('deletes a parked webhook only once its events are queued: a failing send leaves it parked and visible', async () => {
    const pipe = await pipeline();
    await park(sqs.client, pipe.urls.deadLetterQueues.low, {
      gateway: 'paystack',
      payload: PAYSTACK,
      reason: 'an older reason',
      requestId: 'req-fixed',
    });
    const before = await parkedNow(pipe);
    const failing = failingOn(sqs.endpoint, 'SendMessageCommand');
    const result = await renormalise(failing, pipe.pairs, {}, { settings: SETTINGS });
    failing.destroy();
    expect(result.counts).toMatchObject({ queued: 0, failed: 1 });
    expect(result.messages[0]?.note).toMatch(
      /^not queued \(NetworkingError: connection reset\); left in place/,
    );
    expect(await parkedNow(pipe)).toEqual(before);
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 1, high: 0 });
    expect((await queueCounts(sqs.client, pipe.urls.deadLetterQueues.low)).visible).toBe(1);

    const deleteFails = failingOn(sqs.endpoint, 'DeleteMessageCommand');
    const undeleted = await renormalise(deleteFails, pipe.pairs, {}, { settings: SETTINGS });
    deleteFails.destroy();
    expect(undeleted.messages[0]?.note).toMatch(/^queued, but not deleted/);
    // Queued and still parked: duplicated, never lost.
    expect(await snapshot(pipe)).toMatchObject({ 'low-dlq': 1, high: 1 });
  });
});

/** An SQS client on which every `command` fails, as a dropped connection would. */
function failingOn(endpoint: string, command: string): SQSClient {
  const client = createSqsClient('ingest', { AWS_ENDPOINT_URL_SQS: endpoint });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command)
        throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
      return next(args);
    },
    { step: 'initialize', name: 'failingOn' },
  );
  return client;
}

// A deployed stack is found by its CloudFormation outputs, as every `payhook dlq --stack NAME` command finds it.
describe.runIf(hasMotoServer)('payhook dlq renormalise --stack (moto_server)', () => {
  let moto: MotoServer;
  let client: SQSClient;
  let pairs: readonly QueuePair[];

  beforeAll(async () => {
    moto = await startMotoServer();
    const resources: Record<string, unknown> = {};
    const outputs: Record<string, unknown> = {};
    for (const priority of PRIORITIES) {
      resources[`Queue${priority}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `shop-${priority}` },
      };
      resources[`Dlq${priority}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `shop-${priority}-dlq` },
      };
      const keys = outputKeys(priority);
      outputs[keys.queue] = { Value: { Ref: `Queue${priority}` } };
      outputs[keys.deadLetter] = { Value: { Ref: `Dlq${priority}` } };
    }
    const cloudformation = new CloudFormationClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    await cloudformation.send(
      new CreateStackCommand({
        StackName: 'shop-prod',
        TemplateBody: JSON.stringify({ Resources: resources, Outputs: outputs }),
      }),
    );
    cloudformation.destroy();
    const target = await deployedTarget({ stack: 'shop-prod', region: 'us-east-1', endpoint: moto.endpoint });
    client = target.sqs;
    pairs = target.queues;
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("queues a fixed body on the stack's high queue and keeps a broken one parked, as text and JSON", async () => {
    const pair = (priority: string) => pairs.find((each) => each.priority === priority);
    const lowDlq = pair('low')?.deadLetterQueueUrl ?? '';
    const highQueue = pair('high')?.queueUrl ?? '';
    await park(client, lowDlq, {
      gateway: 'paystack',
      payload: PAYSTACK,
      reason: 'an older reason',
      requestId: 'req-moto-fixed',
    });
    await park(client, lowDlq, {
      gateway: 'paystack',
      payload: '\u001b[31mnot json',
      reason: 'an older reason',
      requestId: 'req-moto-broken',
    });
    const env = { PAYHOOK_AWS_ENDPOINT_URL: moto.endpoint };
    const target = ['--stack', 'shop-prod', '--region', 'us-east-1'];

    const dry = await runPayhookWith(env, 'dlq', 'renormalise', ...target, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run on stack shop-prod (us-east-1): nothing was changed');
    expect(dry.stdout).toContain('gateway settings: the defaults');
    expect(dry.stdout).toMatch(/req-moto-fixed\s+would queue 1 event\(s\): charge\.success \(high\)/);
    expect(dry.stdout).toMatch(
      /req-moto-broken\s+still unparseable, would be parked again with the new reason: unparseable_payload: body is not JSON/,
    );
    expect(dry.stdout).not.toContain('\u001b');
    expect(await drain(client, highQueue)).toEqual([]);

    const run = await runPayhookWith(env, 'dlq', 'renormalise', ...target, '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      target: string;
      gatewaySettings: string;
      counts: Record<string, number>;
    };
    expect(result).toMatchObject({
      target: 'stack shop-prod (us-east-1)',
      gatewaySettings: 'defaults',
      counts: { queued: 1, reparked: 1, failed: 0 },
    });
    const high = await drain(client, highQueue);
    expect(queued(high).map((event) => [event.requestId, event.payload === PAYSTACK])).toEqual([
      ['req-moto-fixed', true],
    ]);
    const parked = (await drain(client, lowDlq)).map((message) => JSON.parse(message.Body ?? ''));
    expect(parked.map((body) => [body.requestId, body.errorMessage.startsWith('body is not JSON')])).toEqual([
      ['req-moto-broken', true],
    ]);
  });
});
