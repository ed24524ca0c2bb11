/**
 * Every HTTP call the CLI makes, in one place: finding the running local stack, posting webhooks and reading the
 * local-only routes described in `local/contract.ts`. Global `fetch`, each call bounded by a timeout, so a stack that
 * hangs makes the CLI fail with a message instead of waiting forever.
 */
import type { SignedWebhook } from '../events/index.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { type ErrorView, type PaymentView, readStackInfo } from '../local/contract.js';
import { CliError } from './io.js';

/** Long enough for a cold local stack to answer a webhook, short enough that a hung one is noticed. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The health check only reads a flag: a stack that needs longer than this is not there. */
const HEALTH_TIMEOUT_MS = 3_000;

/** An HTTP answer as the CLI prints it: the status and the body's text. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** The request got no HTTP answer at all (connection refused, timeout, DNS). */
export class RequestFailedError extends CliError {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
  }
}

/** `fetch` failures carry the useful part (ECONNREFUSED, ...) in `cause`; this names it in a few words. */
function failureReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code !== undefined) return code;
  return error instanceof Error ? error.message : String(error);
}

/** The payment the stack found, with its JSON text exactly as received (what `--json` prints). */
export type PaymentLookup =
  | { readonly found: true; readonly view: PaymentView; readonly text: string }
  | { readonly found: false; readonly message: string };

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorView(value: unknown): value is ErrorView {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).error === 'string' &&
    typeof (value as Record<string, unknown>).message === 'string'
  );
}

function isPaymentView(value: unknown): value is PaymentView {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).status === 'string' &&
    Array.isArray((value as Record<string, unknown>).history)
  );
}

/** A payhook HTTP endpoint: the local stack, or (for `send --url`) any deployment's API. */
export class PayhookClient {
  /** Without a trailing slash. */
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** The URL a gateway posts to; a `baseUrl` that already ends in `/webhooks/<gateway>` is taken as it is. */
  webhookUrl(gateway: GatewayName): string {
    const path = `/webhooks/${gateway}`;
    return this.baseUrl.endsWith(path) ? this.baseUrl : `${this.baseUrl}${path}`;
  }

  /** Throws {@link RequestFailedError} when there is no HTTP answer; any status is an answer. */
  private async call(url: string, init: RequestInit = {}, timeoutMs = this.timeoutMs): Promise<HttpAnswer> {
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      throw new RequestFailedError(`${init.method ?? 'GET'} ${url}`, failureReason(error, timeoutMs));
    }
  }

  /** POSTs JSON to a path of the stack and returns the answer, whatever its status. */
  postJson(path: string, body: unknown): Promise<HttpAnswer> {
    return this.call(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** `GET /health`'s status: 200 once the stack is ready, 503 while it starts. */
  async health(): Promise<number> {
    return (await this.call(`${this.baseUrl}/health`, {}, HEALTH_TIMEOUT_MS)).status;
  }

  /** Posts a signed webhook exactly as signed: the same body bytes and headers. */
  postWebhook(gateway: GatewayName, webhook: SignedWebhook): Promise<HttpAnswer> {
    return this.call(this.webhookUrl(gateway), {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    });
  }

  /** `GET /local/payments/:gateway/:identifier`, the identifier being the reference or the gateway payment id. */
  async payment(gateway: GatewayName, identifier: string): Promise<PaymentLookup> {
    const path = `/local/payments/${encodeURIComponent(gateway)}/${encodeURIComponent(identifier)}`;
    const answer = await this.call(`${this.baseUrl}${path}`);
    const json = parseJsonText(answer.body);
    if (answer.status === 200 && isPaymentView(json)) return { found: true, view: json, text: answer.body };
    if (answer.status === 404 && isErrorView(json) && json.error === 'payment_not_found') {
      return { found: false, message: json.message };
    }
    const detail = isErrorView(json) ? `${json.error}: ${json.message}` : answer.body.trim().slice(0, 200);
    throw new CliError(`GET ${path} answered ${answer.status}${detail === '' ? '' : ` (${detail})`}`);
  }
}

/**
 * The local stack recorded in `dataDir`, once it answers `GET /health` with 200. Throws a {@link CliError} that says
 * how to start one when there is none: no `stack.json`, or one left behind by a stack that no longer answers.
 */
export async function connectToLocalStack(
  dataDir: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<PayhookClient> {
  const notRunning = (detail: string) =>
    new CliError(
      `no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`${detail}`,
    );
  let url: string | undefined;
  try {
    url = readStackInfo(dataDir)?.url;
  } catch (error) {
    throw notRunning(` (unreadable stack.json: ${(error as Error).message})`);
  }
  if (url === undefined) throw notRunning('');
  const client = new PayhookClient(url, timeoutMs);
  let status: number;
  try {
    status = await client.health();
  } catch (error) {
    const reason = error instanceof RequestFailedError ? error.reason : String(error);
    throw notRunning(` (its stack.json names ${url}: ${reason})`);
  }
  if (status === 503) {
    throw new CliError(
      `the local payhook stack at ${url} is still starting (GET /health answered 503): try again`,
    );
  }
  if (status !== 200)
    throw notRunning(` (its stack.json names ${url}, whose GET /health answered ${status})`);
  return client;
}
