import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { REJECTS_TABLE } from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import type { RefusalReason } from './receive-webhook.js';

/**
 * A refused webhook, as kept for diagnosis: enough to see who was refused, why and when, and to recognise the same
 * body again (its hash), never the secret, a signature value or the body itself.
 */
export interface RefusedRequest {
  /** A gateway's name, or `unknown` when the route named none. */
  readonly gateway: string;
  /** What the route named, when it is not a gateway (cut to 40 characters). */
  readonly requestedGateway?: string;
  readonly reason: RefusalReason;
  readonly status: number;
  /** ISO time the request arrived. */
  readonly at: string;
  readonly requestId: string;
  readonly sourceIp?: string;
  /** SHA-256 of the body as API Gateway delivered it (base64 text for a binary body), hex. */
  readonly bodySha256: string;
  readonly bodyBytes: number;
  /** Header names only, lower case, sorted: which signature headers came, not what they said. */
  readonly headerNames: readonly string[];
}

/** Where refused requests are kept (DynamoDB on AWS and locally). */
export interface RefusedRequestStore {
  put(refused: RefusedRequest): Promise<void>;
}

const MAX_HEADER_NAMES = 50;

/** The record for a refused request: hash, size and header names of what came, nothing of what it said. */
export function describeRefusal(
  event: APIGatewayProxyEventV2,
  gateway: string,
  refusal: { readonly reason: RefusalReason; readonly status: number },
  at: Date,
): RefusedRequest {
  const body = event.body ?? '';
  const known = isGatewayName(gateway);
  const sourceIp = event.requestContext?.http?.sourceIp;
  return {
    gateway: known ? gateway : 'unknown',
    ...(!known && gateway !== '' && { requestedGateway: gateway.slice(0, 40) }),
    reason: refusal.reason,
    status: refusal.status,
    at: at.toISOString(),
    requestId: event.requestContext?.requestId ?? 'unknown',
    ...(sourceIp && { sourceIp }),
    bodySha256: createHash('sha256').update(body, 'utf8').digest('hex'),
    bodyBytes: Buffer.byteLength(body, 'utf8'),
    headerNames: [...new Set(Object.keys(event.headers ?? {}).map((name) => name.toLowerCase().slice(0, 64)))]
      .sort()
      .slice(0, MAX_HEADER_NAMES),
  };
}

/**
 * Records refused requests, at most `perMinute` per gateway per minute in this function instance: a flood of forged
 * requests costs a bounded number of writes. Recording never changes the answer: a failed write is logged and dropped.
 */
export class RefusedRequestRecorder {
  readonly #windows = new Map<string, { start: number; recorded: number; skipped: number }>();

  constructor(
    private readonly store: RefusedRequestStore,
    private readonly log: StructuredLog,
    private readonly perMinute: number = REJECTS_TABLE.defaultPerMinute,
  ) {}

  async record(refused: RefusedRequest, now: number = Date.now()): Promise<boolean> {
    const minute = Math.floor(now / 60_000) * 60_000;
    let window = this.#windows.get(refused.gateway);
    if (!window || window.start !== minute) {
      if (window && window.skipped > 0) {
        this.log.warn('refused requests over the cap were not recorded', {
          gateway: refused.gateway,
          skipped: window.skipped,
          perMinute: this.perMinute,
        });
      }
      window = { start: minute, recorded: 0, skipped: 0 };
      this.#windows.set(refused.gateway, window);
    }
    if (window.recorded >= this.perMinute) {
      window.skipped += 1;
      return false;
    }
    window.recorded += 1;
    try {
      await this.store.put(refused);
      return true;
    } catch (error) {
      this.log.warn('could not record a refused request', {
        gateway: refused.gateway,
        requestId: refused.requestId,
        error: (error as Error).name,
      });
      return false;
    }
  }
}
