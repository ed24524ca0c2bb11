import type { Priority } from '../definitions.js';
import type { GatewaySecret } from '../domain/gateway-secret.js';
import type { EventKind, GatewayName, WebhookEvent } from '../domain/webhook-event.js';
import type { GatewaySettings } from './settings.js';

/** A webhook request as every adapter sees it, whatever front door (API Gateway, local HTTP server) it came through. */
export interface WebhookRequest {
  /** Header names lower-cased; a repeated header's values joined with `,` as HTTP allows. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes the gateway sent. Signatures are computed over these and nothing else. */
  readonly body: Buffer;
  readonly receivedAt: Date;
  /** The front door's request id (API Gateway `requestContext.requestId`). */
  readonly requestId: string;
}

/** Why a request's signature was refused; sent back to the caller as the JSON `error` code with a 401. */
export type SignatureFailureReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'invalid_signature'
  | 'timestamp_out_of_tolerance';

export type Verification =
  | {
      readonly ok: true;
      /**
       * The sender proved it knows the secret, but nothing binds the secret to this body (Flutterwave `verif-hash`):
       * claims of money arrived are confirmed with the gateway before they count.
       */
      readonly bodyUnverified?: true;
    }
  | { readonly ok: false; readonly reason: SignatureFailureReason; readonly detail: string };

export interface Classification {
  readonly kind: EventKind;
  readonly priority: Priority;
}

/** A validly signed item that could not be normalised: parked raw for a human, never dropped. */
export interface UnparseableItem {
  readonly reason: string;
  /** Why it is parked, where not simply unreadable. @default 'unparseable_payload' */
  readonly errorClass?: 'batch_too_large' | 'key_too_large';
  /** The item's text (one Adyen notification item), or the exact bytes when it is the whole body. */
  readonly payload: string | Buffer;
}

export interface NormalisedBatch {
  readonly events: readonly WebhookEvent[];
  readonly unparseable: readonly UnparseableItem[];
}

/** What the gateway expects back once its webhook is safely queued. */
export interface AcceptedResponse {
  readonly contentType: string;
  readonly body: string;
}

/** The answer for gateways that only need a 2xx. */
export const JSON_ACCEPTED: AcceptedResponse = { contentType: 'application/json', body: '{"received":true}' };

/**
 * One adapter per gateway. Verification and normalisation are pure: no I/O, no clock other than `request.receivedAt`.
 */
export interface GatewayAdapter {
  readonly name: GatewayName;
  /** For humans: README tables, log lines, CLI output. */
  readonly displayName: string;
  /**
   * The adapter's mapping table: the gateway's event types (or `type/status` where the status decides) to a kind and
   * a priority. Settings can override priorities per event type or per kind.
   */
  readonly eventTable: Readonly<Record<string, Classification>>;
  readonly acceptedResponse: AcceptedResponse;
  /** Checks the signature over `request.body`, trying each secret in turn, in constant time per comparison. */
  verify(request: WebhookRequest, secret: GatewaySecret, settings: GatewaySettings): Verification;
  /**
   * Turns a verified request into events. Throws {@link UnparseablePayloadError} (or `InvalidAmountError`) when the
   * body as a whole cannot be read; reports per-item failures in `unparseable` where one request carries several.
   */
  normalise(request: WebhookRequest, settings: GatewaySettings): NormalisedBatch;
}

/** The body (or a batch as a whole) cannot be parsed or normalised, though it was validly signed. */
export class UnparseablePayloadError extends Error {
  override readonly name = 'UnparseablePayloadError';
}
