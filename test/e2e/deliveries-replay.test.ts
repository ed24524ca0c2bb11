import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, type Message, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import { createTables, tableNames } from '../../local/tables.js';
import { runPayhook, runPayhookOnStack } from '../support/cli.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';
import {
  eventually,
  type MerchantEndpoint,
  type ReceivedDelivery,
  startMerchantEndpoint,
} from '../support/merchant-endpoint.js';
import { createStackWithOutputs, hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';
import { drain } from '../support/sqs-emulator.js';

// `payhook deliveries replay`, end to end. Locally: a merchant's endpoint that was broken (it refused everything with
// a 400, so every event was dead-lettered) is fixed, and a replay of the window delivers the events again from the
// events file, signed, with the webhook-ids of the first attempts; --type and --gateway narrow it, --dry-run sends
// nothing, and another destination sees none of it. On a deployed stack (moto): an EventBridge replay from the bus's
// archive through the destination's rule, found from the stack's outputs.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LocalReplayJson {
  readonly dryRun: boolean;
  readonly replayName?: string;
  readonly count: number;
  readonly byType: readonly { type: string; count: number }[];
  readonly first?: string;
  readonly last?: string;
  readonly sent?: number;
  readonly notes: readonly string[];
}

const webhookIdsOf = (received: readonly ReceivedDelivery[]) =>
  received.map((each) => each.headers['webhook-id'] ?? '').sort();

describe('payhook deliveries replay on the local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'payhook-replay-e2e-'));
  const cli = (...args: string[]) => runPayhook(dataDir, ...args);
  const started = new Date(Date.now() - 1000);
  let stack: LocalStack;
  let shop: MerchantEndpoint;
  let ledger: MerchantEndpoint;
  /** What `shop` saw before it was fixed: one refused attempt per event, and so the webhook-ids it missed. */
  let missed: ReceivedDelivery[];

  async function replayJson(...args: string[]): Promise<LocalReplayJson> {
    const run = await cli('deliveries', 'replay', 'shop', '--json', ...args);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as LocalReplayJson;
  }

  async function deadLetters(): Promise<number> {
    const run = await cli('deliveries', 'status', '--json');
    const status = JSON.parse(run.stdout) as { destinations: { destination: string; deadLetters: number }[] };
    return status.destinations.find((each) => each.destination === 'shop')?.deadLetters ?? -1;
  }

  beforeAll(async () => {
    shop = await startMerchantEndpoint(400);
    ledger = await startMerchantEndpoint(200);
    stack = await startTestStack(dataDir, {
      destinations: {
        // shop takes no Razorpay events: its rule (locally, the fan-out) never gave it any, nor does a replay.
        shop: { url: shop.url, gateways: ['paystack', 'stripe'] },
        ledger: { url: ledger.url },
      },
    });
    for (const [gateway, sample] of [
      ['paystack', undefined],
      ['stripe', undefined],
      ['stripe', 'charge.refunded'],
      ['razorpay', undefined],
    ] as const) {
      const sent = await cli('send', gateway, ...(sample ? [sample] : []));
      expect(sent.code, sent.stderr).toBe(0);
    }
    await eventually(
      async () => ((await deadLetters()) === 3 ? true : undefined),
      "shop's three dead letters",
    );
    await eventually(() => (ledger.received.length === 4 ? true : undefined), "ledger's four deliveries");
    missed = [...shop.received];
    expect(missed).toHaveLength(3);
  });

  afterAll(async () => {
    await stopTestStack(stack, 2000);
    await shop?.close();
    await ledger?.close();
  });

  it('a dry run counts what the destination would get, by type, and sends nothing', async () => {
    const dry = await replayJson('--since', '1h', '--dry-run');
    expect(dry).toMatchObject({
      dryRun: true,
      count: 3,
      byType: [
        { type: 'payment.succeeded', count: 2 },
        { type: 'payment.partially_refunded', count: 1 },
      ],
      first: expect.stringMatching(/Z$/),
      last: expect.stringMatching(/Z$/),
    });
    expect(dry.replayName).toBeUndefined();
    expect(Date.parse(dry.first ?? '')).toBeGreaterThanOrEqual(started.getTime());

    const text = await cli('deliveries', 'replay', 'shop', '--since', '1h', '--dry-run');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^dry run on shop in local stack at ${stack.url}: would replay 3 event\\(s\\) published \\S+Z to \\S+Z; nothing was sent\n`,
      ),
    );
    expect(text.stdout).toMatch(/\n {2}payment\.succeeded +2\n {2}payment\.partially_refunded +1\n/);

    await pause(1000);
    expect(shop.received).toHaveLength(3);
    expect(ledger.received).toHaveLength(4);
  });

  it('narrows by --type, --gateway and --until, in ISO time or relative, and says when a filter excludes all', async () => {
    const count = async (...args: string[]) => (await replayJson('--dry-run', ...args)).count;
    expect(await count('--since', '1h', '--type', 'payment.partially_refunded')).toBe(1);
    expect(await count('--since', '1h', '--gateway', 'paystack')).toBe(1);
    expect(await count('--since', '1h', '--gateway', 'stripe', '--type', 'payment.succeeded')).toBe(1);
    expect(await count('--since', started.toISOString())).toBe(3);
    expect(await count('--since', '1h', '--until', started.toISOString())).toBe(0);
    const excluded = await replayJson('--dry-run', '--since', '1h', '--gateway', 'razorpay');
    expect(excluded.count).toBe(0);
    expect(excluded.notes).toEqual(["shop does not take razorpay's events (its gateways: paystack, stripe)"]);

    const badType = await cli('deliveries', 'replay', 'shop', '--since', '1h', '--type', 'charge.success');
    expect(badType.code).not.toBe(0);
    expect(badType.stderr).toContain('one of payment.');
    const noSince = await cli('deliveries', 'replay', 'shop');
    expect(noSince.code).not.toBe(0);
    expect(noSince.stderr).toContain("required option '--since <when>' not specified");
    const reversed = await cli('deliveries', 'replay', 'shop', '--since', '1m', '--until', '2h');
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/^error: --since \(\S+\) must be before --until/);
    const archive = await cli('deliveries', 'replay', 'shop', '--since', '1h', '--archive', 'x');
    expect(archive.stderr).toContain('--archive names an archive of a deployed stack');
  });

  it('once the endpoint is fixed, --gateway replays only that gateway’s event, signed, with its original webhook-id', async () => {
    shop.status = 200;
    const paystack = missed.find((each) => each.body.includes('"gateway":"paystack"'));
    const run = await replayJson('--since', '1h', '--gateway', 'paystack');
    expect(run).toMatchObject({
      dryRun: false,
      count: 1,
      sent: 1,
      replayName: expect.stringMatching(/^payhook-shop-/),
    });
    const delivered = await eventually(() => shop.received[3], 'the replayed paystack event');
    expect(delivered.headers['webhook-id']).toBe(paystack?.headers['webhook-id']);
    // The same event the refused attempt carried. Its `timestamp` is the publish time the events file kept, which the
    // local fan-out stamped a moment later: the same second, but for one that straddles a second's end.
    const [body, first] = [delivered.body, paystack?.body ?? '{}'].map(
      (text) => JSON.parse(text) as { type: string; timestamp: string; data: unknown },
    );
    expect({ type: body?.type, data: body?.data }).toEqual({ type: first?.type, data: first?.data });
    expect(
      Math.abs(Date.parse(body?.timestamp ?? '') - Date.parse(first?.timestamp ?? '')),
    ).toBeLessThanOrEqual(1000);
    expect(
      new Webhook(stack.deliveries.signingSecret.secret).verify(delivered.body, delivered.headers),
    ).toMatchObject({ type: 'payment.succeeded', data: { gateway: 'paystack', reference: 'ORDER-1001' } });
    await pause(500);
    expect(shop.received).toHaveLength(4);
  });

  it('replays the whole window to that destination alone: every missed webhook-id, and nothing to the others', async () => {
    const text = await cli('deliveries', 'replay', 'shop', '--since', started.toISOString());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^replay payhook-shop-\\d{8}T\\d{6}Z-[0-9a-f]{4} on shop in local stack at ${stack.url}: queued 3 of 3 event\\(s\\) published \\S+ to \\S+; failed 0\n`,
      ),
    );
    expect(text.stdout).toContain('each with its original webhook-id');
    await eventually(() => (shop.received.length === 7 ? true : undefined), 'the three replayed events');
    const replayed = shop.received.slice(4);
    expect(webhookIdsOf(replayed)).toEqual(webhookIdsOf(missed));
    const webhook = new Webhook(stack.deliveries.signingSecret.secret);
    for (const each of replayed) expect(() => webhook.verify(each.body, each.headers)).not.toThrow();
    await pause(500);
    expect(ledger.received).toHaveLength(4);
    expect(shop.received).toHaveLength(7);
    // Replay is not redrive: the dead letters stay until redriven or purged (a redrive now would be deduped).
    expect(await deadLetters()).toBe(3);
  });
});

// `--stack`: the replay EventBridge runs, in moto. moto's StartReplay replays synchronously, to every rule on the bus
// whatever `FilterArns` and the window say, so this shows what is found and asked for and that the events come back
// with their ids; `test/unit/cli/archive-replay.test.ts` checks the request itself (the filter, the times).
describe.runIf(hasMotoServer)('payhook deliveries replay --stack (moto_server)', () => {
  let moto: MotoServer;
  let queueUrl: string;
  const remote = (...args: string[]) =>
    runPayhookOnStack(moto.endpoint, 'shop-prod', 'deliveries', 'replay', 'shop-eu', ...args);

  const detailIdsOf = (messages: readonly Message[]) =>
    messages.map((each) => (JSON.parse(each.Body ?? '{}') as { detail: { id: string } }).detail.id).sort();

  beforeAll(async () => {
    moto = await startMotoServer();
    const sqs = new SQSClient({ ...moto.clientConfig, useQueueUrlAsEndpoint: false });
    const eventBridge = new EventBridgeClient(moto.clientConfig);
    const dynamo = new DynamoDBClient(moto.clientConfig);
    try {
      const queue = async (name: string) =>
        (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
      queueUrl = await queue('shop-prod-payhook-deliveries-shop-eu');
      const deadLetterQueueUrl = await queue('shop-prod-payhook-deliveries-shop-eu-dlq');
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const bus = 'shop-prod-payhook-events';
      const { EventBusArn } = await eventBridge.send(new CreateEventBusCommand({ Name: bus }));
      await eventBridge.send(
        new CreateArchiveCommand({
          ArchiveName: 'shop-prod-payment-events',
          EventSourceArn: EventBusArn,
          EventPattern: JSON.stringify({ source: ['payhook'] }),
          RetentionDays: 90,
        }),
      );
      await eventBridge.send(
        new PutRuleCommand({
          Name: 'shop-prod-DeliveriesshopeuRule',
          EventBusName: bus,
          EventPattern: JSON.stringify({ source: ['payhook'], 'detail-type': [{ prefix: 'payment.' }] }),
        }),
      );
      await eventBridge.send(
        new PutTargetsCommand({
          Rule: 'shop-prod-DeliveriesshopeuRule',
          EventBusName: bus,
          Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }],
        }),
      );
      await createTables(dynamo, tableNames('shop-prod'));
      const outputs = {
        PaymentsTableName: tableNames('shop-prod').payments,
        EventBusName: bus,
        DeliveryQueueUrlshopeu: queueUrl,
        DeliveryDlqUrlshopeu: deadLetterQueueUrl,
      };
      await createStackWithOutputs(moto, 'shop-prod', outputs);
      // Two payment events on the bus: archived, and queued for shop-eu, whose endpoint then missed them.
      await eventBridge.send(
        new PutEventsCommand({
          Entries: ['evt-aws-1', 'evt-aws-2'].map((id) => ({
            EventBusName: bus,
            Source: 'payhook',
            DetailType: 'payment.succeeded',
            Detail: JSON.stringify({ id, gateway: 'stripe', reference: `ORDER-${id}` }),
          })),
        }),
      );
      expect(detailIdsOf(await drain(sqs, queueUrl))).toEqual(['evt-aws-1', 'evt-aws-2']);
    } finally {
      sqs.destroy();
      eventBridge.destroy();
      dynamo.destroy();
    }
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('a dry run shows the archive, the rule and the StartReplay request, and starts nothing', async () => {
    const run = await remote('--since', '2h', '--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^dry run on shop-eu in stack shop-prod \(us-east-1\): would replay the events published \S+Z to \S+Z from the archive, through its rule alone; nothing was started\n/,
    );
    expect(run.stdout).toMatch(
      /archive {2}shop-prod-payment-events: ENABLED, kept 90 days, about 2 event\(s\)/,
    );
    expect(run.stdout).toMatch(/rule {5}shop-prod-DeliveriesshopeuRule \(ENABLED\): /);
    expect(run.stdout).toMatch(
      /"FilterArns": \[\n\s+"arn:aws:events:us-east-1:\d{12}:rule\/shop-prod-payhook-events\/shop-prod-DeliveriesshopeuRule"/,
    );
    expect(run.stdout).toContain('note: EventBridge can take up to 10 minutes to archive an event');
    const sqs = new SQSClient({ ...moto.clientConfig, useQueueUrlAsEndpoint: false });
    try {
      expect(await drain(sqs, queueUrl)).toEqual([]);
    } finally {
      sqs.destroy();
    }
  });

  it('refuses --type and --gateway, which an archive replay through the rule cannot honour', async () => {
    const run = await remote('--since', '2h', '--type', 'payment.refunded');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: --type and --gateway cannot narrow a replay on a deployed stack/);
  });

  it('starts the replay and, with --wait, follows it until it completes: the events come back with their ids', async () => {
    const run = await remote('--since', '2h', '--wait');
    expect(run.code, run.stderr).toBe(0);
    const name = /^replay (payhook-shop-eu-\S+) on shop-eu in stack shop-prod/.exec(run.stdout)?.[1];
    expect(name).toBeDefined();
    expect(run.stdout).toMatch(
      /from archive shop-prod-payment-events through rule shop-prod-DeliveriesshopeuRule\n/,
    );
    expect(run.stdout).toMatch(/\n {2}COMPLETED/);
    const sqs = new SQSClient({ ...moto.clientConfig, useQueueUrlAsEndpoint: false });
    try {
      const replayed = await drain(sqs, queueUrl);
      expect(detailIdsOf(replayed)).toEqual(['evt-aws-1', 'evt-aws-2']);
      expect(
        replayed.map((each) => (JSON.parse(each.Body ?? '{}') as Record<string, unknown>)['replay-name']),
      ).toEqual([name, name]);
    } finally {
      sqs.destroy();
    }

    const json = await remote('--since', '2h', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      destination: 'shop-eu',
      dryRun: false,
      request: { Destination: { FilterArns: [expect.stringMatching(/rule\/shop-prod-payhook-events\//)] } },
      replay: { name: expect.stringMatching(/^payhook-shop-eu-/), state: expect.any(String) },
    });
  });
});
