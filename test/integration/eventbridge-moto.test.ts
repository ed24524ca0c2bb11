import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLIENT_SETTINGS } from '../../lambdas/composition/client-settings.js';
import { AwsClients } from '../../lambdas/composition/clients.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { FactRef } from '../../lambdas/domain/payment.js';
import { moneyFields, type PaymentEvent, paymentEventId } from '../../lambdas/domain/payment-event.js';
import { EventBridgePublisher } from '../../lambdas/publishing/eventbridge-publisher.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';

const BUS = 'payhook-payments';

function paymentEvent(sourceEventId: string, to: 'succeeded' | 'partially_refunded'): PaymentEvent {
  const fact: FactRef =
    to === 'succeeded'
      ? { type: 'money_in', id: 'pi_3Qx', state: 'received' }
      : { type: 'refund', id: `re_${sourceEventId}`, state: 'succeeded' };
  return {
    version: 1,
    id: paymentEventId('stripe', 'pi_3Qx', fact),
    gateway: 'stripe',
    reference: 'order-5512',
    gatewayPaymentId: 'pi_3Qx',
    from: to === 'succeeded' ? 'authorized' : 'succeeded',
    to,
    ...moneyFields(moneyFromMinor(to === 'succeeded' ? '4999' : '1000', 'USD')),
    status: to,
    paid: '4999',
    refunded: to === 'succeeded' ? '0' : '1000',
    fact,
    occurredAt: '2026-11-24T10:00:00.000Z',
    sourceEventId,
  };
}

/** Reads until `count` messages arrived or the attempts run out; moto delivers synchronously, so this is quick. */
async function receive(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let attempt = 0; attempt < 10 && messages.length < count; attempt += 1) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...(answer.Messages ?? []));
  }
  return messages;
}

describe.runIf(hasMotoServer)('EventBridgePublisher against EventBridge (moto_server)', () => {
  let moto: MotoServer;
  let eventBridge: EventBridgeClient;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMotoServer();
    eventBridge = new EventBridgeClient({ endpoint: moto.endpoint });
    sqs = new SQSClient({ endpoint: moto.endpoint, useQueueUrlAsEndpoint: false });
    await eventBridge.send(new CreateEventBusCommand({ Name: BUS }));
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'payment-events' }));
    if (created.QueueUrl === undefined) throw new Error('moto returned no queue URL');
    queueUrl = created.QueueUrl;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await eventBridge.send(
      new PutRuleCommand({
        Name: 'payhook-to-queue',
        EventBusName: BUS,
        EventPattern: JSON.stringify({ source: ['payhook'] }),
      }),
    );
    await eventBridge.send(
      new PutTargetsCommand({
        Rule: 'payhook-to-queue',
        EventBusName: BUS,
        Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }],
      }),
    );
  });

  afterAll(async () => {
    eventBridge?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  it('delivers published events to a queue targeted by a rule on the payhook source', async () => {
    const publisher = new EventBridgePublisher(eventBridge, BUS);
    const succeeded = paymentEvent('evt_1', 'succeeded');
    const refunded = paymentEvent('evt_2', 'partially_refunded');

    await publisher.publish(succeeded);
    await publisher.publish(refunded);

    const delivered = (await receive(sqs, queueUrl, 2)).map(
      (message) => JSON.parse(message.Body ?? 'null') as Record<string, unknown>,
    );
    expect(delivered).toHaveLength(2);
    const byType = new Map(delivered.map((event) => [event['detail-type'], event]));
    expect(byType.get('payment.succeeded')).toMatchObject({ source: 'payhook', detail: succeeded });
    expect(byType.get('payment.partially_refunded')).toMatchObject({ source: 'payhook', detail: refunded });
  });

  it("reaches the endpoint named by AWS_ENDPOINT_URL_EVENTBRIDGE through the composition's client", async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', moto.endpoint);
    const client = new AwsClients('consumer').eventBridge();
    try {
      expect(await client.config.maxAttempts()).toBe(CLIENT_SETTINGS.consumer.maxAttempts);
      const event = paymentEvent('evt_3', 'succeeded');
      await new EventBridgePublisher(client, BUS).publish(event);
      const delivered = await receive(sqs, queueUrl, 1);
      expect(delivered.map((message) => JSON.parse(message.Body ?? 'null').detail)).toEqual([event]);
    } finally {
      client.destroy();
      vi.unstubAllEnvs();
    }
  });
});
