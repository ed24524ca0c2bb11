/**
 * `payhook listen`: a merchant's endpoint on this machine, like `stripe listen`. An HTTP server that receives payhook's
 * deliveries, verifies each with the official Standard Webhooks library (`standardwebhooks`, what a merchant would
 * use), prints one line per delivery and answers 200 when it verifies, 401 when it does not, so the local stack's
 * retries and dead letters can be watched against a real receiver.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Command, InvalidArgumentError } from 'commander';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { developmentSigningSecret } from '../local/development-secret.js';
import { CliError, type CliIo } from './io.js';
import { safe } from './terminal-safe.js';

export const DEFAULT_LISTEN_PORT = 4000;
export const DEFAULT_LISTEN_PATH = '/hooks';

/** A delivery is a few kilobytes; anything much bigger is not one, and is not read into memory. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ListenOptions {
  readonly port: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  readonly path: string;
  /** `whsec_...`; the local development secret when absent. */
  readonly secret?: string;
}

export interface Listener {
  /** Where deliveries go: `http://127.0.0.1:4000/hooks`, with the port actually bound (for `--port 0`). */
  readonly url: string;
  close(): Promise<void>;
}

function portNumber(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65_535)
    throw new InvalidArgumentError('expected a port from 0 to 65535');
  return value;
}

function urlPath(text: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(text) || text.includes('?') || text.includes('#')) {
    throw new InvalidArgumentError('expected a path such as /hooks');
  }
  return text;
}

/** A `Webhook` for the secret, or why the library refuses it (never quoting it). */
function verifierFor(secret: string): Webhook {
  try {
    return new Webhook(secret);
  } catch {
    throw new CliError('--secret must be whsec_<base64>, as the secrets file holds it');
  }
}

type BodyRead = { readonly body: Buffer } | { readonly tooLarge: true };

function readBody(request: IncomingMessage): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        resolve({ tooLarge: true });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve({ body: Buffer.concat(chunks, length) }));
    request.on('error', reject);
  });
}

/** The Standard Webhooks headers as the library takes them; a repeated header shows as Node joined it. */
function webhookHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** What a line says about the body: the event type, the payment and its status, `?` for what is not there. */
function describeBody(body: Buffer): { type: string; payment: string; status: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { type: '(not JSON)', payment: '?', status: '?' };
  }
  const event = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
    string,
    unknown
  >;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const gateway = text(data.gateway) ?? '?';
  const identifier = text(data.reference) ?? text(data.gatewayPaymentId) ?? '?';
  return {
    type: text(event.type) ?? '?',
    payment: `${gateway} ${identifier}`,
    status: text(data.status) ?? '?',
  };
}

function answer(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Why the library refused a delivery, in its own words (`No matching signature found`, `Message timestamp too old`). */
function refusalOf(verifier: Webhook, body: Buffer, headers: Record<string, string>): string | undefined {
  try {
    verifier.verify(body, headers, { jsonParse: false });
    return undefined;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.message;
    return `cannot verify: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function handler(io: CliIo, verifier: Webhook, path: string) {
  const seen = new Map<string, number>();
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const at = new Date().toISOString();
    const pathname = (request.url ?? '/').split('?')[0];
    if (request.method !== 'POST' || pathname !== path) {
      io.stdout(safe`${at}  ${request.method} ${pathname}: not a delivery (POST ${path}) -> 404\n`);
      answer(response, 404, { error: 'not_found', message: `deliveries are POSTed to ${path}` });
      return;
    }
    const read = await readBody(request);
    if ('tooLarge' in read) {
      io.stdout(safe`${at}  a body over ${MAX_BODY_BYTES} bytes: not a delivery -> 413\n`);
      answer(response, 413, { error: 'too_large', message: `at most ${MAX_BODY_BYTES} bytes` });
      return;
    }
    const headers = webhookHeaders(request);
    const id = headers['webhook-id'] ?? '-';
    const refusal = refusalOf(verifier, read.body, headers);
    const { type, payment, status } = describeBody(read.body);
    // A receiver dedupes on webhook-id: the same id again is a retry (or a replay) of one event.
    const times = (seen.get(id) ?? 0) + 1;
    if (refusal === undefined) seen.set(id, times);
    const repeat = refusal === undefined && times > 1 ? safe` (seen ${times} times)` : '';
    const verdict = refusal === undefined ? 'verified -> 200' : safe`NOT verified: ${refusal} -> 401`;
    const line = safe`${at}  ${id}  ${type}  ${payment}  ${status}`;
    io.stdout(`${line}  ${verdict}${repeat}\n`);
    if (refusal === undefined) answer(response, 200, { received: true });
    else answer(response, 401, { error: 'invalid_signature', message: refusal });
  };
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the receiver and says where it is and which secret it verifies with; the caller closes it. */
export async function startListener(io: CliIo, options: ListenOptions): Promise<Listener> {
  const development =
    options.secret === undefined
      ? developmentSigningSecret((io.env ?? process.env).PAYHOOK_SECRETS_FILE?.trim() || undefined)
      : undefined;
  const verifier = verifierFor(options.secret ?? development?.secret ?? '');
  const host = options.host ?? '127.0.0.1';
  const onRequest = handler(io, verifier, options.path);
  const server = createServer((request, response) => {
    onRequest(request, response).catch(() => {
      if (!response.headersSent) answer(response, 500, { error: 'listen_failed' });
      else response.destroy();
    });
  });
  let port: number;
  try {
    port = await listenOn(server, options.port, host);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'EADDRINUSE'
        ? `port ${options.port} is in use; pick another with --port`
        : `cannot listen on ${host}:${options.port}: ${code ?? (error as Error).message}`,
    );
  }
  const url = `http://${host}:${port}${options.path}`;
  const secretNote =
    development === undefined
      ? 'the secret given by --secret'
      : development.fake
        ? safe`the FAKE development secret ${development.secret}`
        : safe`destinations._default of ${development.file}`;
  io.stdout(`${safe`listening on ${url}, verifying with`} ${secretNote}\n`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function listen(io: CliIo, options: ListenOptions): Promise<void> {
  const listener = await startListener(io, options);
  io.stdout(
    safe`Point a destination at it:  PAYHOOK_DESTINATIONS='{"dev":{"url":"${listener.url}"}}' npm start\n` +
      'Ctrl-C stops.\n',
  );
  await new Promise<void>((resolve) => {
    // `on`, not `once`: tsx relays Ctrl-C, so it can arrive twice, and the second must not kill the process mid-close.
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  await listener.close();
}

/** Adds `listen` to the program. */
export function registerListen(program: Command, io: CliIo): void {
  program
    .command('listen')
    .summary("receive payhook's deliveries here and verify their signatures, like `stripe listen`")
    .description(
      "Start an HTTP server that receives payhook's deliveries (the local stack's destinations), verifies each with " +
        'the official Standard Webhooks library, and prints one line per delivery: the time, webhook-id, event ' +
        'type, payment, its status, and whether it verified (and why not). Answers 200 when it verifies and 401 ' +
        'when it does not. A webhook-id seen again is a retry of the same event.',
    )
    .option('-p, --port <port>', 'the port to listen on (0: any free one)', portNumber, DEFAULT_LISTEN_PORT)
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--path <path>', 'the path deliveries are POSTed to', urlPath, DEFAULT_LISTEN_PATH)
    .option(
      '--secret <whsec>',
      "the destination's signing secret (default: the local development secret, destinations._default of the secrets file)",
    )
    .action((options: ListenOptions) => listen(io, options));
}
