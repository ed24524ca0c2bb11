import { isPaymentNamed, type Payment, paymentKeyOf, previousPaymentKeysOf } from '../domain/payment.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { PaymentStore } from '../ports/payment-store.js';

/**
 * The stored payment that these identifiers name: under today's key (see `paymentKeyOf`), else under a key an earlier
 * release gave them, when the record there is this payment (see `isPaymentNamed`). A record written by an earlier
 * release keeps its key for good; only an event naming a payment by its other kind of identifier (or by one starting
 * with the mark), or a Stripe session or charge without a PaymentIntent, costs more reads, and only until its payment
 * exists.
 */
export async function storedPayment(
  store: Pick<PaymentStore, 'get'>,
  identifiers: Pick<WebhookEvent, 'gateway' | 'reference' | 'gatewayPaymentId'>,
): Promise<Payment | undefined> {
  const key = paymentKeyOf(identifiers);
  if (key === undefined) return undefined;
  const current = await store.get(identifiers.gateway, key);
  if (current) return current;
  for (const previous of previousPaymentKeysOf(identifiers)) {
    const written = await store.get(identifiers.gateway, previous);
    if (written && isPaymentNamed(written, identifiers)) return written;
  }
  return undefined;
}
