import type { GatewayName } from '../../domain/webhook-event.js';
import type { GatewayVerifier } from '../verify.js';
import { flutterwaveVerifier } from './flutterwave.js';
import { oxapayVerifier } from './oxapay.js';
import { paystackVerifier } from './paystack.js';
import { razorpayVerifier } from './razorpay.js';
import { stripeVerifier } from './stripe.js';

export { flutterwaveVerifier, oxapayVerifier, paystackVerifier, razorpayVerifier, stripeVerifier };

/**
 * The verifier of each gateway that has a verify API. Adyen has none here (it treats webhooks as the source of truth
 * and offers no simple payment-status lookup for most flows), and Standard Webhooks is a signing spec, not a gateway
 * with an API: payments from either can only be expired by the reconciler, never verified.
 */
export const VERIFIERS: Partial<Record<GatewayName, GatewayVerifier>> = {
  paystack: paystackVerifier,
  flutterwave: flutterwaveVerifier,
  razorpay: razorpayVerifier,
  oxapay: oxapayVerifier,
  stripe: stripeVerifier,
};
