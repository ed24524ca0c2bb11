import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { type MetricsRecorder, NO_METRICS } from '../common/metrics.js';
import { METRICS, SIGNATURE_FAILURE_OUTCOMES } from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import type { GatewaySettings } from '../gateways/settings.js';
import type { WebhookRequest } from '../gateways/types.js';
import {
  encodedBodyBytes,
  type IntakeDependencies,
  type IntakeResult,
  receiveWebhook,
} from './receive-webhook.js';
import { describeRefusal } from './refused-requests.js';
import { type SourceNotAllowed, sourceNotAllowed } from './source-allow-list.js';

const ROUTE = /^\/webhooks\/([^/]+)\/?$/;

/** The gateway named by the route: the `{gateway}` path parameter, or the last segment of `/webhooks/<gateway>`. */
export function gatewayFromEvent(event: APIGatewayProxyEventV2): string {
  const fromParameter = event.pathParameters?.gateway;
  if (fromParameter) return fromParameter;
  return ROUTE.exec(event.rawPath ?? '')?.[1] ?? '';
}

function lowerCaseHeaders(headers: APIGatewayProxyEventV2['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    // HTTP API already joins repeated headers with commas; a front door that did not gets the same treatment here.
    result[key] = result[key] === undefined ? value : `${result[key]},${value}`;
  }
  return result;
}

export function requestFromEvent(event: APIGatewayProxyEventV2, receivedAt: Date): WebhookRequest {
  const raw = event.body ?? '';
  return {
    headers: lowerCaseHeaders(event.headers),
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
    receivedAt,
    requestId: event.requestContext?.requestId ?? 'unknown',
  };
}

/** The HTTP answer: the outcome and its `detail`, never a failure's `diagnosis` (the log line's alone). */
export function resultToResponse(result: IntakeResult): APIGatewayProxyStructuredResultV2 {
  if (result.outcome === 'accepted') {
    return { statusCode: result.status, headers: { 'content-type': result.contentType }, body: result.body };
  }
  return {
    statusCode: result.status,
    headers: {
      'content-type': 'application/json',
      ...(result.status === 503 && { 'retry-after': '30' }),
      ...(result.status === 405 && { allow: 'POST' }),
    },
    body: JSON.stringify({ error: result.reason, message: result.detail }),
  };
}

/**
 * Headers in which a gateway names its delivery without signing it (Razorpay's `x-razorpay-event-id`): logged so that
 * a delivery can be matched with the gateway's dashboard, never used to identify or dedupe anything (a sender can put
 * any value there; see `gateways/razorpay.ts`).
 */
const UNSIGNED_DELIVERY_ID_HEADERS: Readonly<Record<string, string>> = { razorpay: 'x-razorpay-event-id' };

/** The gateway's unsigned delivery id, cut to a length fit for a log line; `undefined` when it sent none. */
function unsignedDeliveryId(gateway: string, headers: APIGatewayProxyEventV2['headers']): string | undefined {
  const name = Object.hasOwn(UNSIGNED_DELIVERY_ID_HEADERS, gateway)
    ? UNSIGNED_DELIVERY_ID_HEADERS[gateway]
    : undefined;
  if (name === undefined) return undefined;
  const value = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
  return value === undefined ? undefined : value.slice(0, 100);
}

/**
 * The one structured line per request: what happened and why, never a secret, a signature or a payload. A request from
 * outside its gateway's `sourceIps` says so (`sourceNotAllowed`: the mode, and `sourceIp`); accepted, it is a warning.
 *
 * An accepted request's line is its metrics line (`WebhookRequests`, whose dimensions already say its gateway and
 * outcome), carrying the fields below as Powertools metadata, `message: "webhook accepted"` included: one line per
 * webhook instead of a log line and a metric line, about 180 bytes less of each webhook's logs (issue #20). Without a
 * metrics recorder (tools, some tests), it is a log line as the others are.
 */
function reportResult(
  log: StructuredLog,
  metrics: MetricsRecorder | undefined,
  gateway: string,
  requestId: string,
  measured: { readonly bodyBytes: number; readonly elapsedMs: number },
  result: IntakeResult,
  deliveryId: string | undefined,
  outside: SourceNotAllowed | undefined,
): void {
  const fields: Record<string, unknown> = {
    gateway: gateway.slice(0, 40),
    requestId,
    outcome: result.outcome,
    status: result.status,
    bodyBytes: measured.bodyBytes,
    ...(deliveryId !== undefined && { unsignedDeliveryId: deliveryId }),
    ...(outside !== undefined && { sourceNotAllowed: outside.mode, sourceIp: outside.sourceIp }),
  };
  if (result.outcome === 'accepted') {
    const shown = result.events.slice(0, 10);
    const accepted = {
      requestId,
      bodyBytes: measured.bodyBytes,
      ...(deliveryId !== undefined && { unsignedDeliveryId: deliveryId }),
      // From receipt to the events durably queued: what the TimeToQueue metric was.
      timeToQueueMs: measured.elapsedMs,
      // How many events and parked ones only where the lists below do not say it.
      ...(result.events.length > shown.length && { events: result.events.length }),
      ...(result.parked > 0 && { parked: result.parked }),
      eventIds: shown.map((event) => event.eventId),
      eventTypes: shown.map((event) => event.eventType),
      references: shown.flatMap((event) => (event.reference === undefined ? [] : [event.reference])),
    };
    if (outside === undefined && metrics) {
      metrics.annotate({ message: 'webhook accepted', ...accepted });
      return;
    }
    const write = outside === undefined ? log.info.bind(log) : log.warn.bind(log);
    write('webhook accepted', { ...fields, ...accepted });
  } else if (result.outcome === 'refused') {
    log.warn('webhook refused', { ...fields, reason: result.reason, detail: result.detail });
  } else {
    log.error('webhook not taken', {
      ...fields,
      reason: result.reason,
      detail: result.detail,
      ...(result.diagnosis !== undefined && { diagnosis: result.diagnosis }),
    });
  }
}

/**
 * One request's metrics: its outcome (`accepted`, or the refusal or failure reason), and whether it came from outside
 * its gateway's `sourceIps`. Its size and time to queue are fields of its log line: no alarm or dashboard row reads
 * them, and as metrics each gateway's would be billed every month (issue #20).
 */
function recordMetrics(
  metrics: MetricsRecorder,
  gateway: string,
  result: IntakeResult,
  outside: SourceNotAllowed | undefined,
): void {
  const outcome = result.outcome === 'accepted' ? 'accepted' : result.reason;
  metrics.add(METRICS.webhookRequests, gateway, 1, outcome);
  if (isSignatureFailure(outcome)) metrics.add(METRICS.signatureFailures, gateway, 1);
  if (outside) metrics.add(METRICS.webhookSourceNotAllowed, gateway, 1);
  metrics.flush();
}

function isSignatureFailure(outcome: string): boolean {
  return (SIGNATURE_FAILURE_OUTCOMES as readonly string[]).includes(outcome);
}

/** The settings of the gateway the route names, when this deployment serves it (known, with an adapter, enabled). */
function servedGateway(
  deps: IntakeDependencies,
  gateway: string,
): { readonly displayName: string; readonly settings: GatewaySettings } | undefined {
  if (!isGatewayName(gateway)) return undefined;
  const adapter = deps.adapters[gateway];
  const settings = deps.settings[gateway];
  return adapter && settings.enabled ? { displayName: adapter.displayName, settings } : undefined;
}

/** Builds the Lambda handler for `POST /webhooks/{gateway}` (API Gateway HTTP API, payload format 2.0). */
export function createIngestHandler(deps: IntakeDependencies, log: StructuredLog) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = performance.now();
    const receivedAt = deps.now?.() ?? new Date();
    const gateway = gatewayFromEvent(event);
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const encodedBytes = encodedBodyBytes(event.body ?? '', event.isBase64Encoded === true);
    let result: IntakeResult;
    const method = event.requestContext?.http?.method ?? 'POST';
    // The address the connection came from: API Gateway's, or locally the socket's (the local front door puts it in
    // the same field). Only gateways with `sourceIps` look at it.
    const served = servedGateway(deps, gateway);
    const outside = sourceNotAllowed(served?.settings, event.requestContext?.http?.sourceIp);
    if (served && outside?.mode === 'enforce') {
      // Before anything else: a request from an address the gateway does not send from costs no secret read and
      // learns nothing about the signature.
      result = {
        outcome: 'refused',
        status: 403,
        reason: 'source_not_allowed',
        detail: `${served.displayName} webhooks are taken only from the source addresses configured for it`,
      };
    } else if (method !== 'POST') {
      result = {
        outcome: 'refused',
        status: 405,
        reason: 'method_not_allowed',
        detail: 'webhooks are POSTed',
      };
    } else if (encodedBytes > deps.maxBodyBytes) {
      // Refused before decoding, so an oversized body costs no memory.
      result = {
        outcome: 'refused',
        status: 413,
        reason: 'payload_too_large',
        detail: `body is ${encodedBytes} bytes; the limit is ${deps.maxBodyBytes}`,
      };
    } else {
      result = await receiveWebhook(gateway, requestFromEvent(event, receivedAt), deps);
    }
    const measured = { bodyBytes: encodedBytes, elapsedMs: Math.round(performance.now() - started) };
    reportResult(
      log,
      deps.metrics,
      gateway,
      requestId,
      measured,
      result,
      unsignedDeliveryId(gateway, event.headers),
      outside,
    );
    if (result.outcome === 'refused' && deps.refusals) {
      await deps.refusals.record(describeRefusal(event, gateway, result, receivedAt));
    }
    recordMetrics(deps.metrics ?? NO_METRICS, gateway, result, outside);
    return resultToResponse(result);
  };
}
