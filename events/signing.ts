/**
 * How a sample webhook gets signed the way its gateway would sign it. Tests use these signers, and so does
 * `payhook send`. They depend on nothing but node:crypto, so they run wherever payhook runs; the tests cross-check
 * them against the gateways' own npm packages where one exists.
 */
export interface SignOptions {
  /** The signing secret, in the same form as in the gateway's secret (`secrets[0]` of the secrets file). */
  readonly secret: string;
  /** Signing time for schemes that sign a timestamp. @default now */
  readonly timestamp?: Date;
  /** Event/message id for schemes that carry it in a header (Razorpay, Standard Webhooks). */
  readonly eventId?: string;
}

export interface SignedWebhook {
  /** The exact body to send. Adyen signs inside the body, so this can differ from the sample given. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type WebhookSigner = (payload: string, options: SignOptions) => SignedWebhook;
