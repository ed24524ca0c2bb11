import { createHmac } from 'node:crypto';
import { hmacValidator } from '@adyen/api-library';
import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { signAdyen } from '../../../events/adyen/sign.js';
import { devSecret, readSample } from '../../../events/index.js';
import { ADYEN_MAX_BATCH_ITEMS, adyen } from '../../../lambdas/gateways/adyen.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const KEY = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';
const OTHER_KEY = 'FA4E0DE5FA4E0DE5FA4E0DE5FA4E0DE5FA4E0DE5FA4E0DE5FA4E0DE5FA4E0DE5';
const settings = DEFAULT_GATEWAY_SETTINGS;
const manual = { ...settings, adyenCaptureMode: 'manual' as const };

/** The item of providers.md §7g, the one behind Adyen's widely used test vector. */
const VECTOR_ITEM = {
  eventCode: 'AUTHORISATION',
  success: 'true',
  pspReference: '7914073381342284',
  merchantAccountCode: 'TestMerchant',
  merchantReference: 'TestPayment-1407325143704',
  amount: { value: 1130, currency: 'EUR' },
};
const VECTOR_SIGNATURE = 'coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=';

type Item = Record<string, unknown>;
/** The library types items with enums; the samples are plain JSON of the same shape. */
type LibraryItem = Parameters<hmacValidator['validateHMAC']>[0];

function notification(...items: Item[]): string {
  return JSON.stringify({
    live: 'false',
    notificationItems: items.map((item) => ({ NotificationRequestItem: item })),
  });
}

/** Signs a notification the way Adyen does (every item) and wraps it as a request. */
function signed(body: string, key = KEY) {
  const { body: signedBody, headers } = signAdyen(body, { secret: key });
  return webhookRequest(signedBody, headers);
}

function itemsOf(body: Buffer | string): Item[] {
  const parsed = JSON.parse(body.toString()) as { notificationItems: { NotificationRequestItem: Item }[] };
  return parsed.notificationItems.map((entry) => entry.NotificationRequestItem);
}

function item(eventCode: string, success: string, extra: Item = {}): Item {
  return {
    eventCode,
    success,
    pspReference: 'PSP0000000000001',
    merchantAccountCode: 'PayhookTestMerchantECOM',
    merchantReference: 'ORDER-2099',
    amount: { value: 1000, currency: 'EUR' },
    eventDate: '2026-11-20T11:15:19+01:00',
    ...extra,
  };
}

describe('Gateway: adyen', () => {
  describe('verify', () => {
    it('matches the documented test vector', () => {
      const request = signed(notification(VECTOR_ITEM));
      const [signedItem] = itemsOf(request.body);
      expect(signedItem?.additionalData).toEqual({ hmacSignature: VECTOR_SIGNATURE });
      expect(adyen.verify(request, secretOf(KEY), settings)).toEqual({ ok: true });
      const lowerCaseKey = secretOf(KEY.toLowerCase());
      expect(adyen.verify(request, lowerCaseKey, settings).ok).toBe(true);
    });

    it.each(['AUTHORISATION', 'AUTHORISATION.failed', 'CAPTURE', 'REFUND', 'CHARGEBACK', 'batch'])(
      'signs the %s sample exactly as the official @adyen/api-library computes it, and accepts its signatures',
      (sample) => {
        const validator = new hmacValidator();
        const request = signed(readSample('adyen', sample));
        for (const signedItem of itemsOf(request.body)) {
          expect(validator.validateHMAC(signedItem as unknown as LibraryItem, KEY)).toBe(true);
        }
        expect(adyen.verify(request, secretOf(KEY), settings)).toEqual({ ok: true });

        // And the other way round: items signed by the library verify with the adapter.
        const parsed = JSON.parse(readSample('adyen', sample)) as {
          notificationItems: { NotificationRequestItem: Item }[];
        };
        for (const { NotificationRequestItem: sampleItem } of parsed.notificationItems) {
          const hmacSignature = validator.calculateHmac(sampleItem as unknown as LibraryItem, OTHER_KEY);
          sampleItem.additionalData = { ...(sampleItem.additionalData as Item), hmacSignature };
        }
        const libraryRequest = webhookRequest(JSON.stringify(parsed));
        expect(adyen.verify(libraryRequest, secretOf(OTHER_KEY), settings)).toEqual({ ok: true });
      },
    );

    it('verifies the samples under the development key', () => {
      const key = devSecret('adyen');
      expect(
        adyen.verify(signed(readSample('adyen', 'AUTHORISATION'), key), secretOf(key), settings).ok,
      ).toBe(true);
    });

    it('signs the exact number text, not a re-rendered number', () => {
      const body =
        '{"live":"false","notificationItems":[{"NotificationRequestItem":{"eventCode":"AUTHORISATION","success":"true","pspReference":"P1","merchantAccountCode":"M","merchantReference":"R","amount":{"value":123456789012345678901,"currency":"EUR"}}}]}';
      const request = signed(body);
      const expected = createHmac('sha256', Buffer.from(KEY, 'hex'))
        .update('P1::M:R:123456789012345678901:EUR:AUTHORISATION:true')
        .digest('base64');
      expect(request.body.toString()).toContain(`"hmacSignature":"${expected}"`);
      expect(request.body.toString()).toContain('"value":123456789012345678901');
      expect(adyen.verify(request, secretOf(KEY), settings).ok).toBe(true);
    });

    it('accepts items signed with an older key during rotation', () => {
      const request = signed(readSample('adyen', 'batch'), KEY);
      expect(adyen.verify(request, secretOf(OTHER_KEY, KEY), settings).ok).toBe(true);
    });

    it('refuses a batch with one bad item among good ones, naming the item; the good ones alone verify', () => {
      const good = signed(readSample('adyen', 'batch'));
      const parsed = JSON.parse(good.body.toString()) as { live: string; notificationItems: unknown[] };
      const [first, second, third] = parsed.notificationItems;
      const forged = JSON.parse(signed(readSample('adyen', 'REFUND'), OTHER_KEY).body.toString()) as {
        notificationItems: unknown[];
      };
      const mixed = { ...parsed, notificationItems: [first, forged.notificationItems[0], third] };
      const result = adyen.verify(webhookRequest(JSON.stringify(mixed)), secretOf(KEY), settings);
      expect(result).toMatchObject({
        ok: false,
        reason: 'invalid_signature',
        detail: expect.stringContaining('notificationItems[1]'),
      });

      const goodOnes = {
        ...parsed,
        notificationItems: [first, second, third].filter((_, index) => index !== 1),
      };
      expect(adyen.verify(webhookRequest(JSON.stringify(goodOnes)), secretOf(KEY), settings)).toEqual({
        ok: true,
      });
    });

    it('names the item that has no hmacSignature', () => {
      const request = signed(readSample('adyen', 'batch'));
      const text = request.body.toString();
      const lastSignature = text.lastIndexOf('"hmacSignature"');
      const stripped = `${text.slice(0, lastSignature)}"hmacSignatureX"${text.slice(lastSignature + '"hmacSignature"'.length)}`;
      expect(adyen.verify(webhookRequest(stripped), secretOf(KEY), settings)).toMatchObject({
        ok: false,
        reason: 'missing_signature',
        detail: expect.stringContaining('notificationItems[2]'),
      });
    });

    it.each([
      [
        'a tampered amount',
        () => {
          const request = signed(readSample('adyen', 'AUTHORISATION'));
          return webhookRequest(request.body.toString().replace('"value":10000', '"value":10001'));
        },
        'invalid_signature',
      ],
      [
        'a tampered success flag',
        () =>
          webhookRequest(
            signed(readSample('adyen', 'AUTHORISATION.failed'))
              .body.toString()
              .replace('"success":"false"', '"success":"true"'),
          ),
        'invalid_signature',
      ],
      ['the wrong key', () => signed(readSample('adyen', 'AUTHORISATION'), OTHER_KEY), 'invalid_signature'],
      [
        'an unsigned notification',
        () => webhookRequest(readSample('adyen', 'AUTHORISATION')),
        'missing_signature',
      ],
      ['a body that is not JSON', () => webhookRequest('[accepted]'), 'missing_signature'],
      ['a notification without items', () => webhookRequest('{"live":"false"}'), 'missing_signature'],
      [
        'a notification with an empty item list',
        () => webhookRequest('{"live":"false","notificationItems":[]}'),
        'missing_signature',
      ],
      [
        'an hmacSignature that is not a base64 SHA-256 digest',
        () =>
          webhookRequest(
            notification(item('AUTHORISATION', 'true', { additionalData: { hmacSignature: 'abc' } })),
          ),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      expect(adyen.verify(makeRequest(), secretOf(KEY), settings)).toMatchObject({ ok: false, reason });
    });

    it('never treats a key that is not hex as an empty key anyone could sign with', () => {
      const signedWithEmptyKey = signed(notification(item('AUTHORISATION', 'true')), '');
      expect(adyen.verify(signedWithEmptyKey, secretOf('not-a-hex-key'), settings)).toMatchObject({
        ok: false,
        reason: 'invalid_signature',
        detail: expect.stringContaining('1 of them not a hex HMAC key'),
      });
    });

    it('never puts the key or the expected signature in the refusal detail', () => {
      const request = signed(notification(VECTOR_ITEM), OTHER_KEY);
      const result = adyen.verify(request, secretOf(KEY), settings);
      expect(result.ok).toBe(false);
      const detail = result.ok ? '' : result.detail;
      expect(detail).not.toContain(KEY);
      expect(detail).not.toContain(VECTOR_SIGNATURE);
    });
  });

  describe('normalise', () => {
    const samples = [
      {
        sample: 'AUTHORISATION',
        eventId: 'AUTHORISATION:QFQTPCQ8HXSKGK82:true',
        kind: 'payment.succeeded',
        priority: 'high',
        gatewayPaymentId: 'QFQTPCQ8HXSKGK82',
        amountMinor: 10000n,
        occurredAt: '2026-11-20T10:15:19.000Z',
      },
      {
        sample: 'AUTHORISATION.failed',
        eventId: 'AUTHORISATION:VZ6MHXQ4P9NKGK82:false',
        kind: 'payment.failed',
        priority: 'normal',
        gatewayPaymentId: 'VZ6MHXQ4P9NKGK82',
        amountMinor: 4550n,
        occurredAt: '2026-11-20T10:18:02.000Z',
      },
      {
        sample: 'CAPTURE',
        eventId: 'CAPTURE:JN7GVRS4W3XBDN82:true',
        kind: 'other',
        priority: 'low',
        gatewayPaymentId: 'QFQTPCQ8HXSKGK82',
        amountMinor: 10000n,
        occurredAt: '2026-11-20T10:20:44.000Z',
      },
      {
        sample: 'REFUND',
        eventId: 'REFUND:T4DKQH2VJ8RSMS82:true',
        kind: 'refund.succeeded',
        priority: 'normal',
        gatewayPaymentId: 'QFQTPCQ8HXSKGK82',
        amountMinor: 2500n,
        occurredAt: '2026-11-21T08:02:11.000Z',
      },
      {
        sample: 'CHARGEBACK',
        eventId: 'CHARGEBACK:WXR5CB8PKL2MQT82:true',
        kind: 'dispute.lost',
        priority: 'high',
        gatewayPaymentId: 'QFQTPCQ8HXSKGK82',
        amountMinor: 10000n,
        occurredAt: '2026-12-02T13:40:07.000Z',
      },
    ];

    it.each(samples)('normalises the $sample sample', ({ sample, amountMinor, ...expected }) => {
      const request = signed(readSample('adyen', sample));
      const { events, unparseable } = adyen.normalise(request, settings);
      expect(unparseable).toEqual([]);
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event).toMatchObject({
        gateway: 'adyen',
        eventType: sample.replace('.failed', ''),
        reference: sample === 'AUTHORISATION.failed' ? 'ORDER-2002' : 'ORDER-2001',
        mode: 'test',
        ...expected,
      });
      expect(event?.money).toEqual({ amountMinor, currency: 'EUR', exponent: 2 });
    });

    it('gives each event its item with the batch live flag as payload, numbers kept as sent', () => {
      const request = signed(readSample('adyen', 'AUTHORISATION'));
      const [event] = adyen.normalise(request, settings).events;
      const payload = event?.payload ?? '';
      expect(payload.startsWith('{"live":"false","NotificationRequestItem":{')).toBe(true);
      const parsed = JSON.parse(payload) as { NotificationRequestItem: Item };
      expect(parsed.NotificationRequestItem).toEqual(itemsOf(request.body)[0]);
      expect(payload).toContain('"value":10000');
    });

    it('turns a three-item batch into three events, in order', () => {
      const { events, unparseable } = adyen.normalise(signed(readSample('adyen', 'batch')), settings);
      expect(unparseable).toEqual([]);
      expect(events.map((event) => [event.eventId, event.kind, event.priority, event.reference])).toEqual([
        ['AUTHORISATION:MB3CZ9KQ7T5WHL82:true', 'payment.succeeded', 'high', 'ORDER-2005'],
        ['REFUND:T4DKQH2VJ8RSMS82:true', 'refund.succeeded', 'normal', 'ORDER-2001'],
        ['NOTIFICATION_OF_CHARGEBACK:PZ2HLQ7MXB4CVN82:true', 'dispute.opened', 'high', 'ORDER-2006'],
      ]);
      expect(events.map((event) => event.money)).toEqual([
        { amountMinor: 7999n, currency: 'USD', exponent: 2 },
        { amountMinor: 2500n, currency: 'EUR', exponent: 2 },
        { amountMinor: 15000n, currency: 'JPY', exponent: 0 },
      ]);
      expect(events[2]?.gatewayPaymentId).toBe('KD8RWT3NCV6PJX82');
      expect(new Set(events.map((event) => event.payload)).size).toBe(3);
    });

    it('normalises the good items of a batch and parks the one without an eventCode', () => {
      const body = notification(
        item('AUTHORISATION', 'true', { pspReference: 'PSP1' }),
        { ...item('REFUND', 'true', { pspReference: 'PSP2' }), eventCode: undefined },
        item('CHARGEBACK', 'true', { pspReference: 'PSP3' }),
      );
      const { events, unparseable } = adyen.normalise(signed(body), settings);
      expect(events.map((event) => event.eventId)).toEqual([
        'AUTHORISATION:PSP1:true',
        'CHARGEBACK:PSP3:true',
      ]);
      expect(unparseable).toHaveLength(1);
      expect(unparseable[0]?.reason).toMatch(/^notificationItems\[1\]: .*eventCode/);
      expect(JSON.parse(String(unparseable[0]?.payload))).toMatchObject({
        live: 'false',
        NotificationRequestItem: { pspReference: 'PSP2' },
      });
    });

    it('parks an item whose amount is not whole minor units, keeping its exact text', () => {
      const body =
        '{"live":"true","notificationItems":[{"NotificationRequestItem":{"eventCode":"REFUND","success":"true","pspReference":"P1","amount":{"value":12.50,"currency":"EUR"}}}]}';
      const { events, unparseable } = adyen.normalise(signed(body), settings);
      expect(events).toEqual([]);
      expect(unparseable[0]?.reason).toContain('not an integer of minor units');
      expect(unparseable[0]?.payload).toContain('"value":12.50');
    });

    it('keeps amounts beyond a double exactly and reads live mode', () => {
      const body =
        '{"live":"true","notificationItems":[{"NotificationRequestItem":{"eventCode":"AUTHORISATION","success":"true","pspReference":"P1","amount":{"value":123456789012345678901,"currency":"EUR"}}}]}';
      const [event] = adyen.normalise(signed(body), settings).events;
      expect(event?.money?.amountMinor).toBe(123456789012345678901n);
      expect(event?.mode).toBe('live');
      expect(event?.payload).toContain('123456789012345678901');
    });

    it('makes CAPTURE the money-arrived event under manual capture', () => {
      const authorisation = adyen.normalise(signed(readSample('adyen', 'AUTHORISATION')), manual).events[0];
      const capture = adyen.normalise(signed(readSample('adyen', 'CAPTURE')), manual).events[0];
      expect(authorisation).toMatchObject({ kind: 'payment.authorized', priority: 'normal' });
      expect(capture).toMatchObject({
        kind: 'payment.succeeded',
        priority: 'high',
        gatewayPaymentId: 'QFQTPCQ8HXSKGK82',
      });
    });

    it.each([
      ['AUTHORISATION', 'false', 'payment.failed', 'normal'],
      ['CAPTURE', 'false', 'payment.failed', 'normal'],
      ['CAPTURE_FAILED', 'true', 'payment.failed', 'normal'],
      ['CANCELLATION', 'true', 'payment.expired', 'normal'],
      ['CANCELLATION', 'false', 'other', 'low'],
      ['AUTHORISATION_ADJUSTMENT', 'true', 'other', 'low'],
      ['REFUND', 'false', 'refund.failed', 'normal'],
      ['REFUND_FAILED', 'true', 'refund.failed', 'normal'],
      ['REFUNDED_REVERSED', 'true', 'refund.failed', 'normal'],
      ['CANCEL_OR_REFUND', 'true', 'refund.succeeded', 'normal'],
      ['CANCEL_OR_REFUND', 'false', 'refund.failed', 'normal'],
      ['NOTIFICATION_OF_CHARGEBACK', 'true', 'dispute.opened', 'high'],
      ['REQUEST_FOR_INFORMATION', 'true', 'dispute.opened', 'high'],
      ['SECOND_CHARGEBACK', 'true', 'dispute.lost', 'high'],
      ['PREARBITRATION_LOST', 'true', 'dispute.lost', 'high'],
      ['CHARGEBACK_REVERSED', 'true', 'dispute.won', 'high'],
      ['PREARBITRATION_WON', 'true', 'dispute.won', 'high'],
      ['REPORT_AVAILABLE', 'true', 'other', 'low'],
    ])('classifies %s success=%s as %s (%s)', (eventCode, success, kind, priority) => {
      const [event] = adyen.normalise(signed(notification(item(eventCode, success))), settings).events;
      expect(event).toMatchObject({
        eventType: eventCode,
        eventId: `${eventCode}:PSP0000000000001:${success}`,
        kind,
        priority,
      });
    });

    it('honours a configured priority override', () => {
      const overridden = { ...settings, priorityOverrides: { REPORT_AVAILABLE: 'normal' as const } };
      const [event] = adyen.normalise(
        signed(notification(item('REPORT_AVAILABLE', 'true'))),
        overridden,
      ).events;
      expect(event?.priority).toBe('normal');
    });

    it.each([
      ['not JSON', '[accepted]'],
      ['without notificationItems', '{"live":"false"}'],
      ['with an empty notificationItems list', '{"live":"false","notificationItems":[]}'],
    ])('refuses to normalise a body %s', (_name, body) => {
      expect(() => adyen.normalise(webhookRequest(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('acknowledges with the [accepted] text Adyen expects', () => {
      expect(adyen.acceptedResponse).toEqual({ contentType: 'text/plain', body: '[accepted]' });
    });
  });
});

describe('Gateway: adyen (hostile but validly signed items)', () => {
  it('never throws on a verified item nested as deep as the parser accepts, and accounts for every item', () => {
    // The deepest nesting the JSON parser takes here; serialising it back can overflow where parsing did not.
    const nested = (depth: number) => `${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const depth = [6000, 4000, 3000, 2500, 2000, 1500, 1000].find((candidate) => {
      try {
        parse(nested(candidate));
        return true;
      } catch {
        return false;
      }
    });
    if (depth === undefined) throw new Error('the parser takes no deep nesting at all');
    const good = JSON.parse(readSample('adyen', 'AUTHORISATION')).notificationItems[0]
      .NotificationRequestItem;
    const notification = JSON.stringify({
      live: 'false',
      notificationItems: [
        { NotificationRequestItem: good },
        { NotificationRequestItem: { ...good, pspReference: 'DEEP', additionalData: { junk: '__DEEP__' } } },
      ],
    });
    // additionalData is outside Adyen's signed fields, so junk injected after signing still verifies.
    const signedBatch = signAdyen(notification, { secret: KEY });
    const request = webhookRequest(
      signedBatch.body.replace('"__DEEP__"', nested(depth - 10)),
      signedBatch.headers,
    );
    expect(adyen.verify(request, secretOf(KEY), settings)).toEqual({ ok: true });
    const batch = adyen.normalise(request, settings);
    expect(batch.events[0]?.eventId).toBe(`AUTHORISATION:${good.pspReference}:true`);
    expect(batch.events.length + batch.unparseable.length).toBe(2);
  });
});

describe('Gateway: adyen (batches)', () => {
  it('queues one captured item repeated hundreds of times in one batch once', () => {
    const capture = item('CAPTURE', 'true', { pspReference: 'CAP0000000000001', originalReference: 'PSP1' });
    const request = signed(notification(...Array.from({ length: 300 }, () => capture)));
    const { events, unparseable } = adyen.normalise(request, settings);
    expect(events.map((event) => event.eventId)).toEqual(['CAPTURE:CAP0000000000001:true']);
    expect(unparseable).toEqual([]);
  });

  it('queues the first 100 distinct items and parks the rest as one batch_too_large message, items intact', () => {
    const items = Array.from({ length: 150 }, (_, index) =>
      item('AUTHORISATION', 'true', { pspReference: `PSP${String(index).padStart(13, '0')}` }),
    );
    const request = signed(notification(...items));
    const { events, unparseable } = adyen.normalise(request, settings);
    expect(events).toHaveLength(ADYEN_MAX_BATCH_ITEMS);
    expect(events.at(-1)?.gatewayPaymentId).toBe(`PSP${String(99).padStart(13, '0')}`);
    expect(unparseable).toHaveLength(1);
    const [parked] = unparseable;
    expect(parked?.errorClass).toBe('batch_too_large');
    expect(parked?.reason).toMatch(/50 distinct notification items past the first 100/);
    // The parked text is a batch of its own: the 50 items left, as they were signed, ready to re-run.
    const rest = itemsOf(String(parked?.payload));
    expect(rest.map((entry) => entry.pspReference)).toEqual(
      itemsOf(request.body)
        .slice(100)
        .map((entry) => entry.pspReference),
    );
    expect(adyen.verify(webhookRequest(String(parked?.payload), {}), secretOf(KEY), settings)).toEqual({
      ok: true,
    });
  });
});
