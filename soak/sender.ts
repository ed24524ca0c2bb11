import type { SignedWebhook } from '../events/index.js';
import { forge, sign } from './gateways.js';
import type { Delivery } from './generator.js';

/**
 * The gateway's delivery behaviour: POST the signed bytes; on a 5xx or a network error, resend the very same bytes
 * (bounded, with back-off) until a 2xx, as gateways do; a 4xx is final. Back-off is scaled down from the gateways'
 * minutes to tens of milliseconds so the soak runs in minutes.
 */
export interface DeliveryStats {
  /** HTTP requests made, retries included. */
  requests: number;
  /** Webhooks (first copy, duplicates, forgeries, poison) finally answered 2xx. */
  accepted: number;
  /** Finally answered 4xx. */
  rejected: number;
  /** Forged copies refused as they must be (401). */
  forgedRefused: number;
  /** Webhooks that were answered 5xx (or failed on the network) at least once and resent. */
  retried: number;
  /** 5xx answers seen. */
  serverErrors: number;
  /** Webhooks still refused after every retry: a gateway would keep trying, the soak counts them lost. */
  gaveUp: number;
  /** Valid copies accepted beyond the first of each event (what the consumers must absorb). */
  duplicatesAccepted: number;
  /** Answers that are not what the webhook deserved (a valid one refused, a forged one accepted). */
  unexpected: string[];
}

export function emptyStats(): DeliveryStats {
  return {
    requests: 0,
    accepted: 0,
    rejected: 0,
    forgedRefused: 0,
    retried: 0,
    serverErrors: 0,
    gaveUp: 0,
    duplicatesAccepted: 0,
    unexpected: [],
  };
}

export interface SenderOptions {
  readonly url: string;
  readonly maxAttempts: number;
  /** Called before each first copy is sent: where the fault injector starts outages. */
  readonly beforeSend?: () => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one webhook until final; returns the final status (0 if it never got one). */
async function send(
  options: SenderOptions,
  gateway: string,
  signed: SignedWebhook,
  stats: DeliveryStats,
): Promise<number> {
  let retried = false;
  for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
    stats.requests += 1;
    let status = 0;
    try {
      const response = await fetch(`${options.url}/webhooks/${gateway}`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 0;
    }
    if (status >= 200 && status < 500) return status;
    if (status >= 500) stats.serverErrors += 1;
    if (!retried) {
      retried = true;
      stats.retried += 1;
    }
    await sleep(Math.min(1000, 50 * 2 ** (attempt - 1)));
  }
  stats.gaveUp += 1;
  return 0;
}

export async function deliver(
  delivery: Delivery,
  options: SenderOptions,
  stats: DeliveryStats,
): Promise<void> {
  const { gateway } = delivery.payment;
  if (delivery.delayMs > 0) await sleep(delivery.delayMs);
  // Signed when first sent (Stripe's timestamp must be fresh); every copy and retry then sends these bytes.
  const signed = sign(gateway, delivery.event);
  options.beforeSend?.();
  const what = `${gateway} ${delivery.payment.reference} ${delivery.event.step}${delivery.poison ? ' (poison)' : ''}`;
  const record = (status: number, isCopy: boolean) => {
    if (status >= 200 && status < 300) {
      stats.accepted += 1;
      if (isCopy) stats.duplicatesAccepted += 1;
    } else if (status >= 400) {
      stats.rejected += 1;
      stats.unexpected.push(`${what}: answered ${status}`);
    }
  };
  for (let copy = 0; copy < delivery.sequentialCopies; copy += 1) {
    record(await send(options, gateway, signed, stats), copy > 0);
  }
  if (delivery.concurrentCopies > 0) {
    const statuses = await Promise.all(
      Array.from({ length: delivery.concurrentCopies }, () => send(options, gateway, signed, stats)),
    );
    for (const status of statuses) record(status, true);
  }
  // The same signed body under fresh, unsigned event-id headers: the same event, so accepted and changing nothing.
  for (let replay = 0; replay < delivery.headerReplays; replay += 1) {
    const fresh = `evt_replay${replay}_${delivery.event.sourceEventId.slice(-24)}`;
    record(await send(options, gateway, sign(gateway, delivery.event, fresh), stats), true);
  }
  if (delivery.forged) {
    const status = await send(options, gateway, forge(gateway, delivery.event), stats);
    if (status === 401) {
      stats.rejected += 1;
      stats.forgedRefused += 1;
    } else {
      if (status >= 200 && status < 300) stats.accepted += 1;
      stats.unexpected.push(`${what}: a forged copy was answered ${status}, not 401`);
    }
  }
}

/** Sends a phase's deliveries with at most `concurrency` in flight. */
export async function deliverAll(
  deliveries: readonly Delivery[],
  concurrency: number,
  options: SenderOptions,
  stats: DeliveryStats,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const delivery = deliveries[index];
      if (delivery === undefined) return;
      await deliver(delivery, options, stats);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, worker));
}
