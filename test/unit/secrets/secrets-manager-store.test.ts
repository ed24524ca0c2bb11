import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidSecretError, SecretsUnavailableError } from '../../../lambdas/ports/secret-store.js';
import { SecretsManagerStore } from '../../../lambdas/secrets/secrets-manager-store.js';

// Secrets Manager has no embedded emulator: these tests stop at the client boundary. The moto_server integration
// test exercises the real API.
const secretsManager = mockClient(SecretsManagerClient);

function answer(value: unknown) {
  return { SecretString: JSON.stringify(value) };
}

describe('SecretsManagerStore', () => {
  beforeEach(() => {
    secretsManager.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-24T10:00:00Z'));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  function store() {
    return new SecretsManagerStore({ stripe: 'payhook/stripe' }, { client: new SecretsManagerClient({}) });
  }

  it('reads the gateway secret by its configured id and caches it for five minutes', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'payhook/stripe' })
      .resolves(answer({ secrets: ['whsec_a'] }));
    const secrets = store();
    const first = await secrets.get('stripe');
    vi.setSystemTime(new Date('2026-11-24T10:04:59Z'));
    const cached = await secrets.get('stripe');
    expect(first).toEqual({ secret: { secrets: ['whsec_a'] }, fetchedAt: new Date('2026-11-24T10:00:00Z') });
    expect(cached?.fetchedAt).toEqual(new Date('2026-11-24T10:00:00Z'));
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fetches again once the cache has expired, and reports the new fetch time', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(answer({ secrets: ['whsec_a'] }))
      .resolves(answer({ secrets: ['whsec_b', 'whsec_a'] }));
    const secrets = store();
    await secrets.get('stripe');
    vi.setSystemTime(new Date('2026-11-24T10:05:01Z'));
    expect(await secrets.get('stripe')).toEqual({
      secret: { secrets: ['whsec_b', 'whsec_a'] },
      fetchedAt: new Date('2026-11-24T10:05:01Z'),
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('bypasses the cache on refresh', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(answer({ secrets: ['whsec_a'] }))
      .resolves(answer({ secrets: ['whsec_b'] }));
    const secrets = store();
    await secrets.get('stripe');
    vi.setSystemTime(new Date('2026-11-24T10:01:00Z'));
    expect(await secrets.get('stripe', { refresh: true })).toEqual({
      secret: { secrets: ['whsec_b'] },
      fetchedAt: new Date('2026-11-24T10:01:00Z'),
    });
  });

  it('answers undefined, without a call, for a gateway that has no secret configured', async () => {
    expect(await store().get('paystack')).toBeUndefined();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('refuses a secret in the wrong shape, naming the key and never the value', async () => {
    secretsManager.on(GetSecretValueCommand).resolves(answer({ secret: 'whsec_leak_me' }));
    const failure = store().get('stripe');
    await expect(failure).rejects.toThrow(InvalidSecretError);
    await expect(store().get('stripe')).rejects.toThrow(/stripe.secrets must be a list/);
    await expect(store().get('stripe')).rejects.not.toThrow(/whsec_leak_me/);
  });

  it('turns an AWS error into one that names its class only (its message can name the ARN), for ingest to answer 503', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded for payhook/stripe'), { name: 'ThrottlingException' }));
    await expect(store().get('stripe')).rejects.toThrow(SecretsUnavailableError);
    await expect(store().get('stripe')).rejects.toThrow(
      /^cannot fetch the stripe secret from Secrets Manager \(ThrottlingException\)$/,
    );
  });

  it('refuses a secret stored as plain text without quoting any of it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'whsec_leak_me_please' });
    await expect(store().get('stripe')).rejects.toThrow(InvalidSecretError);
    await expect(store().get('stripe')).rejects.toThrow(/the stored text is not JSON/);
    await expect(store().get('stripe')).rejects.not.toThrow(/whsec|leak/);
  });
});
