import { randomBytes } from 'node:crypto';
import {
  devSecret,
  readSample,
  SIGNERS,
  type SignedWebhook,
  type WebhookSigner,
} from '../../events/index.js';
import type { Priority } from '../../lambdas/definitions.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';

/** What the handler-level contract tests need to know about each gateway. */
export interface GatewayCase {
  readonly gateway: GatewayName;
  /** The main success sample and where it must land. */
  readonly sample: string;
  readonly priority: Priority;
  /** How many events the sample yields. */
  readonly events: number;
  /** Whether each event's payload is its own item of a batch (Adyen) rather than the whole body. */
  readonly batched: boolean;
  readonly acceptedBody: string;
  /** Changes a signed part of the body (Adyen signs only some fields, so "any byte" is not enough there). */
  readonly tamper: (body: string) => string;
  /** Removes every signature the signer added. */
  readonly unsign: (signed: SignedWebhook) => SignedWebhook;
  /** Whether the scheme signs a timestamp (then stale and future timestamps are refused). */
  readonly signsTimestamp: boolean;
  /** A secret in this gateway's format that is not the development secret. */
  readonly otherSecret: () => string;
}

function withoutHeaders(...names: string[]) {
  return (signed: SignedWebhook): SignedWebhook => ({
    body: signed.body,
    headers: Object.fromEntries(
      Object.entries(signed.headers).filter(([name]) => !names.includes(name.toLowerCase())),
    ),
  });
}

/** Bumps the last digit of the body: an amount, an id or a date, all of which the whole-body schemes sign. */
function bumpLastDigit(body: string): string {
  return body.replace(/\d(?=\D*$)/, (digit) => String((Number(digit) + 1) % 10));
}

/** Adyen: remove each item's hmacSignature from the (compact, signer-made) body. */
function withoutAdyenSignatures(signed: SignedWebhook): SignedWebhook {
  return { ...signed, body: signed.body.replace(/"hmacSignature":"[^"]*",?/g, '').replace(/,}/g, '}') };
}

const randomText = () => `rotated-${randomBytes(12).toString('hex')}`;

export const GATEWAY_CASES: readonly GatewayCase[] = [
  {
    gateway: 'paystack',
    tamper: bumpLastDigit,
    sample: 'charge.success',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: '{"received":true}',
    unsign: withoutHeaders('x-paystack-signature'),
    signsTimestamp: false,
    otherSecret: () => `sk_test_${randomText()}`,
  },
  {
    gateway: 'flutterwave',
    tamper: bumpLastDigit,
    sample: 'charge.completed',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: '{"received":true}',
    unsign: withoutHeaders('verif-hash', 'flutterwave-signature'),
    signsTimestamp: false,
    otherSecret: randomText,
  },
  {
    gateway: 'oxapay',
    tamper: bumpLastDigit,
    sample: 'invoice.paid',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: 'ok',
    unsign: withoutHeaders('hmac'),
    signsTimestamp: false,
    otherSecret: () => randomText().toUpperCase(),
  },
  {
    gateway: 'razorpay',
    tamper: bumpLastDigit,
    sample: 'payment.captured',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: '{"received":true}',
    unsign: withoutHeaders('x-razorpay-signature'),
    signsTimestamp: false,
    otherSecret: randomText,
  },
  {
    gateway: 'standard',
    tamper: bumpLastDigit,
    sample: 'payment.succeeded',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: '{"received":true}',
    unsign: withoutHeaders('webhook-signature'),
    signsTimestamp: true,
    otherSecret: () => `whsec_${randomBytes(32).toString('base64')}`,
  },
  {
    gateway: 'stripe',
    tamper: bumpLastDigit,
    sample: 'payment_intent.succeeded',
    priority: 'high',
    events: 1,
    batched: false,
    acceptedBody: '{"received":true}',
    unsign: withoutHeaders('stripe-signature'),
    signsTimestamp: true,
    otherSecret: () => `whsec_${randomText()}`,
  },
  {
    gateway: 'adyen',
    // The amount is one of the eight signed fields.
    tamper: (body) => body.replace('"value":10000', '"value":1'),
    sample: 'AUTHORISATION',
    priority: 'high',
    events: 1,
    batched: true,
    acceptedBody: '[accepted]',
    unsign: withoutAdyenSignatures,
    signsTimestamp: false,
    otherSecret: () => randomBytes(32).toString('hex').toUpperCase(),
  },
];

export function signerOf(gateway: GatewayName): WebhookSigner {
  return SIGNERS[gateway];
}

/** The gateway's main sample, signed with its development secret (or another secret, or at another time). */
export function signedSample(
  gatewayCase: GatewayCase,
  options: { readonly secret?: string; readonly timestamp?: Date; readonly sample?: string } = {},
): SignedWebhook {
  const payload = readSample(gatewayCase.gateway, options.sample ?? gatewayCase.sample);
  return signerOf(gatewayCase.gateway)(payload, {
    secret: options.secret ?? devSecret(gatewayCase.gateway),
    ...(options.timestamp && { timestamp: options.timestamp }),
  });
}
