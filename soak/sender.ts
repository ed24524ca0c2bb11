import type { SignedWebhook } from '../events/index.js';
import { claimHeaders, forge, MINOR_DIGITS, majorText, sign } from './gateways.js';
import type { Delivery, RegistrationStep, Step } from './generator.js';

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
  /** Unverified claims (verif-hash alone) accepted, as they must be (200: recorded as claims, confirmed later). */
  claimsAccepted: number;
  /** Registration requests made (retries on 5xx included), and their final answers. */
  registrationRequests: number;
  /** 201: the first registration made the payment. */
  registrationsCreated: number;
  /** 200: the payment existed (a webhook made it first, or the same registration again). */
  registrationsKnown: number;
  /** 409 `registration_conflict` naming the field that differs, as planned. */
  registrationConflictsRefused: number;
  /** Answers that are not what the webhook or registration deserved (a valid one refused, a forged one accepted). */
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
    claimsAccepted: 0,
    registrationRequests: 0,
    registrationsCreated: 0,
    registrationsKnown: 0,
    registrationConflictsRefused: 0,
    unexpected: [],
  };
}

/** A webhook the stack answered 2xx: what an `original` destination may receive, byte for byte. */
export interface AcceptedWebhook {
  readonly gateway: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** `claim`: verif-hash alone (never confirmed in the soak); `poison`: dead-lettered by the consumer, never applied. */
  readonly kind: 'signed' | 'claim' | 'poison';
}

export interface SenderOptions {
  readonly url: string;
  readonly maxAttempts: number;
  /** Called before each first copy is sent: where the fault injector starts outages. */
  readonly beforeSend?: () => void;
  /** Called for each webhook answered 2xx (every copy), with the exact bytes and headers sent. */
  readonly onAccepted?: (webhook: AcceptedWebhook) => void;
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
  // Signed when first sent (Stripe's timestamp must be fresh); every copy and retry then sends these bytes. A claim is
  // not signed: it carries only the (leaked) verif-hash, maybe beside another body's signature.
  const isClaim = delivery.event.claim !== undefined;
  const signed = isClaim ? claimHeaders(delivery.event) : sign(gateway, delivery.event);
  options.beforeSend?.();
  const what = `${gateway} ${delivery.payment.reference} ${delivery.event.step}${delivery.poison ? ' (poison)' : ''}`;
  const kind = isClaim ? 'claim' : delivery.poison ? 'poison' : 'signed';
  const record = (status: number, isCopy: boolean, sent: SignedWebhook = signed) => {
    if (status >= 200 && status < 300) {
      options.onAccepted?.({ gateway, body: sent.body, headers: sent.headers, kind });
      stats.accepted += 1;
      if (isClaim) stats.claimsAccepted += 1;
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
    const replayed = sign(gateway, delivery.event, fresh);
    record(await send(options, gateway, replayed, stats), true, replayed);
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

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One `POST /payments`, resent on a 5xx or a network error as a checkout would (bounded, with back-off). */
async function postRegistration(
  options: SenderOptions,
  body: Record<string, unknown>,
  stats: DeliveryStats,
): Promise<Answer> {
  for (let attempt = 1; attempt <= options.maxAttempts; attempt += 1) {
    stats.registrationRequests += 1;
    try {
      const response = await fetch(`${options.url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status < 500) {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // Left empty: the checks below name what was missing.
        }
        return { status: response.status, body: parsed };
      }
    } catch {
      // A network error: resent like a 5xx.
    }
    await sleep(Math.min(1000, 50 * 2 ** (attempt - 1)));
  }
  stats.gaveUp += 1;
  return { status: 0, body: {} };
}

/**
 * A payment's registrations, in order: the first (its copies at once: 201 for the one that made the payment, 200 for
 * the others or when a webhook made it first), the same again (200, the expectation unchanged), then each conflict
 * (409 `registration_conflict` naming the field). Anything else is unexpected.
 */
export async function registerAll(
  step: RegistrationStep,
  options: SenderOptions,
  stats: DeliveryStats,
): Promise<void> {
  if (step.delayMs > 0) await sleep(step.delayMs);
  const { payment } = step;
  const digits = MINOR_DIGITS[payment.currency] ?? 2;
  const bodyOf = (amountMinor: number, currency: string): Record<string, unknown> => ({
    gateway: payment.gateway,
    reference: payment.reference,
    amount: step.amountAs === 'major' ? majorText(amountMinor, digits) : amountMinor,
    currency: step.amountAs === 'major' ? currency.toLowerCase() : currency,
    ...(step.gatewayPaymentId !== undefined && { gatewayPaymentId: step.gatewayPaymentId }),
  });
  const what = `registration of ${payment.gateway} ${payment.reference}`;
  const expected = { amount: majorText(step.amountMinor, digits), currency: step.currency };
  const keptExpectation = (answer: Answer) => {
    const kept = answer.body.expected as { amount?: unknown; currency?: unknown } | null | undefined;
    return kept?.amount === expected.amount && kept?.currency === expected.currency;
  };
  const first = bodyOf(step.amountMinor, step.currency);
  const firsts = await Promise.all(
    Array.from({ length: step.firstCopies }, () => postRegistration(options, first, stats)),
  );
  for (const answer of firsts) {
    if (answer.status === 201) stats.registrationsCreated += 1;
    else if (answer.status === 200) stats.registrationsKnown += 1;
    if ((answer.status !== 201 && answer.status !== 200) || !keptExpectation(answer)) {
      stats.unexpected.push(`${what}: answered ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  }
  if (firsts.filter((answer) => answer.status === 201).length > 1) {
    stats.unexpected.push(`${what}: two registrations at once both answered 201 (created)`);
  }
  for (let again = 0; again < step.again; again += 1) {
    const answer = await postRegistration(options, first, stats);
    if (answer.status === 200) stats.registrationsKnown += 1;
    if (answer.status !== 200 || !keptExpectation(answer)) {
      stats.unexpected.push(
        `${what} again: answered ${answer.status} ${JSON.stringify(answer.body)}, not 200`,
      );
    }
  }
  for (const conflict of step.conflicts) {
    const answer = await postRegistration(options, bodyOf(conflict.amountMinor, conflict.currency), stats);
    if (
      answer.status === 409 &&
      answer.body.error === 'registration_conflict' &&
      answer.body.field === conflict.field
    ) {
      stats.registrationConflictsRefused += 1;
    } else {
      stats.unexpected.push(
        `${what} with another ${conflict.field}: answered ${answer.status} ${JSON.stringify(answer.body)}, not 409 naming "${conflict.field}"`,
      );
    }
  }
}

/** Sends a phase's steps (webhooks and registrations) with at most `concurrency` in flight. */
export async function deliverAll(
  steps: readonly Step[],
  concurrency: number,
  options: SenderOptions,
  stats: DeliveryStats,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const step = steps[index];
      if (step === undefined) return;
      if (step.kind === 'registration') await registerAll(step, options, stats);
      else await deliver(step, options, stats);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, steps.length) }, worker));
}
