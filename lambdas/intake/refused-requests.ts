import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { REJECTS_TABLE } from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import type { RefusalReason, RefusedRequest, RefusedRequestStore } from '../ports/refused-requests.js';

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
