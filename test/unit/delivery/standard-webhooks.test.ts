import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signStandard } from '../../../events/standard/sign.js';
import {
  newSigningSecret,
  SigningSecretError,
  signStandardWebhook,
} from '../../../lambdas/delivery/standard-webhooks.js';

const CURRENT = `whsec_${Buffer.from('the current key, 32 bytes long!!').toString('base64')}`;
const PREVIOUS = `whsec_${Buffer.from('the key before the rotation....').toString('base64')}`;
// Milliseconds on purpose: the header carries whole seconds, rounded down like the reference library.
const NOW = new Date('2026-11-30T10:00:07.890Z');
const ID = '4f1c2a9e-7b3d-4e5f-a0b1-c2d3e4f5a6b7';
const BODY = '{"type":"payment.succeeded","timestamp":"2026-11-30T10:00:00Z","data":{"id":"4f1c2a9e"}}';

function sign(overrides: Partial<Parameters<typeof signStandardWebhook>[0]> = {}) {
  return signStandardWebhook({ id: ID, timestamp: NOW, body: BODY, secrets: [CURRENT], ...overrides });
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('signStandardWebhook', () => {
  // The reference library checks the timestamp against its clock; pin the clock to the signing time.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('signs exactly as the reference library does, so merchants using it verify our deliveries', () => {
    const headers = sign();
    expect(headers).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': String(Math.floor(NOW.getTime() / 1000)),
      'webhook-signature': new Webhook(CURRENT).sign(ID, NOW, BODY),
    });
    expect(new Webhook(CURRENT).verify(BODY, headers)).toMatchObject({ type: 'payment.succeeded' });
  });

  it('matches our own sample signer (events/standard/sign.ts) for one secret', () => {
    const ours = signStandard(BODY, { secret: CURRENT, timestamp: NOW, eventId: ID });
    const { 'content-type': _contentType, ...standardHeaders } = ours.headers;
    expect(sign()).toEqual(standardHeaders);
  });

  it('signs with every secret during a rotation, current first, so a receiver holding either one verifies', () => {
    const headers = sign({ secrets: [CURRENT, PREVIOUS] });
    expect(headers['webhook-signature']).toBe(
      `${new Webhook(CURRENT).sign(ID, NOW, BODY)} ${new Webhook(PREVIOUS).sign(ID, NOW, BODY)}`,
    );
    expect(new Webhook(CURRENT).verify(BODY, headers)).toBeTruthy();
    expect(new Webhook(PREVIOUS).verify(BODY, headers)).toBeTruthy();
  });

  it('signs the UTF-8 bytes of a body with non-ASCII text, as receivers hash what they read off the wire', () => {
    const body = JSON.stringify({ type: 'payment.succeeded', data: { reference: 'Café ☕ — 東京 🎉' } });
    const headers = sign({ body });
    expect(headers['webhook-signature']).toBe(new Webhook(CURRENT).sign(ID, NOW, body));
    expect(new Webhook(CURRENT).verify(Buffer.from(body, 'utf8'), headers)).toBeTruthy();
  });

  it('accepts a secret given as plain base64, without the whsec_ prefix, as the same key', () => {
    expect(sign({ secrets: [CURRENT.slice('whsec_'.length)] })).toEqual(sign());
  });

  it.each([
    ['a tampered body', BODY.replace('4f1c2a9e"', '00000000"'), {}],
    ['a changed webhook-id', BODY, { 'webhook-id': 'msg_other' }],
    [
      'a changed webhook-timestamp',
      BODY,
      { 'webhook-timestamp': String(Math.floor(NOW.getTime() / 1000) - 1) },
    ],
  ])(
    'fails verification for %s, so the signature really covers id, timestamp and body',
    (_name, body, change) => {
      const headers = { ...sign(), ...change };
      expect(() => new Webhook(CURRENT).verify(body, headers)).toThrow(WebhookVerificationError);
    },
  );

  it('fails verification with a secret it was not signed with', () => {
    expect(() => new Webhook(PREVIOUS).verify(BODY, sign())).toThrow(WebhookVerificationError);
  });

  it.each([
    ['no secret at all', [], 'no signing secret is configured'],
    ['a secret of zero bytes (whsec_A)', ['whsec_A'], 'signing secret #1 decodes to 0 bytes'],
    [
      'a 15-byte secret',
      [`whsec_${Buffer.alloc(15, 7).toString('base64')}`],
      'signing secret #1 decodes to 15',
    ],
    ['a secret that is not base64', ['whsec_not base64 at all!!'], 'signing secret #1 is not whsec_<base64>'],
    ['a bad second secret, even after a good first one', [CURRENT, 'whsec_A'], 'signing secret #2'],
  ])('refuses to sign with %s, naming its position but never its text', (_name, secrets, message) => {
    const error = thrownBy(() => sign({ secrets }));
    expect(error).toBeInstanceOf(SigningSecretError);
    expect(String(error)).toContain(message);
    // Keys of a few characters would match the message's own words by chance; the real ones are long.
    for (const secret of secrets.filter((text) => text.length > 12)) {
      expect(String(error)).not.toContain(secret.slice('whsec_'.length));
    }
  });

  it('accepts a 16-byte secret, the floor our own verifier accepts', () => {
    const secret = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    expect(new Webhook(secret).verify(BODY, sign({ secrets: [secret] }))).toBeTruthy();
  });

  it.each([
    ['an empty id', ''],
    ['an id with a space', 'msg 1'],
    ['an id with a line break (header injection)', 'msg_1\r\nx-evil: 1'],
    ['an id with non-ASCII text', 'msg_é'],
  ])('refuses %s, which a receiver could not read back byte for byte', (_name, id) => {
    expect(() => sign({ id })).toThrow('the webhook id must be non-empty visible ASCII');
  });

  it('refuses an invalid date instead of signing the text "NaN"', () => {
    expect(() => sign({ timestamp: new Date('not a date') })).toThrow('not a valid date');
  });
});

describe('newSigningSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes, which the reference library and our signer both take', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const now = new Date();
    const headers = signStandardWebhook({ id: ID, timestamp: now, body: BODY, secrets: [secret] });
    expect(new Webhook(secret).verify(BODY, headers)).toBeTruthy();
  });

  it('makes a different secret every time, so two destinations never share a key', () => {
    const secrets = new Set(Array.from({ length: 20 }, () => newSigningSecret()));
    expect(secrets.size).toBe(20);
  });
});
