import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSample } from '../../events/index.js';
import { signPaystack } from '../../events/paystack/sign.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { receiveWebhook } from '../../lambdas/intake/receive-webhook.js';
import { SecretsManagerStore } from '../../lambdas/secrets/secrets-manager-store.js';
import { RecordingQueue } from '../support/fakes.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';
import { webhookRequest } from '../support/requests.js';

describe.runIf(hasMotoServer)('Gateway secrets from Secrets Manager (moto_server)', () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    moto = await startMotoServer();
    client = new SecretsManagerClient({ endpoint: moto.endpoint });
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('reads a secret in the documented shape and picks up a rotation on refresh', async () => {
    await client.send(
      new CreateSecretCommand({
        Name: 'payhook/razorpay',
        SecretString: JSON.stringify({ secrets: ['rzp_one'] }),
      }),
    );
    const store = new SecretsManagerStore({ razorpay: 'payhook/razorpay' }, { client });
    expect((await store.get('razorpay'))?.secret).toEqual({ secrets: ['rzp_one'] });

    await client.send(
      new PutSecretValueCommand({
        SecretId: 'payhook/razorpay',
        SecretString: JSON.stringify({ secrets: ['rzp_two', 'rzp_one'], keyId: 'rzp_test_key' }),
      }),
    );
    expect((await store.get('razorpay'))?.secret).toEqual({ secrets: ['rzp_one'] });
    expect((await store.get('razorpay', { refresh: true }))?.secret).toEqual({
      secrets: ['rzp_two', 'rzp_one'],
      // The reconciler's API credentials live in the same secret, under their documented keys.
      api: { keyId: 'rzp_test_key' },
    });
  });

  it('lets ingest accept a webhook signed with a just-rotated secret once its cache is 30 s old', async () => {
    await client.send(
      new CreateSecretCommand({
        Name: 'payhook/paystack',
        SecretString: JSON.stringify({ secrets: ['sk_test_before'] }),
      }),
    );
    let now = new Date('2026-11-24T10:00:00Z');
    const store = new SecretsManagerStore({ paystack: 'payhook/paystack' }, { client, now: () => now });
    const queue = new RecordingQueue();
    const deps = {
      adapters: ADAPTERS,
      settings: parseGatewaySettings(undefined),
      secrets: store,
      queue,
      maxBodyBytes: 262_144,
      now: () => now,
    };
    await store.get('paystack');
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'payhook/paystack',
        SecretString: JSON.stringify({ secrets: ['sk_test_after', 'sk_test_before'] }),
      }),
    );
    const signed = signPaystack(readSample('paystack', 'charge.success'), { secret: 'sk_test_after' });
    const request = () => webhookRequest(signed.body, signed.headers, now);

    now = new Date('2026-11-24T10:00:10Z');
    expect(await receiveWebhook('paystack', request(), deps)).toMatchObject({ status: 401 });
    now = new Date('2026-11-24T10:00:31Z');
    expect(await receiveWebhook('paystack', request(), deps)).toMatchObject({ status: 200 });
    expect(queue.events).toHaveLength(1);
  });
});
