import { isPaymentNamed, type Payment, paymentKeyOf, previousPaymentKeyOf } from '../domain/payment.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { PaymentStore } from './ports.js';

/**
 * The stored payment that these identifiers name: under today's key (see `paymentKeyOf`), else under the key the
 * previous release gave them, when the record there is this payment (see `isPaymentNamed`). A record written before
 * keys were marked keeps its key for good; only an event naming a payment by its other kind of identifier (or by one
 * starting with the mark) costs the second read, and only until its payment exists.
 */
export async function storedPayment(
  store: Pick<PaymentStore, 'get'>,
  identifiers: Pick<WebhookEvent, 'gateway' | 'reference' | 'gatewayPaymentId'>,
): Promise<Payment | undefined> {
  const key = paymentKeyOf(identifiers);
  if (key === undefined) return undefined;
  const current = await store.get(identifiers.gateway, key);
  if (current) return current;
  const previous = previousPaymentKeyOf(identifiers);
  if (previous === undefined || previous === key) return undefined;
  const written = await store.get(identifiers.gateway, previous);
  return written && isPaymentNamed(written, identifiers) ? written : undefined;
}
