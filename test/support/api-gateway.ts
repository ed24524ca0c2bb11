import type { APIGatewayProxyEventV2 } from 'aws-lambda';

let requestCounter = 0;

/** An API Gateway HTTP API (payload 2.0) event as the webhook route delivers it. */
export function apiGatewayEvent(
  gateway: string,
  body: string | undefined,
  headers: Record<string, string>,
  options: { readonly base64?: boolean; readonly method?: string } = {},
): APIGatewayProxyEventV2 {
  requestCounter += 1;
  const encoded = body !== undefined && options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body;
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{gateway}',
    rawPath: `/webhooks/${gateway}`,
    rawQueryString: '',
    headers,
    pathParameters: { gateway },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-test',
      domainName: 'hooks.example.com',
      domainPrefix: 'hooks',
      http: {
        method: options.method ?? 'POST',
        path: `/webhooks/${gateway}`,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'gateway-test',
      },
      requestId: `req-${requestCounter}`,
      routeKey: 'POST /webhooks/{gateway}',
      stage: '$default',
      time: '24/Nov/2026:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    ...(encoded !== undefined && { body: encoded }),
    isBase64Encoded: options.base64 === true,
  };
}

export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that records what ingest logs, for assertions about what is (and is never) written. */
export function recordingLog() {
  const lines: LoggedLine[] = [];
  const record = (level: LoggedLine['level']) => (message: string, fields: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}
