import type { GatewayName } from '../domain/webhook-event.js';
import { adyen } from './adyen.js';
import { flutterwave } from './flutterwave.js';
import { oxapay } from './oxapay.js';
import { paystack } from './paystack.js';
import { razorpay } from './razorpay.js';
import { standard } from './standard.js';
import { stripe } from './stripe.js';
import type { GatewayAdapter } from './types.js';

/** Every adapter, by route name. Adding a gateway: its module, its samples and signer in events/, one line here. */
export const ADAPTERS: Readonly<Record<GatewayName, GatewayAdapter>> = {
  paystack,
  flutterwave,
  oxapay,
  razorpay,
  stripe,
  standard,
  adyen,
};
