import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE } from '../../../events/index.js';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import { InvalidSecretError, SecretsUnavailableError } from '../../../lambdas/ports/secret-store.js';
import { FileSecretStore } from '../../../lambdas/secrets/gateway-secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'payhook-secrets-'));

function file(content: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('FileSecretStore', () => {
  it('reads the development secrets for every gateway, skipping comment keys', async () => {
    const store = new FileSecretStore(DEV_SECRETS_FILE);
    for (const gateway of GATEWAYS) {
      const fetched = await store.get(gateway);
      expect(fetched?.secret.secrets.length).toBeGreaterThan(0);
    }
    expect((await store.get('oxapay'))?.secret.payoutSecrets).toEqual(['PAYHOOK-DEV-FAKE-OXAPAY-PAYOUT-KEY']);
  });

  it('re-reads the file on refresh, so editing it rotates a secret without a restart', async () => {
    const path = file({ paystack: { secrets: ['sk_test_one'] } });
    let now = new Date('2026-11-24T10:00:00Z');
    const store = new FileSecretStore(path, () => now);
    expect((await store.get('paystack'))?.secret.secrets).toEqual(['sk_test_one']);
    writeFileSync(path, JSON.stringify({ paystack: { secrets: ['sk_test_two', 'sk_test_one'] } }));
    expect((await store.get('paystack'))?.secret.secrets).toEqual(['sk_test_one']);
    now = new Date('2026-11-24T10:01:00Z');
    expect(await store.get('paystack', { refresh: true })).toEqual({
      secret: { secrets: ['sk_test_two', 'sk_test_one'] },
      fetchedAt: now,
    });
  });

  it('answers undefined for a gateway the file does not mention', async () => {
    expect(await new FileSecretStore(file({ paystack: { secrets: ['x'] } })).get('stripe')).toBeUndefined();
  });

  it('cannot read a missing file, saying why by its error code and never naming the file', async () => {
    const path = join(dir, 'absent.json');
    await expect(new FileSecretStore(path).get('paystack')).rejects.toThrow(SecretsUnavailableError);
    await expect(new FileSecretStore(path).get('paystack')).rejects.toThrow(
      /^cannot read the secrets file \(ENOENT\)$/,
    );
  });

  it('refuses a key that is not a gateway without quoting it: it could be a secret pasted in the wrong place', async () => {
    const path = file({ paypal: { secrets: ['x'] } });
    await expect(new FileSecretStore(path).get('paystack')).rejects.toThrow(
      /a key that is not a gateway name/,
    );
    await expect(new FileSecretStore(path).get('paystack')).rejects.not.toThrow(/paypal/);
  });

  it.each([
    ['broken JSON', file('{"paystack":'), /the secrets file is not JSON/],
    ['an empty list', file({ paystack: { secrets: [] } }), /paystack.secrets is empty/],
    ['a bare string', file({ paystack: { secrets: 'sk_test_x' } }), /paystack.secrets must be a list/],
    [
      'a blank secret (an HMAC key anyone has)',
      file({ paystack: { secrets: ['  '] } }),
      /paystack.secrets must be a list of non-empty/,
    ],
    ['bad payout secrets', file({ oxapay: { secrets: ['a'], payoutSecrets: [1] } }), /oxapay.payoutSecrets/],
  ])('refuses %s with a message naming the problem', async (_name, path, message) => {
    await expect(new FileSecretStore(path).get('paystack')).rejects.toThrow(InvalidSecretError);
    await expect(new FileSecretStore(path).get('paystack')).rejects.toThrow(message);
  });
});
