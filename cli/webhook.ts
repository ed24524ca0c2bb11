/**
 * Webhooks as the CLI makes them: a gateway's sample, signed with the local development secret exactly as the gateway
 * would sign it, and read back through payhook's own adapter to learn the identifiers payhook will see.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'lossless-json';
import {
  DEFAULT_SAMPLES,
  devSecret,
  listSamples,
  readSample,
  SIGNERS,
  type SignedWebhook,
} from '../events/index.js';
import { paymentKeyOf } from '../lambdas/domain/payment.js';
import {
  GATEWAYS,
  type GatewayName,
  isGatewayName,
  type WebhookEvent,
} from '../lambdas/domain/webhook-event.js';
import { textAt } from '../lambdas/gateways/payload.js';
import { ADAPTERS } from '../lambdas/gateways/registry.js';
import { type GatewaySettings, parseGatewaySettings } from '../lambdas/gateways/settings.js';
import { CliError } from './io.js';

/** The gateway named on the command line, or a {@link CliError} listing the valid ones. */
export function gatewayArgument(name: string): GatewayName {
  if (isGatewayName(name)) return name;
  throw new CliError(`unknown gateway "${name}": expected one of ${GATEWAYS.join(', ')}`);
}

/** A sample to send: its name (for output) and its exact text. */
export interface Sample {
  readonly name: string;
  readonly payload: string;
}

/**
 * A named sample of `events/<gateway>/` (the gateway's main success event when `name` is omitted), or a path to a
 * JSON file of one's own (anything ending in `.json` or containing a slash). Unknown names list the valid ones.
 */
export function sampleArgument(gateway: GatewayName, name: string | undefined): Sample {
  if (name === undefined) {
    const main = DEFAULT_SAMPLES[gateway];
    return { name: main, payload: readSample(gateway, main) };
  }
  if (name.endsWith('.json') || name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(name);
    if (!existsSync(path)) throw new CliError(`no such sample file: ${path}`);
    return { name, payload: readFileSync(path, 'utf8') };
  }
  const known = listSamples(gateway);
  if (!known.includes(name)) {
    throw new CliError(`unknown ${gateway} sample "${name}": expected one of ${known.join(', ')}`);
  }
  return { name, payload: readSample(gateway, name) };
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

/** The events payhook will make of a signed webhook, read locally with the gateway's own adapter. */
export function normaliseSigned(
  gateway: GatewayName,
  webhook: SignedWebhook,
  settings: GatewaySettings,
): WebhookEvent[] {
  const headers = Object.fromEntries(
    Object.entries(webhook.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return [
    ...ADAPTERS[gateway].normalise(
      { headers, body: Buffer.from(webhook.body, 'utf8'), receivedAt: new Date(), requestId: 'payhook-cli' },
      settings,
    ).events,
  ];
}

/** What payhook will make of a webhook: per event, its dedupe id and the payment key `payments show` takes. */
export interface WebhookIdentity {
  readonly eventId: string;
  readonly eventType: string;
  /** `undefined` for events about no payment (an OXA Pay payout). */
  readonly paymentKey: string | undefined;
}

/** The gateway settings payhook runs with, so identifiers are read the same way (e.g. Stripe metadata keys). */
export function settingsFromEnv(
  gateway: GatewayName,
  env: Readonly<Record<string, string | undefined>>,
): GatewaySettings {
  try {
    return parseGatewaySettings(env.PAYHOOK_GATEWAY_SETTINGS)[gateway];
  } catch (error) {
    throw new CliError(`PAYHOOK_GATEWAY_SETTINGS: ${(error as Error).message}`);
  }
}

/**
 * Normalises the signed webhook with the gateway's adapter, as ingest will. Throws when the adapter cannot read it;
 * items of a batch it cannot read are left out.
 */
export function identify(
  gateway: GatewayName,
  webhook: SignedWebhook,
  settings: GatewaySettings,
): WebhookIdentity[] {
  return normaliseSigned(gateway, webhook, settings).map((event) => ({
    eventId: event.eventId,
    eventType: event.eventType,
    paymentKey: paymentKeyOf(event),
  }));
}
