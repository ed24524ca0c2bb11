import { VerifyNotFoundError, type VerifyOptions, VerifyUnavailableError } from './verify.js';

/**
 * The one HTTP call every verifier makes: a GET with a per-request timeout and retries with exponential back-off on
 * the answers that may clear by themselves (429, 5xx, timeouts, network errors). Everything else is decided on the
 * first answer. Error messages name the gateway, the status and the attempt count, never a header (the API key) or
 * the response body (customer data): the reconciler logs them.
 */

/** A gateway's answer that the verifier gets to read: always a 2xx. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

export interface GatewayRequest {
  /** Who is asked, for error messages (`Paystack`, `Stripe`). */
  readonly gateway: string;
  readonly url: string;
  /** Authorisation and the like; never copied into an error. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Whether a 4xx other than 404 actually means "no such payment": some gateways answer an unknown id with 400 and
   * a message (see each verifier). Given the status and body; must not throw.
   */
  readonly isNotFound?: (status: number, text: string) => boolean;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 500;
/** A Retry-After longer than this is cut short: the reconciler runs on a schedule and must not stall on one call. */
export const MAX_RETRY_AFTER_MS = 30_000;

/** The wait a `Retry-After` header asks for (delta seconds or an HTTP date), capped; `undefined` when absent or bad. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  let waitMs: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    waitMs = Number(value) * 1000;
  } else if (/^[A-Za-z]{3}, /.test(value)) {
    // An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone would also accept things like `-1`.
    const date = Date.parse(value);
    if (!Number.isFinite(date)) return undefined;
    waitMs = Math.max(0, date - now);
  } else {
    return undefined;
  }
  return Math.min(waitMs, MAX_RETRY_AFTER_MS);
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Why one attempt did not produce an answer to return: described for the final error, and maybe a wait. */
interface Retryable {
  readonly reason: string;
  readonly retryAfterMs?: number;
}

/** Timeouts and network failures (DNS, refused, reset) are worth another try; they surface from fetch as errors. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  // Only the error's class and code: undici's messages are generic, and the cause may quote the URL's host.
  const code = error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' ? `network error (${code})` : 'network error';
}

/**
 * GETs `request.url`, retrying 429, 5xx, timeouts and network errors up to `attempts` times in all, waiting
 * `backoffMs * 2^(n-1)` before retry n (or what `Retry-After` asks, capped at {@link MAX_RETRY_AFTER_MS}).
 *
 * @returns the 2xx answer with its body as text.
 * @throws {@link VerifyNotFoundError} on 404 (or a 4xx that `isNotFound` recognises).
 * @throws {@link VerifyUnavailableError} on any other 4xx (401/403: the credentials are wrong; nothing is applied
 *   either way) and when every attempt failed.
 */
export async function getFromGateway(request: GatewayRequest, options: VerifyOptions): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = Math.max(1, Math.floor(options.attempts ?? DEFAULT_ATTEMPTS));
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  let last: Retryable = { reason: 'not asked' };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (attempt > 1) await sleep(last.retryAfterMs ?? backoffMs * 2 ** (attempt - 2));
    const outcome = await attemptOnce(request, timeoutMs);
    if ('answer' in outcome) return outcome.answer;
    last = outcome;
  }
  throw new VerifyUnavailableError(
    `${request.gateway} API unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last.reason}`,
  );
}

async function attemptOnce(
  request: GatewayRequest,
  timeoutMs: number,
): Promise<{ readonly answer: HttpAnswer } | Retryable> {
  let response: Response;
  let text: string;
  try {
    // One signal for the whole exchange: a gateway that sends headers and then stalls the body also times out.
    const signal = AbortSignal.timeout(timeoutMs);
    response = await fetch(request.url, {
      method: 'GET',
      headers: { accept: 'application/json', ...request.headers },
      signal,
      // A redirect is not followed: the credentials stay with the host they were meant for.
      redirect: 'manual',
    });
    text = await response.text();
  } catch (error) {
    return { reason: describeFailure(error, timeoutMs) };
  }
  const { status } = response;
  if (status === 429 || status >= 500) {
    const wait = retryAfterMs(response.headers.get('retry-after'));
    return { reason: `HTTP ${status}`, ...(wait !== undefined && { retryAfterMs: wait }) };
  }
  if (status >= 200 && status < 300) return { answer: { status, text } };
  if (status === 404 || (status >= 400 && status < 500 && request.isNotFound?.(status, text) === true)) {
    throw new VerifyNotFoundError(`${request.gateway} does not know this payment (HTTP ${status})`);
  }
  if (status === 401 || status === 403) {
    throw new VerifyUnavailableError(
      `${request.gateway} API refused the credentials (HTTP ${status}): check the API key in the gateway secret`,
    );
  }
  // Other 4xx (a bad request) and anything unexpected (a redirect): not a payment state, and not worth a retry.
  throw new VerifyUnavailableError(`${request.gateway} API answered HTTP ${status}`);
}
