import {
  formatMajor,
  InvalidAmountError,
  type Money,
  moneyFromMajor,
  moneyFromMinor,
  normaliseCurrency,
} from './money.js';
import { type Announcement, emptyPayment, type Payment, paymentKeyOf, sameMoney, settle } from './payment.js';
import { GATEWAYS, type GatewayName, isGatewayName } from './webhook-event.js';

/** A payment the merchant's checkout expects: what the reconciler asks the gateway about if no webhook comes. */
export interface Registration {
  readonly gateway: GatewayName;
  readonly reference: string;
  readonly gatewayPaymentId?: string;
  readonly expected: Money;
  readonly expiresAt?: string;
}

/** A registration body that cannot be used; `field` names the part at fault, for the 400 answer. */
export class InvalidRegistrationError extends Error {
  override readonly name = 'InvalidRegistrationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Gateways whose verify API is keyed by their own id, which therefore must be given at registration. */
const NEEDS_GATEWAY_ID: Readonly<Partial<Record<GatewayName, string>>> = {
  oxapay: 'the OXA Pay track_id',
  stripe: 'the Stripe PaymentIntent id (pi_...)',
  razorpay: 'the Razorpay order id (order_...)',
};

function text(body: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw new InvalidRegistrationError(field, `"${field}" is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '' || value.length > 256) {
    throw new InvalidRegistrationError(
      field,
      `"${field}" must be a non-empty string of at most 256 characters`,
    );
  }
  return value;
}

function expectedMoney(body: Record<string, unknown>): Money {
  const currency = body.currency;
  if (currency === undefined)
    throw new InvalidRegistrationError('currency', '"currency" is required, e.g. "NGN"');
  let code: string;
  try {
    code = normaliseCurrency(currency);
  } catch {
    throw new InvalidRegistrationError(
      'currency',
      `"currency" ${JSON.stringify(currency)} is not a currency code`,
    );
  }
  const amount = body.amount;
  try {
    // An exact decimal string in major units ("2500.00"), or an integer of minor units; never a float.
    if (typeof amount === 'string' && /^\d+(\.\d+)?$/.test(amount.trim()))
      return moneyFromMajor(amount, code);
    if (typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0)
      return moneyFromMinor(String(amount), code);
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new InvalidRegistrationError('amount', error.message);
    throw error;
  }
  throw new InvalidRegistrationError(
    'amount',
    '"amount" must be a decimal string in major units ("2500.00") or an integer of minor units (250000); never a float',
  );
}

/** Checks a `POST /payments` body; throws {@link InvalidRegistrationError} naming the field at fault. */
export function parseRegistration(body: unknown): Registration {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRegistrationError('body', 'the body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  if (!isGatewayName(fields.gateway)) {
    throw new InvalidRegistrationError('gateway', `"gateway" must be one of ${GATEWAYS.join(', ')}`);
  }
  const gateway = fields.gateway;
  const reference = text(fields, 'reference', true) as string;
  const gatewayPaymentId = text(fields, 'gatewayPaymentId', false);
  if (gatewayPaymentId === undefined && NEEDS_GATEWAY_ID[gateway]) {
    throw new InvalidRegistrationError(
      'gatewayPaymentId',
      `${gateway} payments are looked up by ${NEEDS_GATEWAY_ID[gateway]}: give it as "gatewayPaymentId"`,
    );
  }
  const expiresAt = text(fields, 'expiresAt', false);
  if (expiresAt !== undefined && Number.isNaN(Date.parse(expiresAt))) {
    throw new InvalidRegistrationError('expiresAt', '"expiresAt" must be an ISO 8601 time');
  }
  return {
    gateway,
    reference,
    expected: expectedMoney(fields),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    ...(expiresAt !== undefined && { expiresAt: new Date(expiresAt).toISOString() }),
  };
}

/**
 * The id a registration's write is remembered by among the payment's recent events: one per write (the version it
 * writes), so a later registration that announces something is never mistaken for an earlier one that did not.
 */
export function registrationEventId(version: number): string {
  return `${REGISTRATION_EVENT_PREFIX}${version}`;
}

export const REGISTRATION_EVENT_PREFIX = 'registration:';

/**
 * A registration that differs from what the payment already holds: registrations never overwrite (a checkout's
 * second call with another amount must not turn a short payment into a success). `field` names what differs.
 */
export class RegistrationConflictError extends Error {
  override readonly name = 'RegistrationConflictError';
  constructor(
    readonly field: 'reference' | 'gatewayPaymentId' | 'amount' | 'currency',
    message: string,
  ) {
    super(message);
  }
}

/** What of the registration disagrees with the payment found for it, if anything. */
function conflictWith(payment: Payment, registration: Registration): RegistrationConflictError | undefined {
  if (payment.reference !== undefined && payment.reference !== registration.reference) {
    return new RegistrationConflictError(
      'reference',
      `this payment is already known under another reference (${payment.reference})`,
    );
  }
  if (
    payment.gatewayPaymentId !== undefined &&
    registration.gatewayPaymentId !== undefined &&
    payment.gatewayPaymentId !== registration.gatewayPaymentId
  ) {
    return new RegistrationConflictError(
      'gatewayPaymentId',
      `this payment is already known under another gateway id (${payment.gatewayPaymentId})`,
    );
  }
  const { expected } = payment;
  if (expected !== undefined && expected.currency !== registration.expected.currency) {
    return new RegistrationConflictError(
      'currency',
      `this payment was registered in ${expected.currency}; the expectation is kept`,
    );
  }
  if (expected !== undefined && !sameMoney(expected, registration.expected)) {
    return new RegistrationConflictError(
      'amount',
      `this payment was registered for ${formatMajor(expected)} ${expected.currency}; the expectation is kept`,
    );
  }
  return undefined;
}

/**
 * What a registration does to a payment. The expectation is a fact like the others: a new payment starts `pending`
 * with it; on an existing one without an expectation it is recorded and the status derived again, so money in that
 * differs from it gives `amount_mismatch` whichever came first (and announces it). Registering the same again changes
 * nothing; registering something else throws {@link RegistrationConflictError} and changes nothing either.
 */
export function applyRegistration(
  payment: Payment | undefined,
  registration: Registration,
  now: Date,
): { readonly next?: Payment; readonly created: boolean; readonly announcements: readonly Announcement[] } {
  const at = now.toISOString();
  if (payment !== undefined) {
    const conflict = conflictWith(payment, registration);
    if (conflict) throw conflict;
    const unchanged =
      payment.expected !== undefined &&
      (registration.expiresAt === undefined || payment.expiresAt !== undefined) &&
      (registration.gatewayPaymentId === undefined || payment.gatewayPaymentId !== undefined);
    if (unchanged) return { created: false, announcements: [] };
  }
  const base =
    payment ?? emptyPayment(registration.gateway, paymentKeyOf(registration) ?? registration.reference, at);
  const gatewayPaymentId = base.gatewayPaymentId ?? registration.gatewayPaymentId;
  const expiresAt = base.expiresAt ?? registration.expiresAt;
  const withExpectation: Payment = {
    ...base,
    reference: base.reference ?? registration.reference,
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    expected: base.expected ?? registration.expected,
    ...(expiresAt !== undefined && { expiresAt }),
  };
  const decision = settle(payment, withExpectation, registrationEventId((payment?.version ?? 0) + 1), at);
  return {
    created: payment === undefined,
    ...(decision.next && { next: decision.next }),
    announcements: decision.announcements,
  };
}
