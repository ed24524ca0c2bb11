import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readSample } from '../../../events/index.js';
import { signPaystack } from '../../../events/paystack/sign.js';
import { signStripe } from '../../../events/stripe/sign.js';
import type { GatewayName } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../../lambdas/intake/api-gateway.js';
import type { SecretStore } from '../../../lambdas/ports/secret-store.js';
import { FileSecretStore } from '../../../lambdas/secrets/gateway-secrets.js';
import { SecretsManagerStore } from '../../../lambdas/secrets/secrets-manager-store.js';
import { apiGatewayEvent, recordingLog } from '../../support/api-gateway.js';
import { RecordingMetrics, RecordingQueue } from '../../support/fakes.js';

// Issue #15, point 5: a secret stored in the wrong shape (plain text instead of `{"secrets": [...]}`, and so on) made
// the unauthenticated 503 answer and the log quote its first characters, and locally the secrets file's path. No
// answer, log line, metric or error a store throws (which the reconciler and the local stack print) may hold any part
// of a secret, nor where it is stored.

/** Realistic-looking keys (fixed, so the test is deterministic); no 4 characters of either are in payhook's wording. */
const STRIPE_KEY = 'whsec_MfKQ9r8GKYqrTAjpPBMu4Z7kXvQ2wN8a';
const PAYSTACK_KEY = 'sk_live_51HxQzL2eZvKYlo2C9dWmTq7rB4nPjU';
const NUMBER_KEY = '987650123498765';

const SECRET_NAME = 'shop-prod/stripe-webhook';
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_NAME}-AbCdEf`;

/** Every run of 4 or more characters of `secret` found in `text` (checking every 4-run covers the longer ones). */
function leakedParts(text: string, secret: string): string[] {
  const found = new Set<string>();
  for (let start = 0; start + 4 <= secret.length; start += 1) {
    const part = secret.slice(start, start + 4);
    if (text.includes(part)) found.add(part);
  }
  return [...found];
}

/** An error's message and everything it carries (own properties, its causes), as a log or a runtime would print it. */
function everythingIn(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    parts.push(String(current));
    if (typeof current === 'object') {
      for (const key of Object.getOwnPropertyNames(current)) {
        if (key === 'stack') continue;
        parts.push(`${key}=${String((current as Record<string, unknown>)[key])}`);
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

const SIGNED: Record<
  'stripe' | 'paystack',
  () => { body: string; headers: Readonly<Record<string, string>> }
> = {
  stripe: () => signStripe(readSample('stripe', 'payment_intent.succeeded'), { secret: STRIPE_KEY }),
  paystack: () => signPaystack(readSample('paystack', 'charge.success'), { secret: PAYSTACK_KEY }),
};

/**
 * A correctly signed webhook into the real ingest handler over `secrets`, and then the store asked directly (as the
 * reconciler asks it): everything that came out, as one text.
 */
async function whatComesOut(
  gateway: 'stripe' | 'paystack',
  secrets: SecretStore,
): Promise<{ status: number | undefined; error: string; text: string }> {
  const log = recordingLog();
  const metrics = new RecordingMetrics();
  const queue = new RecordingQueue();
  const handler = createIngestHandler(
    {
      adapters: ADAPTERS,
      settings: parseGatewaySettings(undefined),
      secrets,
      queue,
      maxBodyBytes: 256 * 1024,
      metrics,
    },
    log,
  );
  const signed = SIGNED[gateway]();
  const response = await handler(apiGatewayEvent(gateway, signed.body, { ...signed.headers }));
  expect(queue.isEmpty).toBe(true);
  const thrown = await secrets.get(gateway as GatewayName, { refresh: true }).then(
    () => 'nothing thrown',
    (error: unknown) => everythingIn(error),
  );
  expect(log.lines.length).toBeGreaterThan(0);
  return {
    status: response.statusCode,
    error: (JSON.parse(String(response.body)) as { error: string }).error,
    text: [
      String(response.body),
      JSON.stringify(response.headers),
      JSON.stringify(log.lines),
      JSON.stringify(metrics.added),
      thrown,
    ].join('\n'),
  };
}

describe('No part of a secret, nor where it is stored, in any answer, log line, metric or store error', () => {
  describe('Secrets Manager (the client mocked at its boundary)', () => {
    const secretsManager = mockClient(SecretsManagerClient);
    beforeEach(() => secretsManager.reset());

    const store = () =>
      new SecretsManagerStore({ stripe: SECRET_ARN }, { client: new SecretsManagerClient({}) });

    it.each([
      ['plain text instead of JSON', STRIPE_KEY, STRIPE_KEY],
      ['an API key as plain text', PAYSTACK_KEY, PAYSTACK_KEY],
      ['a JSON string', JSON.stringify(STRIPE_KEY), STRIPE_KEY],
      ['a JSON number', NUMBER_KEY, NUMBER_KEY],
      ['a list holding the key and a non-string', JSON.stringify([STRIPE_KEY, 5]), STRIPE_KEY],
      ['an object of the wrong shape', JSON.stringify({ secret: STRIPE_KEY }), STRIPE_KEY],
      ['a secrets list with a non-string', JSON.stringify({ secrets: [STRIPE_KEY, 7] }), STRIPE_KEY],
      [
        'an API key that is not a string',
        JSON.stringify({ secrets: ['x'.repeat(9)], apiKey: 5 }),
        'x'.repeat(9),
      ],
      ['truncated JSON', `{"secrets":["${STRIPE_KEY}`, STRIPE_KEY],
      ['truncated JSON starting with the key', `${STRIPE_KEY}"]}`, STRIPE_KEY],
      ['a quoted key cut short', `"${STRIPE_KEY}`, STRIPE_KEY],
    ])(
      'a secret stored as %s: 503 secrets_unavailable, and the key is nowhere',
      async (_name, stored, key) => {
        secretsManager.on(GetSecretValueCommand).resolves({ SecretString: stored });
        const out = await whatComesOut('stripe', store());
        expect([out.status, out.error]).toEqual([503, 'secrets_unavailable']);
        expect(leakedParts(out.text, key)).toEqual([]);
        for (const where of [SECRET_ARN, SECRET_NAME, 'AbCdEf', '123456789012'])
          expect(out.text).not.toContain(where);
        // The log still says which gateway and that its secret is the problem.
        expect(out.text).toContain('the stripe secret is not valid JSON of the documented shape');
      },
    );

    it('a secret stored as binary plain text: the same', async () => {
      secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: Buffer.from(STRIPE_KEY, 'utf8') });
      const out = await whatComesOut('stripe', store());
      expect([out.status, out.error]).toEqual([503, 'secrets_unavailable']);
      expect(leakedParts(out.text, STRIPE_KEY)).toEqual([]);
    });

    it.each([
      [
        'access denied (the SDK names the ARN)',
        Object.assign(
          new Error(
            `User: arn:aws:sts::123456789012:assumed-role/ingest/fn is not authorized to perform: secretsmanager:GetSecretValue on resource: ${SECRET_ARN}`,
          ),
          { name: 'AccessDeniedException' },
        ),
        'AccessDeniedException',
      ],
      [
        'a secret that does not exist',
        new ResourceNotFoundException({
          message: `Secrets Manager can't find the specified secret ${SECRET_NAME}.`,
          $metadata: {},
        }),
        'ResourceNotFoundException',
      ],
      ['a network failure', new Error(`connect ETIMEDOUT fetching ${SECRET_ARN}`), 'Error'],
    ])('%s: 503, the error class logged, the ARN and name nowhere', async (_name, failure, errorClass) => {
      secretsManager.on(GetSecretValueCommand).rejects(failure);
      const out = await whatComesOut('stripe', store());
      expect([out.status, out.error]).toEqual([503, 'secrets_unavailable']);
      for (const where of [SECRET_ARN, SECRET_NAME, 'AbCdEf', '123456789012', 'assumed-role'])
        expect(out.text).not.toContain(where);
      expect(out.text).toContain(`cannot fetch the stripe secret from Secrets Manager (${errorClass})`);
    });
  });

  describe('the local secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'payhook-leak-'));
    const fileWith = (content: string): string => {
      const path = join(dir, `secrets-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(path, content);
      return path;
    };

    it.each([
      ['the whole file as plain text', PAYSTACK_KEY, PAYSTACK_KEY],
      ['truncated JSON', `{"paystack":{"secrets":["${PAYSTACK_KEY}`, PAYSTACK_KEY],
      ['truncated JSON starting with the key', `${PAYSTACK_KEY}"]}}`, PAYSTACK_KEY],
      ['the file as a JSON string', JSON.stringify(PAYSTACK_KEY), PAYSTACK_KEY],
      ['the file as a list', JSON.stringify([PAYSTACK_KEY]), PAYSTACK_KEY],
      ["the gateway's entry as plain text", JSON.stringify({ paystack: PAYSTACK_KEY }), PAYSTACK_KEY],
      ["the gateway's entry as a number", `{"paystack": ${NUMBER_KEY}}`, NUMBER_KEY],
      ["the gateway's entry as a list", JSON.stringify({ paystack: [PAYSTACK_KEY, 3] }), PAYSTACK_KEY],
      ['the wrong shape', JSON.stringify({ paystack: { secret: PAYSTACK_KEY } }), PAYSTACK_KEY],
      [
        'a non-string beside the key',
        JSON.stringify({ paystack: { secrets: [PAYSTACK_KEY, 3] } }),
        PAYSTACK_KEY,
      ],
      [
        'a key pasted where a gateway name goes',
        JSON.stringify({ [PAYSTACK_KEY]: { secrets: ['x'.repeat(12)] } }),
        PAYSTACK_KEY,
      ],
    ])(
      '%s: 503 secrets_unavailable, and neither the key nor the file path anywhere',
      async (_name, content, key) => {
        const path = fileWith(content);
        const out = await whatComesOut('paystack', new FileSecretStore(path));
        expect([out.status, out.error]).toEqual([503, 'secrets_unavailable']);
        expect(leakedParts(out.text, key)).toEqual([]);
        for (const where of [path, dir, basename(path), basename(dir), dirname(dir)])
          expect(out.text).not.toContain(where);
      },
    );

    it('a missing file: 503, its error code logged, never its path', async () => {
      const path = join(dir, 'no-such-secrets-file.json');
      const out = await whatComesOut('paystack', new FileSecretStore(path));
      expect([out.status, out.error]).toEqual([503, 'secrets_unavailable']);
      expect(out.text).toContain('ENOENT');
      for (const where of [path, dir, 'no-such-secrets-file', basename(dir)])
        expect(out.text).not.toContain(where);
    });
  });
});
