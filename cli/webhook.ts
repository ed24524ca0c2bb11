/**
 * Webhooks as the CLI makes them: a gateway's sample, signed with the local development secret exactly as the gateway
 * would sign it, and read back through payhook's own adapter to learn the identifiers payhook will see.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_SAMPLES, listSamples, readSample, type SignedWebhook } from '../events/index.js';
import { paymentKeyOf } from '../lambdas/domain/payment.js';
import {
  GATEWAYS,
  type GatewayName,
  isGatewayName,
  type WebhookEvent,
} from '../lambdas/domain/webhook-event.js';
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
