import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'lossless-json';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { textAt } from '../lambdas/gateways/payload.js';
import { signAdyen } from './adyen/sign.js';
import { signFlutterwave } from './flutterwave/sign.js';
import { signOxapay } from './oxapay/sign.js';
import { signPaystack } from './paystack/sign.js';
import { signRazorpay } from './razorpay/sign.js';
import type { SignedWebhook, WebhookSigner } from './signing.js';
import { signStandard } from './standard/sign.js';
import { signStripe } from './stripe/sign.js';

export type { SignedWebhook, SignOptions, WebhookSigner } from './signing.js';

const EVENTS_DIR = dirname(fileURLToPath(import.meta.url));

/** The fake development secrets that sign the samples (and that the local stack uses by default). */
export const DEV_SECRETS_FILE = join(EVENTS_DIR, 'dev-secrets.json');

export const SIGNERS: Readonly<Record<GatewayName, WebhookSigner>> = {
  paystack: signPaystack,
  flutterwave: signFlutterwave,
  oxapay: signOxapay,
  razorpay: signRazorpay,
  stripe: signStripe,
  standard: signStandard,
  adyen: signAdyen,
};

/** The main success event of each gateway: what `payhook send <gateway>` sends when no sample is named. */
export const DEFAULT_SAMPLES: Readonly<Record<GatewayName, string>> = {
  paystack: 'charge.success',
  flutterwave: 'charge.completed',
  oxapay: 'invoice.paid',
  razorpay: 'payment.captured',
  stripe: 'payment_intent.succeeded',
  standard: 'payment.succeeded',
  adyen: 'AUTHORISATION',
};

/** Sample names for a gateway (file names under `events/<gateway>/` without `.json`). */
export function listSamples(gateway: GatewayName): string[] {
  return readdirSync(join(EVENTS_DIR, gateway))
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** A sample's exact text. */
export function readSample(gateway: GatewayName, name: string): string {
  return readFileSync(join(EVENTS_DIR, gateway, `${name}.json`), 'utf8');
}

/** The first (current) development secret of a gateway. */
export function devSecret(gateway: GatewayName, key: 'secrets' | 'payoutSecrets' = 'secrets'): string {
  const secrets = JSON.parse(readFileSync(DEV_SECRETS_FILE, 'utf8')) as Record<
    string,
    Record<string, string[]>
  >;
  const value = secrets[gateway]?.[key]?.[0];
  if (value === undefined) throw new Error(`no development ${key} for ${gateway} in ${DEV_SECRETS_FILE}`);
  return value;
}

/** OXA Pay signs payout callbacks with the payout API key, every other callback with the merchant key. */
function isOxapayPayout(payload: string): boolean {
  try {
    return textAt(parse(payload), ['type'])?.toLowerCase() === 'payout';
  } catch {
    // Not JSON: nothing says payout, and the merchant key is what the receiver will then try.
    return false;
  }
}

/** The development secret the local stack verifies this payload with. */
export function devSigningSecret(gateway: GatewayName, payload: string): string {
  return gateway === 'oxapay' && isOxapayPayout(payload)
    ? devSecret('oxapay', 'payoutSecrets')
    : devSecret(gateway, 'secrets');
}

/**
 * Signs `payload` with the development secret, timestamped now for the schemes that sign a time. `eventId` is the
 * header-borne event id (Razorpay, Standard Webhooks); without one the signer derives it from the body.
 */
export function signWithDevSecret(gateway: GatewayName, payload: string, eventId?: string): SignedWebhook {
  const secret = devSigningSecret(gateway, payload);
  return SIGNERS[gateway](payload, eventId === undefined ? { secret } : { secret, eventId });
}
