import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import { paymentEventId } from '../../lambdas/domain/payment-event.js';
import { readOriginalDelivery } from '../../lambdas/messages/original-webhook.js';
import { REHEARSAL_ACCOUNT, REHEARSAL_REGION } from '../emulated-account.js';
import type { FunctionProcess } from '../function-process.js';
import { sqsEvent } from '../lambda-events.js';
import type { Stage, StagedFunction } from '../stage.js';
import { resourcesOfType } from '../template.js';

/**
 * The delivery function on what its event source mappings would hand it: payment events as EventBridge puts a rule's
 * match on a destination queue, received through the proxy with the function's credentials (the mapping polls with
 * its role), invoked on the real bundle, and deleted afterwards unless reported as failures. On the AWS path the
 * function delivers over https to public addresses only, which the rehearsal cannot serve, so the destinations are
 * the two it can: a host that does not resolve (retried, then dead-lettered once its retry period is over) and
 * loopback (refused before any connection, and held while the destination is stopped). A third, of format
 * `original`, is fed by the consumers' scenarios (each webhook ingest queued, forwarded once applied).
 */

/** The destinations the rehearsal synthesises the stack with (the `destinations` setting), loopback on `port`. */
export function rehearsalDestinations(port: number): Record<string, unknown> {
  return {
    // `.invalid` never resolves (RFC 6761): every attempt fails before a connection, as with a host gone from DNS.
    unreachable: { url: 'https://hooks.rehearsal.invalid/payhook', timeoutSeconds: 5 },
    // With filters, as a merchant that wants Stripe's money-in only would configure it.
    loopback: {
      url: `https://127.0.0.1:${port}/payhook`,
      detailTypes: ['payment.succeeded'],
      gateways: ['stripe'],
    },
    // An existing handler behind payhook: every webhook as the gateway sent it, fed by the consumers.
    legacy: { url: 'https://legacy.rehearsal.invalid/webhooks', format: 'original', timeoutSeconds: 5 },
  };
}

interface DestinationQueues {
  readonly url: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly retryHours: number;
}

interface Deliverer {
  readonly stage: Stage;
  readonly fn: StagedFunction;
  readonly instance: FunctionProcess;
  readonly poller: SQSClient;
  readonly tableName: string;
  readonly destinations: ReadonlyMap<string, DestinationQueues>;
}

/** Each destination's queues (from the function's environment, resolved) and settings. */
function destinationsOf(stage: Stage, fn: StagedFunction): Map<string, DestinationQueues> {
  const environment = stage.environmentOf(fn);
  const settings = JSON.parse(environment.PAYHOOK_DESTINATIONS ?? '{}') as Record<
    string,
    { url: string; retryHours: number }
  >;
  const targets = JSON.parse(environment.PAYHOOK_DELIVERY_TARGETS ?? '{}') as Record<
    string,
    { queueUrl: string; deadLetterQueueUrl: string }
  >;
  const arnOf = (queueUrl: string) => {
    const found = resourcesOfType(stage.output.template, 'AWS::SQS::Queue').find(
      ([logicalId]) => stage.ref(logicalId) === queueUrl,
    );
    if (found === undefined) throw new Error(`no queue of the template has the URL ${queueUrl}`);
    return stage.ref(found[0], 'Arn');
  };
  return new Map(
    Object.entries(settings).map(([name, { url, retryHours }]) => {
      const target = targets[name];
      if (target === undefined) throw new Error(`PAYHOOK_DELIVERY_TARGETS has no ${name}`);
      const queueArn = arnOf(target.queueUrl);
      return [name, { url, retryHours, ...target, queueArn }];
    }),
  );
}

function destination(deliverer: Deliverer, name: string): DestinationQueues {
  const found = deliverer.destinations.get(name);
  if (found === undefined) throw new Error(`the stack has no ${name} destination: synthesised without it?`);
  return found;
}

/** A payment event as the consumers publish it (`lambdas/domain/payment-event.ts`). */
function paymentEvent(gateway: 'stripe' | 'paystack', reference: string): PaymentEvent {
  const fact = { type: 'money_in', id: `pi_${reference}`, state: 'succeeded' } as const;
  return {
    version: 1,
    id: paymentEventId(gateway, `${gateway}#pi_${reference}`, fact),
    gateway,
    reference,
    gatewayPaymentId: `pi_${reference}`,
    from: 'pending',
    to: 'succeeded',
    amount: '125000',
    currency: 'NGN',
    exponent: 2,
    status: 'succeeded',
    paid: '125000',
    refunded: '0',
    fact,
    occurredAt: new Date().toISOString(),
    sourceEventId: `evt_${reference}`,
  };
}

/**
 * What EventBridge puts on an SQS target for a rule's match: the whole event, envelope and detail, as JSON (`time` in
 * whole seconds, as EventBridge writes it).
 */
function eventBridgeEnvelope(event: PaymentEvent): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': `payment.${event.to}`,
    source: 'payhook',
    account: REHEARSAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REHEARSAL_REGION,
    resources: [],
    detail: event,
  });
}

/** Puts events on a destination queue as its rule's target would (straight to the emulator, not recorded). */
async function enqueue(deliverer: Deliverer, name: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { MessageId } = await deliverer.stage.account.sqs.send(
      new SendMessageCommand({
        QueueUrl: destination(deliverer, name).queueUrl,
        MessageBody: eventBridgeEnvelope(paymentEvent('stripe', `order-${name}-${randomUUID().slice(0, 8)}`)),
      }),
    );
    ids.push(MessageId ?? '');
  }
  return ids;
}

/** One poll of the destination's queue as its mapping makes it, with the function's role: attributes, then a batch. */
async function poll(deliverer: Deliverer, name: string): Promise<Message[]> {
  const { queueUrl } = destination(deliverer, name);
  await deliverer.poller.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  const { Messages = [] } = await deliverer.poller.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/** The mapping's polls of the destination's queue: the messages with the given ids. */
async function receive(deliverer: Deliverer, name: string, ids: readonly string[]): Promise<Message[]> {
  const received: Message[] = [];
  for (let polls = 0; polls < 5 && received.length < ids.length; polls += 1) {
    received.push(
      ...(await poll(deliverer, name)).filter((message) => ids.includes(message.MessageId ?? '')),
    );
  }
  if (received.length !== ids.length)
    throw new Error(`received ${received.length} of ${ids.length} messages`);
  return received;
}

/** One invocation with the records, as the mapping makes it; the done ones are deleted. The failed ids. */
async function deliver(deliverer: Deliverer, name: string, messages: readonly Message[]): Promise<string[]> {
  const { queueArn, queueUrl } = destination(deliverer, name);
  const result = await deliverer.instance.invoke(sqsEvent(messages, queueArn));
  if (!result.ok)
    throw new Error(`the function failed: ${result.error.errorType}: ${result.error.errorMessage}`);
  const answer = result.value as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null;
  const failed = (answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
  const done = messages.filter((message) => !failed.includes(message.MessageId ?? ''));
  if (done.length > 0) {
    await deliverer.poller.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
  return failed;
}

/** The function's calls of one operation since `before` (a count of its calls), with their statuses. */
function callsSince(deliverer: Deliverer, before: number, operation: string): number[] {
  return deliverer.stage
    .callsOf(deliverer.fn.name)
    .slice(before)
    .filter((call) => call.operation === operation)
    .map((call) => call.status);
}

/** The dead letters now on the destination's DLQ, by error class (read straight from the emulator). */
async function deadLetters(deliverer: Deliverer, name: string): Promise<string[]> {
  const { Messages = [] } = await deliverer.stage.account.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: destination(deliverer, name).deadLetterQueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map((message) => message.MessageAttributes?.errorClass?.StringValue ?? '(no errorClass)');
}

/** The outcomes of the function's `delivery attempt` log lines since `before` (a count of its lines). */
function attemptOutcomes(deliverer: Deliverer, before: number): string[] {
  return deliverer.instance
    .logLines()
    .slice(before)
    .filter((line) => line.message === 'delivery attempt')
    .map(
      (line) => `${String(line.outcome)}${line.failure === undefined ? '' : ` (${String(line.failure)})`}`,
    );
}

async function unreachable(deliverer: Deliverer) {
  const { stage, fn } = deliverer;
  await stage.scenario(
    fn,
    'a host that does not resolve: state, breaker and secret read, failure counted, retried with back-off',
    async () => {
      const calls = stage.callsOf(fn.name).length;
      const lines = deliverer.instance.logLines().length;
      const ids = await enqueue(deliverer, 'unreachable', 1);
      const failed = await deliver(deliverer, 'unreachable', await receive(deliverer, 'unreachable', ids));
      if (failed.length !== 1) throw new Error('not left on the queue to retry');
      // The stop state and the circuit breaker read; the secret; the back-off; the failure counted by the breaker.
      const expected = { GetItem: 2, GetSecretValue: 1, ChangeMessageVisibility: 1, PutItem: 1 };
      for (const [operation, count] of Object.entries(expected)) {
        const statuses = callsSince(deliverer, calls, operation);
        if (statuses.length !== count || statuses.some((status) => status !== 200)) {
          throw new Error(`${operation}: ${statuses.join(', ') || 'none'} (expected ${count} x 200)`);
        }
      }
      if ((await deadLetters(deliverer, 'unreachable')).length > 0) throw new Error('dead-lettered');
      return `${attemptOutcomes(deliverer, lines).join(', ')}; visibility changed for the back-off`;
    },
  );
  await stage.scenario(fn, 'past its retry period: dead-lettered as retries_exhausted', async () => {
    const ids = await enqueue(deliverer, 'unreachable', 1);
    const [message] = await receive(deliverer, 'unreachable', ids);
    if (message === undefined) throw new Error('nothing received');
    // Queued longer ago than the destination's retryHours, as after a day of failed attempts.
    const queuedAt = Date.now() - (destination(deliverer, 'unreachable').retryHours * 3600 + 60) * 1000;
    const old = {
      ...message,
      Attributes: { ...message.Attributes, SentTimestamp: String(queuedAt), ApproximateReceiveCount: '9' },
    };
    if ((await deliver(deliverer, 'unreachable', [old])).length > 0) throw new Error('left on the queue');
    const dead = await deadLetters(deliverer, 'unreachable');
    if (dead.join() !== 'retries_exhausted') throw new Error(`dead letters: ${dead.join(', ') || 'none'}`);
    return 'dead-lettered with errorClass retries_exhausted, deleted from its queue';
  });
}

/** A TCP listener on the loopback destination's port: no connection may reach it. */
async function listen(port: number): Promise<{ connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { connections: () => connections, server };
}

async function loopback(deliverer: Deliverer) {
  const { stage, fn } = deliverer;
  const port = Number(new URL(destination(deliverer, 'loopback').url).port);
  const listener = await listen(port);
  try {
    await stage.scenario(fn, 'loopback on the AWS path: refused, dead-lettered, nothing sent', async () => {
      const ids = await enqueue(deliverer, 'loopback', 1);
      if ((await deliver(deliverer, 'loopback', await receive(deliverer, 'loopback', ids))).length > 0) {
        throw new Error('left on the queue');
      }
      const dead = await deadLetters(deliverer, 'loopback');
      if (dead.join() !== 'refused_address') throw new Error(`dead letters: ${dead.join(', ') || 'none'}`);
      if (listener.connections() > 0)
        throw new Error(`${listener.connections()} connection(s) reached port ${port}`);
      return `dead-lettered as refused_address; port ${port} saw no connection`;
    });
    await stage.scenario(
      fn,
      'stopped destination: records held as delayed copies, none attempted',
      async () => held(deliverer, listener.connections),
    );
  } finally {
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  }
}

/** The stop state `payhook deliveries` and a 410 Gone write: `DESTINATION#<name>`, `STATE`. */
function stopKey(name: string) {
  return { pk: { S: `DESTINATION#${name}` }, sk: { S: 'STATE' } };
}

async function held(deliverer: Deliverer, connections: () => number): Promise<string> {
  const { stage } = deliverer;
  await stage.account.dynamodb.send(
    new PutItemCommand({
      TableName: deliverer.tableName,
      Item: {
        ...stopKey('loopback'),
        stopped: { BOOL: true },
        stoppedAt: { S: new Date().toISOString() },
        reason: { S: 'HTTP 410 Gone (the rehearsal)' },
      },
    }),
  );
  try {
    const calls = stage.callsOf(deliverer.fn.name).length;
    const deadBefore = (await deadLetters(deliverer, 'loopback')).length;
    const ids = await enqueue(deliverer, 'loopback', 2);
    const failed = await deliver(deliverer, 'loopback', await receive(deliverer, 'loopback', ids));
    // Each goes back to its own queue as a delayed copy (fresh receives), and the record counts as handled.
    if (failed.length !== 0)
      throw new Error(`${failed.length} of 2 reported as failed instead of held as copies`);
    const copies = callsSince(deliverer, calls, 'SendMessage');
    if (copies.length !== 2 || copies.some((status) => status !== 200)) {
      throw new Error(`held copies sent: ${copies.join(', ') || 'none'}`);
    }
    if ((await deadLetters(deliverer, 'loopback')).length !== deadBefore) throw new Error('dead-lettered');
    if (connections() > 0) throw new Error('a held record was attempted');
    return '2 held as delayed copies on its own queue; no attempt, no dead letter';
  } finally {
    await stage.account.dynamodb.send(
      new DeleteItemCommand({ TableName: deliverer.tableName, Key: stopKey('loopback') }),
    );
  }
}

/**
 * The original destination's queue holds what the consumers forwarded (each webhook as its gateway sent it, once its
 * event was first applied): delivered as it is, with no signing secret read, and retried with back-off here.
 */
async function originals(deliverer: Deliverer) {
  const { stage, fn } = deliverer;
  await stage.scenario(
    fn,
    'an original destination: what the consumers forwarded, sent as the gateway signed it, retried with back-off',
    async () => {
      const messages = await poll(deliverer, 'legacy');
      if (messages.length === 0)
        throw new Error('the consumers forwarded nothing to the original destination');
      const gateways = new Set(messages.map((message) => readOriginalDelivery(message.Body ?? '').gateway));
      const calls = stage.callsOf(fn.name).length;
      const lines = deliverer.instance.logLines().length;
      const failed = await deliver(deliverer, 'legacy', messages);
      if (failed.length !== messages.length) throw new Error('not left on the queue to retry');
      // No signing secret of payhook's; only the Flutterwave gateway secret, whose verif-hash the original carries as
      // a marker and gets back as it is sent.
      const secretsRead = stage
        .callsOf(fn.name)
        .slice(calls)
        .filter((call) => call.operation === 'GetSecretValue')
        .flatMap((call) => call.permissions.map((permission) => permission.resource));
      const notFlutterwave = secretsRead.filter((arn) => !/flutterwave/i.test(arn));
      if (notFlutterwave.length > 0)
        throw new Error(`read ${notFlutterwave.join(', ')} for an original destination`);
      if (gateways.has('flutterwave') && secretsRead.length === 0) {
        throw new Error(
          'a Flutterwave original was sent without reading the gateway secret for its verif-hash',
        );
      }
      const outcomes = new Set(attemptOutcomes(deliverer, lines));
      return `${messages.length} forwarded (${[...gateways].sort().join(', ')}); ${[...outcomes].join(', ')}; secrets read: ${secretsRead.length} (Flutterwave's, for verif-hash)`;
    },
  );
}

export async function rehearseDeliveries(stage: Stage): Promise<void> {
  const fn = stage.fn(/^Deliveries\/Deliverer$/);
  const instance = await stage.start(fn);
  const poller = stage.eventSourceClient(fn);
  const deliverer: Deliverer = {
    stage,
    fn,
    instance,
    poller,
    tableName: stage.environmentOf(fn).PAYHOOK_PAYMENTS_TABLE ?? '',
    destinations: destinationsOf(stage, fn),
  };
  try {
    await unreachable(deliverer);
    await loopback(deliverer);
    await originals(deliverer);
  } finally {
    poller.destroy();
    await instance.stop();
  }
}
