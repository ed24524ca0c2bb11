import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { type AddressOptions, addressVerdict } from './address-policy.js';
import { type AttemptResult, sanitiseAnswerStart } from './delivery-policy.js';

export type { AttemptResult } from './delivery-policy.js';

/** One POST of an event to a merchant's endpoint. */
export interface DeliveryRequest {
  readonly url: string;
  /** The exact bytes sent: a payment event's JSON, or an original webhook's bytes. */
  readonly body: string | Uint8Array;
  /** Sent as given (a `content-type` here replaces `application/json`); `user-agent` and `content-length` are ours. */
  readonly headers: Readonly<Record<string, string>>;
  /** Bounds the whole attempt: DNS, connect, TLS, the answer's status and headers, the first bytes of its body. */
  readonly timeoutMs: number;
  /** See `address-policy.ts`: private networks, and loopback, are two separate switches. */
  readonly allowPrivateNetwork: boolean;
  readonly allowLoopback: boolean;
  /** Plain `http:` URLs; tests and local runs only. Without it an `http:` URL is refused. */
  readonly allowHttp: boolean;
}

/** How much of an answer's body is read: enough to log what a merchant said, never a huge answer in memory. */
export const ANSWER_START_BYTES = 256;

const USER_AGENT = 'payhook-delivery';

/** Raised inside the lookup to stop the connection; never seen outside this module. */
class RefusedAddressError extends Error {
  readonly code = 'EPAYHOOKREFUSED';
}

type Destination = { url: URL; send: typeof httpsRequest } | { refused: string };

/** Which client sends to `raw`, or why nothing will; an IP literal is judged here, since Node skips `lookup` for it. */
function destinationOf(raw: string, request: DeliveryRequest): Destination {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { refused: 'the endpoint is not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && request.allowHttp)) {
    return { refused: `${url.protocol} URLs are not allowed` };
  }
  // The WHATWG parser has already turned `0x7f.1`, `2130706433` and friends into dotted form.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) {
    const verdict = addressVerdict(host, request);
    if (!verdict.allowed) return { refused: verdict.reason };
  }
  return { url, send: url.protocol === 'https:' ? httpsRequest : httpRequest };
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for the request's socket that resolves the name, refuses the connection if ANY address it resolves to is
 * refused, and hands the socket exactly the addresses it checked, so that the name is resolved once and connected to
 * as checked (no second lookup for a rebinding DNS server to answer differently). A name that resolves to a public
 * and a private address at once is refused outright rather than filtered: that mix is the shape of a rebinding trick,
 * and a merchant's real endpoint has no reason to publish it. `onRefused` learns why, for the attempt's result.
 */
function checkedLookup(options: AddressOptions, onRefused: (reason: string) => void) {
  return (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback): void => {
    const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
    dnsLookup(hostname, { all: true, family, hints: lookupOptions.hints ?? 0 }, (error, addresses) => {
      if (error) return callback(error, []);
      const refusal = addresses
        .map(({ address }) => addressVerdict(address, options))
        .find((verdict) => !verdict.allowed);
      if (refusal && !refusal.allowed) {
        onRefused(`${hostname} resolves to ${refusal.reason}`);
        return callback(new RefusedAddressError(refusal.reason), []);
      }
      const [first] = addresses;
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      // Node asks for every address when it tries several (autoSelectFamily, the default since Node 20), else one.
      if (lookupOptions.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

function headersOf(request: DeliveryRequest): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['user-agent'] = USER_AGENT;
  headers['content-length'] = String(Buffer.byteLength(request.body));
  return headers;
}

/** The code of a network error: Node's own (`ECONNREFUSED`, `ECONNRESET`, a TLS code...), or the first of several. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return 'UNKNOWN';
}

/**
 * Reads up to `ANSWER_START_BYTES` of the answer, then calls `done` with them: at that many bytes (the rest is never
 * read: the caller destroys the socket), at the end of a shorter body, or when the body breaks off (the status
 * already said what the merchant meant).
 */
function readAnswerStart(answer: IncomingMessage, done: (bytes: Buffer) => void): () => Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  const collected = (): Buffer => Buffer.concat(chunks, length);
  answer.on('data', (chunk: Buffer) => {
    const wanted = ANSWER_START_BYTES - length;
    if (wanted <= 0) return;
    const piece = chunk.subarray(0, wanted);
    chunks.push(piece);
    length += piece.length;
    if (length >= ANSWER_START_BYTES) done(collected());
  });
  answer.on('end', () => done(collected()));
  answer.on('error', () => done(collected()));
  answer.on('close', () => done(collected()));
  return collected;
}

/**
 * POSTs `request.body` to `request.url` once. No redirect is followed (a 3xx is the merchant's answer, and following
 * one would let the endpoint send payhook somewhere the address policy never saw). The destination's address is
 * checked after DNS, at connect time (see `checkedLookup`), and an IP literal before connecting.
 *
 * Each attempt has its own connection (`agent: false`), closed when it ends, and no keep-alive pool: the answer's body
 * is cut off after 256 bytes, which leaves the connection unusable anyway, and a pooled socket would outlive a Lambda
 * freeze (to fail with ECONNRESET on thaw, wasting an attempt) and could carry a delivery to an address that was only
 * checked under another request's options. A TLS handshake per delivery is the price.
 *
 * One timer bounds the whole attempt; when it fires before the status line arrives, the socket is destroyed and the
 * result is `timeout`. When the status has arrived but the first bytes of the body are slow, the result is `answered`
 * with what had arrived: the merchant has given its verdict, and calling it a timeout would redeliver an event it
 * accepted.
 *
 * Throws only for a programming error (a header value Node refuses, say), never for anything the network does.
 */
export function sendDelivery(request: DeliveryRequest): Promise<AttemptResult> {
  const destination = destinationOf(request.url, request);
  if ('refused' in destination) {
    return Promise.resolve({ kind: 'refused-address', reason: destination.refused });
  }
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  return new Promise<AttemptResult>((resolve, reject) => {
    let settled = false;
    let refusedReason: string | undefined;
    let outgoing: ClientRequest | undefined;
    let readSoFar: (() => Buffer) | undefined;
    let answered: { status: number; retryAfter?: string } | undefined;
    const settle = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      outgoing?.destroy();
    };
    const answerWith = (bytes: Buffer): void => {
      if (!answered) return;
      settle({
        kind: 'answered',
        ...answered,
        answerStart: sanitiseAnswerStart(Buffer.from(bytes), ANSWER_START_BYTES),
        latencyMs: latency(),
      });
    };
    const timer = setTimeout(() => {
      if (answered && readSoFar) answerWith(readSoFar());
      else settle({ kind: 'timeout', latencyMs: latency() });
    }, request.timeoutMs);
    const options: RequestOptions = {
      method: 'POST',
      headers: headersOf(request),
      agent: false,
      lookup: checkedLookup(request, (reason) => {
        refusedReason = reason;
      }),
    };
    try {
      outgoing = destination.send(destination.url, options, (answer) => {
        const retryAfter = answer.headers['retry-after'];
        answered = { status: answer.statusCode ?? 0, ...(retryAfter === undefined ? {} : { retryAfter }) };
        readSoFar = readAnswerStart(answer, answerWith);
      });
    } catch (error) {
      clearTimeout(timer);
      settled = true;
      reject(error);
      return;
    }
    outgoing.on('error', (error) => {
      if (refusedReason !== undefined) settle({ kind: 'refused-address', reason: refusedReason });
      else if (answered && readSoFar) answerWith(readSoFar());
      else settle({ kind: 'connection-error', code: errorCode(error), latencyMs: latency() });
    });
    outgoing.end(request.body);
  });
}
