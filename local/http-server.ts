import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorView } from './contract.js';

/** What the server serves; each route is a plain async function, so the stack wires the real handlers in. */
export interface LocalRoutes {
  /** The real ingest handler, fed API Gateway HTTP API (payload 2.0) events. */
  readonly webhook: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  /** `/local/...` introspection and actions: the method, the path after `/local/` in segments, the query, the body. */
  readonly local: (
    method: string,
    segments: readonly string[],
    query: URLSearchParams,
    body: string,
  ) => Promise<{ status: number; body: unknown }>;
  /** `POST /payments`: registering an expected payment (IAM-authorised on AWS, open locally). */
  readonly registration: (body: string) => Promise<{ status: number; body: unknown }>;
  /** `ready` once everything runs; webhooks get 503 (so a gateway would retry) while starting or stopping. */
  readonly state: () => 'starting' | 'ready' | 'stopping';
}

/** API Gateway's own cap on a request body; larger ones never reach a function there either. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

const TEXT_CONTENT = /^(text\/|application\/(json|[a-z.+-]*\+json|x-www-form-urlencoded|xml))/i;
// `ignoreBOM` keeps a leading byte-order mark as U+FEFF: by default a TextDecoder swallows it, and the handler, which
// encodes the text back to bytes, would verify the signature over a body three bytes shorter than the one signed.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as API Gateway passes it on: text stays text, anything else (or anything that is not valid UTF-8) is
 * base64-encoded with `isBase64Encoded`, so the handler verifies signatures over the exact bytes either way. Text is
 * passed as text only when it encodes back to exactly the bytes received; otherwise the bytes go on as base64.
 */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string; isBase64Encoded: boolean } {
  if (contentType !== undefined && TEXT_CONTENT.test(contentType)) {
    try {
      const text = strictUtf8.decode(body);
      if (Buffer.from(text, 'utf8').equals(body)) return { body: text, isBase64Encoded: false };
    } catch {
      // Claims to be text but is not UTF-8: pass the bytes on untouched.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** An API Gateway-style request id (`Abc123...=`), unique per request. */
function requestId(): string {
  return randomBytes(12).toString('base64url');
}

export function apiGatewayEventFrom(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  gateway: string,
): APIGatewayProxyEventV2 {
  const headers = headersOf(request);
  const encoded = encodeBody(body, headers['content-type']);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{gateway}',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    pathParameters: { gateway },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        // The socket's peer, as API Gateway gives the connection's: ingest checks a gateway's `sourceIps` against it.
        // A socket that no longer knows its peer gives none, which no allow-list contains (never a made-up address).
        sourceIp: request.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: requestId(),
      routeKey: 'POST /webhooks/{gateway}',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && encoded),
    isBase64Encoded: body.length > 0 && encoded.isBase64Encoded,
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  extra: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': contentType, ...extra });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, `${JSON.stringify(body, null, 2)}\n`, 'application/json');
}

function error(status: number, code: string, message: string): { status: number; body: ErrorView } {
  return { status, body: { error: code, message } };
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const WEBHOOK_ROUTE = /^\/webhooks\/([^/]+)\/?$/;

async function route(routes: LocalRoutes, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://local');
  const state = routes.state();
  if (url.pathname === '/health') {
    const status = state === 'ready' ? 200 : 503;
    return sendJson(response, status, { status: state === 'ready' ? 'ok' : state });
  }
  const webhook = WEBHOOK_ROUTE.exec(url.pathname);
  if (webhook) {
    if (state !== 'ready') {
      const failure = error(
        503,
        state === 'starting' ? 'starting' : 'stopping',
        `payhook is ${state}; retry shortly`,
      );
      return send(response, 503, JSON.stringify(failure.body), 'application/json', { 'retry-after': '5' });
    }
    const body = await readBody(request);
    if (body === undefined) {
      const tooLarge = error(413, 'payload_too_large', 'body over the 10 MiB API Gateway limit');
      return sendJson(response, tooLarge.status, tooLarge.body);
    }
    const result = await routes.webhook(
      apiGatewayEventFrom(request, url, body, decodeURIComponent(webhook[1] ?? '')),
    );
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    response.writeHead(result.statusCode ?? 200, headers);
    response.end(result.body ?? '');
    return;
  }
  if (url.pathname === '/payments' && request.method === 'POST') {
    const body = await readBody(request);
    const result = await routes.registration(body?.toString('utf8') ?? '');
    return sendJson(response, result.status, result.body);
  }
  if (url.pathname.startsWith('/local/') && (request.method === 'GET' || request.method === 'POST')) {
    const segments = url.pathname.slice('/local/'.length).split('/').filter(Boolean).map(decodeURIComponent);
    const body = request.method === 'POST' ? ((await readBody(request))?.toString('utf8') ?? '') : '';
    const result = await routes.local(request.method, segments, url.searchParams, body);
    return sendJson(response, result.status, result.body);
  }
  const notFound = error(
    404,
    'not_found',
    `no route ${request.method} ${url.pathname}; webhooks go to POST /webhooks/<gateway>`,
  );
  sendJson(response, notFound.status, notFound.body);
}

/** The local stack's HTTP server: webhooks, health and local introspection on one port. */
export function createLocalServer(routes: LocalRoutes, onError: (error: unknown) => void): Server {
  return createServer((request, response) => {
    route(routes, request, response).catch((failure: unknown) => {
      onError(failure);
      if (!response.headersSent)
        sendJson(response, 500, error(500, 'internal_error', 'the local stack failed; see its log').body);
      else response.end();
    });
  });
}
