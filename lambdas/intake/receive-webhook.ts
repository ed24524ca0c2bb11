import { errorClassOf } from '../common/log.js';
import type { MetricsRecorder } from '../common/metrics.js';
import { InvalidAmountError } from '../domain/money.js';
import { type GatewayName, isGatewayName, type WebhookEvent } from '../domain/webhook-event.js';
import type { SettingsByGateway } from '../gateways/settings.js';
import {
  type GatewayAdapter,
  type NormalisedBatch,
  UnparseablePayloadError,
  type WebhookRequest,
} from '../gateways/types.js';
import { originalOf } from '../messages/original-webhook.js';
import type { EventQueue } from '../ports/event-queue.js';
import type { RefusalReason } from '../ports/refused-requests.js';
import { InvalidSecretError, type SecretStore, SecretsUnavailableError } from '../ports/secret-store.js';
import { asUnverifiedClaim } from './claims.js';
import { parkOversizeKeys } from './key-sizes.js';
import type { RefusedRequestRecorder } from './refused-requests.js';
import { unparseableWebhook } from './unparseable-webhook.js';

/**
 * A secret fetched longer ago than this is refetched once when a signature fails, so a rotation takes effect at
 * once; a younger one is trusted, so a flood of bad signatures cannot turn into a flood of Secrets Manager calls.
 */
export const SECRET_REFRESH_AFTER_MS = 30_000;

export type FailureReason = 'gateway_not_configured' | 'secrets_unavailable' | 'queue_unavailable';

export type IntakeResult =
  | {
      readonly outcome: 'accepted';
      readonly status: 200;
      readonly contentType: string;
      readonly body: string;
      readonly events: readonly WebhookEvent[];
      /** Validly signed items parked raw on the low-priority DLQ because they could not be normalised. */
      readonly parked: number;
    }
  | {
      readonly outcome: 'refused';
      readonly status: 400 | 401 | 403 | 404 | 405 | 413;
      readonly reason: RefusalReason;
      readonly detail: string;
    }
  | {
      readonly outcome: 'failed';
      readonly status: 503;
      readonly reason: FailureReason;
      readonly detail: string;
      /**
       * More than the answer says, for the log line only (never the HTTP answer, which anyone can read): why the
       * secret could not be used. Never any part of a secret, nor where it is stored.
       */
      readonly diagnosis?: string;
    };

export interface IntakeDependencies {
  readonly adapters: Readonly<Partial<Record<GatewayName, GatewayAdapter>>>;
  readonly settings: SettingsByGateway;
  readonly secrets: SecretStore;
  readonly queue: EventQueue;
  readonly maxBodyBytes: number;
  readonly now?: () => Date;
  /** Requests by gateway and outcome, body sizes, time to queue. @default NO_METRICS */
  readonly metrics?: MetricsRecorder;
  /** Keeps refused requests for diagnosis (`payhook rejects list`). @default - only logged */
  readonly refusals?: RefusedRequestRecorder;
  /**
   * Gateways some `original` destination wants: their webhooks are queued with the request's bytes and signature
   * headers (`PAYHOOK_ORIGINAL_GATEWAYS`). @default none
   */
  readonly originalGateways?: ReadonlySet<GatewayName>;
}

function refuse(
  status: 400 | 401 | 403 | 404 | 405 | 413,
  reason: RefusalReason,
  detail: string,
): IntakeResult & { outcome: 'refused' } {
  return { outcome: 'refused', status, reason, detail };
}

function fail(
  reason: FailureReason,
  detail: string,
  diagnosis?: string,
): IntakeResult & { outcome: 'failed' } {
  return { outcome: 'failed', status: 503, reason, detail, ...(diagnosis !== undefined && { diagnosis }) };
}

/**
 * Why a secret store failed, fit for a log line. payhook's own secret errors are written to be safe (the gateway, the
 * key at fault, an error class); anything else is reduced to its class name, since an SDK, parser or file-system
 * message can quote the secret's text or name its ARN or file.
 */
function secretFailureDiagnosis(error: unknown): string {
  return error instanceof InvalidSecretError || error instanceof SecretsUnavailableError
    ? error.message
    : `the secret store failed (${errorClassOf(error)})`;
}

/** Size of a body the front door has not decoded yet, without decoding it (base64 expands 3 bytes into 4 chars). */
export function encodedBodyBytes(body: string, isBase64Encoded: boolean): number {
  if (!isBase64Encoded) return Buffer.byteLength(body, 'utf8');
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.floor((body.length * 3) / 4) - padding;
}

function normaliseOrPark(
  adapter: GatewayAdapter,
  request: WebhookRequest,
  deps: IntakeDependencies,
): NormalisedBatch {
  try {
    return adapter.normalise(request, deps.settings[adapter.name]);
  } catch (error) {
    // A verified body is never refused and never lost: whatever stops normalisation (a malformed payload, or a bug
    // of ours), the body is parked for a human, who can redrive it once the cause is fixed. Answering 5xx instead
    // would make the gateway retry for days and then disable the endpoint.
    const known = error instanceof UnparseablePayloadError || error instanceof InvalidAmountError;
    const reason = known
      ? (error as Error).message
      : `unexpected ${(error as Error).name}: ${(error as Error).message}`;
    return { events: [], unparseable: [{ reason, payload: request.body }] };
  }
}

/**
 * Takes one webhook request from signature to queue. Answers 2xx only once every event is durably queued; refuses
 * (and queues nothing) when the request is not provably from the gateway; answers 503 when payhook itself cannot
 * take the event now, so the gateway retries.
 */
export async function receiveWebhook(
  gatewayName: string,
  request: WebhookRequest,
  deps: IntakeDependencies,
): Promise<IntakeResult> {
  const adapter = isGatewayName(gatewayName) ? deps.adapters[gatewayName] : undefined;
  if (!adapter) return refuse(404, 'unknown_gateway', `no gateway named "${gatewayName.slice(0, 40)}"`);
  const settings = deps.settings[adapter.name];
  if (!settings.enabled) return refuse(404, 'gateway_disabled', `${adapter.displayName} is not enabled here`);
  if (request.body.length > deps.maxBodyBytes) {
    return refuse(
      413,
      'payload_too_large',
      `body is ${request.body.length} bytes; the limit is ${deps.maxBodyBytes}`,
    );
  }
  // An empty body is still checked: a gateway can sign one (every whole-body HMAC can; the Standard Webhooks
  // libraries accept one), and a validly signed body is never refused. Only one that does not verify is `empty_body`.
  const empty = request.body.length === 0;

  let fetched: Awaited<ReturnType<SecretStore['get']>>;
  try {
    fetched = await deps.secrets.get(adapter.name);
  } catch (error) {
    // The answer is unauthenticated: it says which gateway, never why (the log line does, without the secret).
    return fail(
      'secrets_unavailable',
      `cannot load the ${adapter.displayName} signing secret (the reason is in payhook's log)`,
      secretFailureDiagnosis(error),
    );
  }
  if (!fetched)
    return fail('gateway_not_configured', `no signing secret is configured for ${adapter.displayName}`);

  let verification = adapter.verify(request, fetched.secret, settings);
  const now = deps.now?.() ?? new Date();
  if (
    !verification.ok &&
    verification.reason === 'invalid_signature' &&
    now.getTime() - fetched.fetchedAt.getTime() > SECRET_REFRESH_AFTER_MS
  ) {
    try {
      const refreshed = await deps.secrets.get(adapter.name, { refresh: true });
      if (refreshed) verification = adapter.verify(request, refreshed.secret, settings);
    } catch {
      // The cached secret already said no; a failed refresh does not change that answer.
    }
  }
  if (empty && (!verification.ok || verification.bodyUnverified)) {
    // Nothing proves an empty body came from the gateway (Adyen signs inside the body, and Flutterwave's verif-hash
    // binds no body at all): refused as before, whatever the signature headers said.
    return refuse(400, 'empty_body', 'the request has no body');
  }
  if (!verification.ok) return refuse(401, verification.reason, verification.detail);

  // A validly signed empty body has nothing to normalise: parked for a human like any signed unparseable body.
  const normalised: NormalisedBatch = empty
    ? {
        events: [],
        unparseable: [{ reason: 'validly signed, but the body is empty', payload: request.body }],
      }
    : parkOversizeKeys(normaliseOrPark(adapter, request, deps));
  const batch = verification.bodyUnverified
    ? { ...normalised, events: normalised.events.map(asUnverifiedClaim) }
    : normalised;
  if (!settings.acceptTestMode && batch.events.some((event) => event.mode === 'test')) {
    return refuse(
      403,
      'test_mode_not_accepted',
      `this deployment does not accept ${adapter.displayName} test-mode events`,
    );
  }

  // The webhook as sent, for the `original` destinations: it travels with the first event, and a consumer forwards
  // it once that event is applied for the first time (a verif-hash claim's, once the gateway confirmed it).
  const original = deps.originalGateways?.has(adapter.name) ? originalOf(adapter.name, request) : undefined;
  try {
    await deps.queue.enqueue(batch.events, original);
    for (const item of batch.unparseable) {
      await deps.queue.park(unparseableWebhook(adapter.name, request, item));
    }
  } catch (error) {
    return fail('queue_unavailable', `could not queue the event: ${(error as Error).name}`);
  }
  return {
    outcome: 'accepted',
    status: 200,
    contentType: adapter.acceptedResponse.contentType,
    body: adapter.acceptedResponse.body,
    events: batch.events,
    parked: batch.unparseable.length,
  };
}
