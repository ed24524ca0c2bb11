import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListRuleNamesByTargetCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type PlanInput,
  planArchiveReplay,
  type ReplayStatus,
  startArchiveReplay,
  waitForReplay,
} from '../../../cli/oncall/archive-replay.js';
import { replayNameOf, selectForReplay } from '../../../cli/oncall/replay.js';
import type { DestinationSettings } from '../../../lambdas/delivery/destinations.js';
import type { PaymentEvent } from '../../../lambdas/domain/payment-event.js';
import type { PublishedRecord } from '../../../lambdas/publishing/file-publisher.js';

// The AWS replay's request, which moto cannot check (its StartReplay ignores the filter and the window): built from
// what EventBridge and SQS answer, here a fake of each.

const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/shop-prod-bus';
const ARCHIVE_ARN = 'arn:aws:events:eu-west-1:123456789012:archive/shop-prod-archive';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:shop-prod-payhook-deliveries-shop';
const RULE_ARN = 'arn:aws:events:eu-west-1:123456789012:rule/shop-prod-bus/shop-prod-DeliveriesshopRule';
const NOW = new Date('2026-11-30T12:00:00Z');

const eventBridgeMock = mockClient(EventBridgeClient);
const sqsMock = mockClient(SQSClient);

const input: PlanInput = {
  busName: 'shop-prod-bus',
  destination: 'shop',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/shop-prod-payhook-deliveries-shop',
  replayName: 'payhook-shop-20261130T120000Z-ab12',
  since: new Date('2026-11-30T08:00:00Z'),
  until: new Date('2026-11-30T11:00:00Z'),
  now: NOW,
};

const plan = (overrides: Partial<PlanInput> = {}) =>
  planArchiveReplay(new EventBridgeClient({}), new SQSClient({}), { ...input, ...overrides });

beforeEach(() => {
  eventBridgeMock.reset();
  sqsMock.reset();
  eventBridgeMock.on(DescribeEventBusCommand).resolves({ Name: 'shop-prod-bus', Arn: BUS_ARN });
  eventBridgeMock.on(ListArchivesCommand).resolves({ Archives: [{ ArchiveName: 'shop-prod-archive' }] });
  eventBridgeMock.on(DescribeArchiveCommand).resolves({
    ArchiveArn: ARCHIVE_ARN,
    EventSourceArn: BUS_ARN,
    State: 'ENABLED',
    RetentionDays: 90,
    EventCount: 1234,
    CreationTime: new Date('2026-01-01T00:00:00Z'),
  });
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: QUEUE_ARN } });
  eventBridgeMock.on(ListRuleNamesByTargetCommand).resolves({ RuleNames: ['shop-prod-DeliveriesshopRule'] });
  eventBridgeMock.on(DescribeRuleCommand).resolves({
    Arn: RULE_ARN,
    State: 'ENABLED',
    EventPattern: '{"source":["payhook"]}',
  });
});

describe('planning an archive replay', () => {
  it("replays the window from the bus's archive back to the bus, through the destination's rule alone", async () => {
    const planned = await plan();
    expect(planned.request).toEqual({
      ReplayName: 'payhook-shop-20261130T120000Z-ab12',
      Description: 'payhook deliveries replay shop',
      EventSourceArn: ARCHIVE_ARN,
      EventStartTime: input.since,
      EventEndTime: input.until,
      Destination: { Arn: BUS_ARN, FilterArns: [RULE_ARN] },
    });
    expect(planned.archive).toMatchObject({ name: 'shop-prod-archive', retentionDays: 90, eventCount: 1234 });
    expect(planned.rule).toMatchObject({ name: 'shop-prod-DeliveriesshopRule', state: 'ENABLED' });
    // The archive of this bus, and the rule found by the destination's queue, on this bus.
    expect(eventBridgeMock.commandCalls(ListArchivesCommand)[0]?.args[0].input).toEqual({
      EventSourceArn: BUS_ARN,
    });
    expect(eventBridgeMock.commandCalls(ListRuleNamesByTargetCommand)[0]?.args[0].input).toEqual({
      TargetArn: QUEUE_ARN,
      EventBusName: 'shop-prod-bus',
    });
    expect(planned.notes).toEqual([]);
    expect(eventBridgeMock.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('notes a window older than the retention or the archive, or too recent to be archived for sure', async () => {
    const planned = await plan({
      since: new Date('2025-06-01T00:00:00Z'),
      until: new Date('2026-11-30T11:55:00Z'),
    });
    expect(planned.notes).toEqual([
      'the archive keeps events 90 days: those published before 2026-09-01T12:00:00.000Z are gone',
      'the archive was created at 2026-01-01T00:00:00.000Z: it holds nothing published earlier',
      expect.stringMatching(
        /^EventBridge can take up to 10 minutes to archive an event: some published after 2026-11-30T11:50:00\.000Z/,
      ),
    ]);
  });

  it('asks which archive when the bus has several, and takes the one named if it is of this bus', async () => {
    eventBridgeMock
      .on(ListArchivesCommand)
      .resolvesOnce({ Archives: [{ ArchiveName: 'a' }], NextToken: 'next' })
      .resolvesOnce({ Archives: [{ ArchiveName: 'b' }] });
    await expect(plan()).rejects.toThrow(
      'event bus shop-prod-bus has 2 archives (a, b): name one with --archive',
    );

    const named = await plan({ archiveName: 'b' });
    expect(named.archive.name).toBe('b');
    expect(eventBridgeMock.commandCalls(DescribeArchiveCommand).at(-1)?.args[0].input).toEqual({
      ArchiveName: 'b',
    });

    eventBridgeMock
      .on(DescribeArchiveCommand)
      .resolves({ ArchiveArn: ARCHIVE_ARN, EventSourceArn: 'arn:other' });
    await expect(plan({ archiveName: 'b' })).rejects.toThrow(
      'archive b is of arn:other, not of shop-prod-bus',
    );
    eventBridgeMock.on(ListArchivesCommand).resolves({ Archives: [] });
    await expect(plan()).rejects.toThrow('event bus shop-prod-bus has no archive: nothing to replay from');
  });

  it('refuses when no rule, several rules or a disabled rule would carry the replay to the queue', async () => {
    eventBridgeMock.on(ListRuleNamesByTargetCommand).resolves({ RuleNames: [] });
    await expect(plan()).rejects.toThrow("no rule on event bus shop-prod-bus targets shop's queue");
    eventBridgeMock.on(ListRuleNamesByTargetCommand).resolves({ RuleNames: ['one', 'two'] });
    await expect(plan()).rejects.toThrow(
      /2 rules on event bus shop-prod-bus target shop's queue \(one, two\)/,
    );
    eventBridgeMock.on(ListRuleNamesByTargetCommand).resolves({ RuleNames: ['one'] });
    eventBridgeMock.on(DescribeRuleCommand).resolves({ Arn: RULE_ARN, State: 'DISABLED' });
    await expect(plan()).rejects.toThrow(
      "shop's rule one is DISABLED: a replay through it would deliver nothing",
    );
  });

  it('says which call failed and why, as the SDK tells it', async () => {
    const denied = Object.assign(new Error('not authorized to perform: events:ListArchives'), {
      name: 'AccessDeniedException',
    });
    eventBridgeMock.on(ListArchivesCommand).rejects(denied);
    await expect(plan()).rejects.toThrow(
      'cannot list the archives of shop-prod-bus: AccessDeniedException: not authorized to perform: events:ListArchives',
    );
  });
});

describe('starting and following a replay', () => {
  it('sends the planned request, then follows DescribeReplay until a final state, reporting each change', async () => {
    const planned = await plan();
    eventBridgeMock.on(StartReplayCommand).resolves({ State: 'STARTING' });
    eventBridgeMock
      .on(DescribeReplayCommand)
      .resolvesOnce({ State: 'STARTING' })
      .resolvesOnce({ State: 'RUNNING', EventLastReplayedTime: new Date('2026-11-30T09:00:00Z') })
      .resolvesOnce({ State: 'RUNNING', EventLastReplayedTime: new Date('2026-11-30T09:00:00Z') })
      .resolves({ State: 'COMPLETED', ReplayEndTime: new Date('2026-11-30T12:05:00Z') });
    const eventBridge = new EventBridgeClient({});
    const started = await startArchiveReplay(eventBridge, planned);
    expect(eventBridgeMock.commandCalls(StartReplayCommand)[0]?.args[0].input).toEqual(planned.request);
    expect(started).toEqual({ name: 'payhook-shop-20261130T120000Z-ab12', state: 'STARTING' });
    const seen: ReplayStatus[] = [];
    const final = await waitForReplay(eventBridge, started, {
      intervalMs: 0,
      onProgress: (each) => seen.push(each),
    });
    expect(final).toMatchObject({ state: 'COMPLETED', replayEndTime: '2026-11-30T12:05:00.000Z' });
    expect(seen.map((each) => each.state)).toEqual(['RUNNING', 'COMPLETED']);
  });
});

describe('the local replay', () => {
  const settings: DestinationSettings = {
    url: 'http://127.0.0.1:4000/hooks',
    format: 'payment-event',
    gateways: ['stripe'],
    timeoutSeconds: 10,
    retryHours: 24,
    maxConcurrency: 2,
    allowPrivateNetwork: false,
  };
  const record = (id: string, gateway: string, publishedAt: string): PublishedRecord => ({
    detailType: 'payment.succeeded',
    source: 'payhook',
    detail: { id, gateway } as unknown as PaymentEvent,
    publishedAt,
  });

  it('takes what was published in [since, until) that the destination takes', () => {
    const records = [
      record('before', 'stripe', '2026-11-30T07:59:59.999Z'),
      record('at-since', 'stripe', '2026-11-30T08:00:00.000Z'),
      record('other-gateway', 'paystack', '2026-11-30T09:00:00.000Z'),
      record('at-until', 'stripe', '2026-11-30T11:00:00.000Z'),
    ];
    const selected = selectForReplay(records, settings, { since: input.since, until: input.until });
    expect(selected.map((each) => each.detail.id)).toEqual(['at-since']);
  });

  it('names a replay within EventBridge’s 64 characters, even for the longest destination name', () => {
    const name = replayNameOf('a'.repeat(32), NOW);
    expect(name).toMatch(/^payhook-a{32}-20261130T120000Z-[0-9a-f]{4}$/);
    expect(name.length).toBeLessThanOrEqual(64);
  });
});
