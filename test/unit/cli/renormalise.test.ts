import { describe, expect, it } from 'vitest';
import {
  gatewaySettingsFromEnv,
  type ParkedWebhook,
  planRenormalise,
  readParkedWebhook,
} from '../../../cli/oncall/renormalise.js';
import { readSample } from '../../../events/index.js';
import type { GatewayName } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS, parseGatewaySettings } from '../../../lambdas/gateways/settings.js';
import { unparseableWebhook } from '../../../lambdas/intake/unparseable-webhook.js';
import { sqsSafeJson } from '../../../lambdas/messages/sqs-text.js';

const DEFAULTS = parseGatewaySettings(undefined);
const RECEIVED_AT = new Date('2026-11-20T10:15:20.000Z');

/** A parked webhook as ingest writes its message body, read back as renormalise reads it. */
function parked(
  gateway: GatewayName,
  payload: string | Buffer,
  reason = 'an older adapter could not read it',
  errorClass?: 'batch_too_large',
): ParkedWebhook {
  const body = sqsSafeJson(
    unparseableWebhook(
      gateway,
      {
        headers: { 'content-type': 'application/json', 'x-paystack-signature': 'never kept' },
        body: Buffer.from(payload),
        receivedAt: RECEIVED_AT,
        requestId: 'req-unit',
      },
      { reason, payload, ...(errorClass && { errorClass }) },
    ),
  );
  const read = readParkedWebhook(body);
  if ('problem' in read) throw new Error(read.problem);
  return read;
}

/** One Adyen item exactly as the adapter writes an item's text (what ingest parks for one unreadable item). */
function adyenItemText(index: number): string {
  const batch = readSample('adyen', 'batch');
  const { events } = ADAPTERS.adyen.normalise(
    { headers: {}, body: Buffer.from(batch), receivedAt: RECEIVED_AT, requestId: 'req-sample' },
    DEFAULT_GATEWAY_SETTINGS,
  );
  const payload = events[index]?.payload;
  if (payload === undefined) throw new Error(`no item ${index} in the Adyen batch sample`);
  return payload;
}

describe('readParkedWebhook', () => {
  it('gives back the exact bytes, base64 decoded, with the kept headers, time and request id', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const webhook = parked('paystack', bytes);
    expect(webhook.bytes.equals(bytes)).toBe(true);
    expect(webhook.headers).toEqual({ 'content-type': 'application/json' });
    expect(webhook).toMatchObject({
      gateway: 'paystack',
      errorClass: 'unparseable_payload',
      errorMessage: 'an older adapter could not read it',
      receivedAt: RECEIVED_AT,
      requestId: 'req-unit',
    });
  });

  it.each([
    ['not JSON', '{nope', /not JSON/],
    ['another message type', JSON.stringify({ messageType: 'webhook-event', version: 3 }), /not a parked/],
    [
      'an unknown version',
      JSON.stringify({ messageType: 'unparseable-webhook', version: 2 }),
      /version 2 is not one/,
    ],
    [
      'an unknown gateway',
      JSON.stringify({ messageType: 'unparseable-webhook', version: 1, gateway: 'paypal' }),
      /no adapter for gateway "paypal"/,
    ],
    [
      'a payload that is not base64',
      JSON.stringify({
        messageType: 'unparseable-webhook',
        version: 1,
        gateway: 'stripe',
        payload: 'not*base64!',
        payloadEncoding: 'base64',
        headers: {},
        receivedAt: RECEIVED_AT.toISOString(),
        requestId: 'r',
      }),
      /not valid base64/,
    ],
  ])('says why it cannot read %s', (_what, body, problem) => {
    const read = readParkedWebhook(body);
    expect('problem' in read && read.problem).toMatch(problem);
  });
});

describe('planRenormalise', () => {
  it('queues what the current adapter reads, with the request id and time it was received', () => {
    const sample = readSample('paystack', 'charge.success');
    const plan = planRenormalise(parked('paystack', sample), DEFAULTS);
    expect(plan.action).toBe('queue');
    if (plan.action !== 'queue') return;
    expect(plan.repark).toEqual([]);
    expect(plan.events).toHaveLength(1);
    expect(plan.events[0]).toMatchObject({
      gateway: 'paystack',
      eventType: 'charge.success',
      priority: 'high',
      requestId: 'req-unit',
      receivedAt: RECEIVED_AT.toISOString(),
      payload: sample,
    });
  });

  it('leaves a body that still fails for the same reason as it is, and parks one with a new reason again', () => {
    const current = 'body is not JSON';
    const same = planRenormalise(parked('paystack', '<xml/>'), DEFAULTS);
    expect(same.action).toBe('queue');
    if (same.action !== 'queue') return;
    expect(same.events).toEqual([]);
    expect(same.repark).toHaveLength(1);
    expect(same.repark[0]?.reason).toMatch(/^body is not JSON/);
    expect(Buffer.from(same.repark[0]?.payload ?? '').toString()).toBe('<xml/>');

    const reason = same.repark[0]?.reason ?? current;
    expect(planRenormalise(parked('paystack', '<xml/>', reason), DEFAULTS)).toEqual({
      action: 'unchanged',
      reason,
    });
  });

  it('reads a non-UTF-8 body from its exact bytes: still unparseable, for that reason', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"event":"charge.success","data":{"name":"'),
      Buffer.from([0xff]),
    ]);
    expect(planRenormalise(parked('paystack', bytes, 'body is not valid UTF-8'), DEFAULTS)).toEqual({
      action: 'unchanged',
      reason: 'body is not valid UTF-8',
    });
  });

  it('keeps a validly signed empty body parked, as ingest does', () => {
    const reason = 'validly signed, but the body is empty';
    expect(planRenormalise(parked('stripe', '', reason), DEFAULTS)).toEqual({ action: 'unchanged', reason });
  });

  it('holds a gateway the settings disable, and test-mode events where the settings refuse test mode', () => {
    const sample = readSample('paystack', 'charge.success');
    expect(
      planRenormalise(parked('paystack', sample), parseGatewaySettings('{"enabled":["stripe"]}')),
    ).toEqual({ action: 'held', reason: 'Paystack is not enabled in these gateway settings' });
    const refused = planRenormalise(
      parked('paystack', sample),
      parseGatewaySettings('{"acceptTestMode":false}'),
    );
    expect(refused.action).toBe('held');
    expect(refused.action === 'held' && refused.reason).toMatch(/refuse test mode/);
  });

  it('makes every Flutterwave event an unverified claim: the parked body does not say which scheme verified it', () => {
    const plan = planRenormalise(
      parked('flutterwave', readSample('flutterwave', 'charge.completed')),
      DEFAULTS,
    );
    expect(plan.action).toBe('queue');
    if (plan.action !== 'queue') return;
    expect(plan.events).toHaveLength(1);
    expect(plan.events[0]).toMatchObject({ kind: 'payment.authorized', needsConfirmation: true });
    expect(plan.events[0]?.eventId).toMatch(/^payhook:claim:/);
    expect(plan.events[0]?.gatewayPaymentId).toBeUndefined();
  });

  it('keeps an event whose identifier no DynamoDB key can hold parked, as key_too_large', () => {
    const sample = readSample('paystack', 'charge.success').replace('ORDER-1001', 'R'.repeat(3000));
    const plan = planRenormalise(parked('paystack', sample), DEFAULTS);
    expect(plan.action).toBe('queue');
    if (plan.action !== 'queue') return;
    expect(plan.events).toEqual([]);
    expect(plan.repark).toEqual([
      expect.objectContaining({
        errorClass: 'key_too_large',
        reason: expect.stringMatching(/^reference is 3000 bytes/),
      }),
    ]);
  });

  it('reads one parked Adyen item in a batch of one, so it queues with the same text, and keeps its place in reasons', () => {
    const item = adyenItemText(0);
    const fixed = planRenormalise(
      parked('adyen', item, 'notificationItems[4]: an older adapter failed'),
      DEFAULTS,
    );
    expect(fixed.action).toBe('queue');
    if (fixed.action !== 'queue') return;
    expect(fixed.events.map((event) => [event.eventType, event.priority, event.payload])).toEqual([
      ['AUTHORISATION', 'high', item],
    ]);

    const broken = item.replace('"pspReference"', '"pspRef"');
    const reason = 'notificationItems[4]: NotificationRequestItem has no eventCode or no pspReference';
    expect(planRenormalise(parked('adyen', broken, reason), DEFAULTS)).toEqual({
      action: 'unchanged',
      reason,
    });
  });

  it('queues the good items of an Adyen batch and parks the bad ones again, each with its own reason', () => {
    const good = [adyenItemText(0), adyenItemText(1)].map((text) => JSON.parse(text).NotificationRequestItem);
    const batch = JSON.stringify({
      live: 'false',
      notificationItems: [
        { NotificationRequestItem: good[0] },
        { NotificationRequestItem: { ...good[1], pspReference: undefined } },
        { NotificationRequestItem: good[1] },
      ],
    });
    const plan = planRenormalise(
      parked('adyen', batch, '3 distinct notification items past the first 100', 'batch_too_large'),
      DEFAULTS,
    );
    expect(plan.action).toBe('queue');
    if (plan.action !== 'queue') return;
    expect(plan.events.map((event) => event.eventType)).toEqual(['AUTHORISATION', 'REFUND']);
    expect(plan.repark).toEqual([
      expect.objectContaining({
        reason: 'notificationItems[1]: NotificationRequestItem has no eventCode or no pspReference',
      }),
    ]);
    expect(plan.repark[0]?.errorClass).toBeUndefined();
  });
});

describe('gatewaySettingsFromEnv', () => {
  it('reads PAYHOOK_GATEWAY_SETTINGS and PAYHOOK_ACCEPT_TEST_MODE as ingest does, else the defaults', () => {
    expect(gatewaySettingsFromEnv({}).source).toBe('defaults');
    const chosen = gatewaySettingsFromEnv({
      PAYHOOK_GATEWAY_SETTINGS: '{"adyen":{"captureMode":"manual"}}',
      PAYHOOK_ACCEPT_TEST_MODE: 'false',
    });
    expect(chosen.source).toBe('PAYHOOK_GATEWAY_SETTINGS');
    expect(chosen.settings.paystack.acceptTestMode).toBe(false);
  });

  it('refuses settings ingest would refuse to start with, naming the variable', () => {
    expect(() => gatewaySettingsFromEnv({ PAYHOOK_GATEWAY_SETTINGS: '{"paystak":{}}' })).toThrow(
      /^PAYHOOK_GATEWAY_SETTINGS: .*unknown key "paystak"/,
    );
    expect(() => gatewaySettingsFromEnv({ PAYHOOK_ACCEPT_TEST_MODE: 'maybe' })).toThrow(
      /^PAYHOOK_ACCEPT_TEST_MODE: /,
    );
  });
});
