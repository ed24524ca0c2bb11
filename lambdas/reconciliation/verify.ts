import type { Money } from '../domain/money.js';
import type { GatewayName } from '../domain/webhook-event.js';

/**
 * Asking a gateway about a payment: the contract between the reconciler and one verifier per gateway
 * (`lambdas/reconciliation/verifiers/<gateway>.ts`). Verifiers do HTTP only; what an answer means for the payment
 * record is decided by the reconciler, through the same state machine webhooks go through.
 */

/** What the gateway says about the payment, mapped to payhook's terms. */
export type VerifiedStatus = 'pending' | 'authorized' | 'succeeded' | 'failed' | 'expired';

export interface VerifyTarget {
  readonly gateway: GatewayName;
  /** The merchant's reference (Paystack, Flutterwave look payments up by it). */
  readonly reference?: string;
  /** The gateway's id (OXA Pay track_id, Stripe PaymentIntent, Razorpay order or payment id). */
  readonly gatewayPaymentId?: string;
}

export interface VerifyResult {
  readonly status: VerifiedStatus;
  /** The amount the gateway reports, exact (never a float). */
  readonly money?: Money;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  /**
   * The id the gateway's webhooks name this money by (the payment record's money-in fact): Paystack's and
   * Flutterwave's transaction id, Stripe's PaymentIntent, Razorpay's payment (`pay_`), OXA Pay's track id.
   */
  readonly factId?: string;
  /** The gateway's own status word, for the history and logs. */
  readonly gatewayStatus: string;
}

/**
 * API credentials, from the same gateway secret as the signing secrets (documented extra keys): `apiKey` (Paystack
 * and OXA Pay default to their signing key, which is the same key; Flutterwave and Stripe need their secret API key),
 * `keyId` and `keySecret` (Razorpay).
 */
export interface ApiCredentials {
  readonly apiKey?: string;
  readonly keyId?: string;
  readonly keySecret?: string;
}

export interface VerifyOptions {
  /** The gateway API's base URL (configurable, so tests and the local sandbox can stand in). */
  readonly baseUrl: string;
  /** Per request. @default 5000 */
  readonly timeoutMs?: number;
  /** Attempts on 429, 5xx and timeouts, with exponential back-off. @default 3 */
  readonly attempts?: number;
  /** Base back-off; doubled per attempt; a Retry-After header wins. @default 500 */
  readonly backoffMs?: number;
}

/** The gateway could not answer now (429, 5xx, timeout, network): leave the payment pending, try next run. */
export class VerifyUnavailableError extends Error {
  override readonly name = 'VerifyUnavailableError';
}

/** The gateway answered something payhook cannot read: logged and skipped, never applied. */
export class VerifyMalformedError extends Error {
  override readonly name = 'VerifyMalformedError';
}

/** The gateway does not know the payment (404): nothing to apply; it may still appear, or expire. */
export class VerifyNotFoundError extends Error {
  override readonly name = 'VerifyNotFoundError';
}

/** The payment cannot be asked about: no verify API, or no id or credentials for it. */
export class VerifyUnsupportedError extends Error {
  override readonly name = 'VerifyUnsupportedError';
}

export interface GatewayVerifier {
  readonly gateway: GatewayName;
  /** The gateway API's production base URL. */
  readonly defaultBaseUrl: string;
  /**
   * The credentials every request needs: without them the reconciler leaves the gateway alone (its payments are not
   * expired for want of asking). @default - none
   */
  readonly requiredCredentials?: readonly (keyof ApiCredentials)[];
  verify(target: VerifyTarget, credentials: ApiCredentials, options: VerifyOptions): Promise<VerifyResult>;
}
