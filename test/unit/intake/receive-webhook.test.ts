import { describe, expect, it } from 'vitest';
import { devSecret, readSample } from '../../../events/index.js';
import { signPaystack } from '../../../events/paystack/sign.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../../lambdas/gateways/settings.js';
import {
  encodedBodyBytes,
  type IntakeDependencies,
  receiveWebhook,
  SECRET_REFRESH_AFTER_MS,
} from '../../../lambdas/intake/receive-webhook.js';
import { RecordingQueue, ScriptedSecretStore } from '../../support/fakes.js';
import { webhookRequest } from '../../support/requests.js';

const NOW = new Date('2026-11-24T10:00:00Z');
const OLD_SECRET = devSecret('paystack');
const NEW_SECRET = 'sk_test_payhook_dev_FAKE_rotated_secret';

function signedWith(secret: string) {
  const signed = signPaystack(readSample('paystack', 'charge.success'), { secret });
  return webhookRequest(signed.body, signed.headers, NOW);
}

function dependencies(
  secrets: IntakeDependencies['secrets'],
  queue = new RecordingQueue(),
): IntakeDependencies {
  return {
    adapters: ADAPTERS,
    settings: parseGatewaySettings(undefined),
    secrets,
    queue,
    maxBodyBytes: 256 * 1024,
    now: () => NOW,
  };
}

describe('receiveWebhook', () => {
  describe('secret rotation', () => {
    it('refetches once after a signature failure when the cached secret is older than 30 s, and then accepts', async () => {
      const cachedAt = new Date(NOW.getTime() - SECRET_REFRESH_AFTER_MS - 1);
      const store = new ScriptedSecretStore((refresh) =>
        refresh
          ? { secret: { secrets: [NEW_SECRET] }, fetchedAt: NOW }
          : { secret: { secrets: [OLD_SECRET] }, fetchedAt: cachedAt },
      );
      const queue = new RecordingQueue();
      const result = await receiveWebhook('paystack', signedWith(NEW_SECRET), dependencies(store, queue));
      expect(result.outcome).toBe('accepted');
      expect(store.calls).toEqual([
        { gateway: 'paystack', refresh: false },
        { gateway: 'paystack', refresh: true },
      ]);
      expect(queue.events).toHaveLength(1);
    });

    it('trusts a secret fetched within the last 30 s, so a flood of bad signatures costs no extra fetches', async () => {
      const store = new ScriptedSecretStore(() => ({
        secret: { secrets: [OLD_SECRET] },
        fetchedAt: new Date(NOW.getTime() - SECRET_REFRESH_AFTER_MS + 1000),
      }));
      const queue = new RecordingQueue();
      const result = await receiveWebhook('paystack', signedWith(NEW_SECRET), dependencies(store, queue));
      expect(result).toMatchObject({ outcome: 'refused', status: 401, reason: 'invalid_signature' });
      expect(store.calls).toHaveLength(1);
      expect(queue.isEmpty).toBe(true);
    });

    it('does not refetch for a missing signature: no secret could fix that', async () => {
      const store = new ScriptedSecretStore(() => ({
        secret: { secrets: [OLD_SECRET] },
        fetchedAt: new Date(0),
      }));
      const unsigned = webhookRequest(readSample('paystack', 'charge.success'), {}, NOW);
      const result = await receiveWebhook('paystack', unsigned, dependencies(store));
      expect(result).toMatchObject({ status: 401, reason: 'missing_signature' });
      expect(store.calls).toHaveLength(1);
    });

    it('keeps the refusal when the refetch itself fails', async () => {
      const store = new ScriptedSecretStore((refresh) => {
        if (refresh) throw new Error('throttled');
        return { secret: { secrets: [OLD_SECRET] }, fetchedAt: new Date(0) };
      });
      const result = await receiveWebhook('paystack', signedWith(NEW_SECRET), dependencies(store));
      expect(result).toMatchObject({ status: 401, reason: 'invalid_signature' });
    });
  });

  it.each([
    ['no secret is configured for the gateway', () => undefined, 'gateway_not_configured'],
    [
      'the secret store is unreachable',
      () => {
        throw new Error('connect ETIMEDOUT');
      },
      'secrets_unavailable',
    ],
  ])('answers 503 when %s, so the gateway retries later', async (_name, answer, reason) => {
    const queue = new RecordingQueue();
    const result = await receiveWebhook(
      'paystack',
      signedWith(OLD_SECRET),
      dependencies(new ScriptedSecretStore(answer), queue),
    );
    expect(result).toMatchObject({ outcome: 'failed', status: 503, reason });
    expect(queue.isEmpty).toBe(true);
  });

  it('answers 503 when queueing fails part-way, so the gateway resends the whole request', async () => {
    const failing = new RecordingQueue();
    failing.enqueue = async () => {
      throw Object.assign(new Error('boom'), { name: 'ServiceUnavailable' });
    };
    const store = new ScriptedSecretStore(() => ({ secret: { secrets: [OLD_SECRET] }, fetchedAt: NOW }));
    const result = await receiveWebhook('paystack', signedWith(OLD_SECRET), dependencies(store, failing));
    expect(result).toMatchObject({
      status: 503,
      reason: 'queue_unavailable',
      detail: expect.stringContaining('ServiceUnavailable'),
    });
  });

  it('parks a verified body, rather than failing, when normalising it throws something unexpected', async () => {
    const store = new ScriptedSecretStore(() => ({ secret: { secrets: [OLD_SECRET] }, fetchedAt: NOW }));
    const queue = new RecordingQueue();
    const broken = {
      ...ADAPTERS.paystack,
      normalise: () => {
        throw new TypeError('a bug in an adapter');
      },
    };
    const result = await receiveWebhook('paystack', signedWith(OLD_SECRET), {
      ...dependencies(store, queue),
      adapters: { ...ADAPTERS, paystack: broken },
    });
    expect(result).toMatchObject({ outcome: 'accepted', status: 200, parked: 1 });
    expect(queue.parked[0]).toMatchObject({
      gateway: 'paystack',
      errorClass: 'unparseable_payload',
      errorMessage: 'unexpected TypeError: a bug in an adapter',
      payload: readSample('paystack', 'charge.success'),
    });
  });

  it('queues an unverified claim of money (Flutterwave verif-hash) as authorised, to be confirmed', async () => {
    const body = readSample('flutterwave', 'charge.completed');
    const hash = devSecret('flutterwave');
    const store = new ScriptedSecretStore(() => ({ secret: { secrets: [hash] }, fetchedAt: NOW }));
    const queue = new RecordingQueue();
    const unbound = await receiveWebhook(
      'flutterwave',
      webhookRequest(body, { 'verif-hash': hash }, NOW),
      dependencies(store, queue),
    );
    expect(unbound.outcome).toBe('accepted');
    expect(queue.events[0]).toMatchObject({
      kind: 'payment.authorized',
      needsConfirmation: true,
      priority: 'high',
    });
    const { signFlutterwave } = await import('../../../events/flutterwave/sign.js');
    const bound = signFlutterwave(body, { secret: hash });
    await receiveWebhook(
      'flutterwave',
      webhookRequest(bound.body, bound.headers, NOW),
      dependencies(store, queue),
    );
    expect(queue.events[1]).toMatchObject({ kind: 'payment.succeeded' });
    expect(queue.events[1]?.needsConfirmation).toBeUndefined();
  });

  it('never looks up a secret for a request it refuses on shape alone', async () => {
    const store = new ScriptedSecretStore(() => ({ secret: { secrets: [OLD_SECRET] }, fetchedAt: NOW }));
    // (An empty body is not refused on shape alone: a gateway can sign one, so it is verified first.)
    await receiveWebhook(
      'paystack',
      webhookRequest('x'.repeat(256 * 1024 + 1), {}, NOW),
      dependencies(store),
    );
    await receiveWebhook('nope', signedWith(OLD_SECRET), dependencies(store));
    expect(store.calls).toEqual([]);
  });

  it.each([
    ['', false, 0],
    ['{"a":1}', false, 7],
    ['żółw', false, 7],
    [Buffer.from('hello world!').toString('base64'), true, 12],
    [Buffer.from('hello world').toString('base64'), true, 11],
    [Buffer.from('hello worl').toString('base64'), true, 10],
  ])('sizes the encoded body %j (base64: %s) as %i bytes without decoding it', (body, base64, bytes) => {
    expect(encodedBodyBytes(body, base64)).toBe(bytes);
  });

  describe('originals for the original destinations', () => {
    const store = () =>
      new ScriptedSecretStore(() => ({ secret: { secrets: [OLD_SECRET] }, fetchedAt: NOW }));

    it('queues the exact bytes and the signature headers with the events of a gateway an original destination wants', async () => {
      const queue = new RecordingQueue();
      const signed = signPaystack(readSample('paystack', 'charge.success'), { secret: OLD_SECRET });
      const request = webhookRequest(
        signed.body,
        { ...signed.headers, authorization: 'Basic c2VjcmV0', 'x-forwarded-for': '203.0.113.9' },
        NOW,
      );
      const result = await receiveWebhook('paystack', request, {
        ...dependencies(store(), queue),
        originalGateways: new Set(['paystack']),
      });
      expect(result.outcome).toBe('accepted');
      expect(queue.originals).toHaveLength(1);
      expect(queue.originals[0]?.body.equals(request.body)).toBe(true);
      // The signature and content type only: never a credential or another header.
      expect(queue.originals[0]?.headers).toEqual({
        'content-type': signed.headers['content-type'],
        'x-paystack-signature': signed.headers['x-paystack-signature'],
      });
    });

    it('queues no original for a gateway no original destination wants, nor for a refused request', async () => {
      const queue = new RecordingQueue();
      const signed = signPaystack(readSample('paystack', 'charge.success'), { secret: OLD_SECRET });
      await receiveWebhook('paystack', webhookRequest(signed.body, signed.headers, NOW), {
        ...dependencies(store(), queue),
        originalGateways: new Set(['stripe']),
      });
      expect(queue.originals).toEqual([undefined]);
      const forged = await receiveWebhook('paystack', signedWith('sk_test_wrong'), {
        ...dependencies(store(), queue),
        originalGateways: new Set(['paystack']),
      });
      expect(forged.outcome).toBe('refused');
      expect(queue.originals).toEqual([undefined]);
    });
  });
});
