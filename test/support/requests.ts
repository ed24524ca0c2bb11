import type { GatewaySecret } from '../../lambdas/domain/gateway-secret.js';
import type { WebhookRequest } from '../../lambdas/gateways/types.js';

/** A webhook request as adapters see it: header names lower-cased, body as exact bytes. */
export function webhookRequest(
  body: string | Buffer,
  headers: Record<string, string> = {},
  receivedAt: Date = new Date(),
): WebhookRequest {
  const lowered = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: lowered,
    receivedAt,
    requestId: 'req-test-1',
  };
}

export function secretOf(...secrets: string[]): GatewaySecret {
  return { secrets };
}
