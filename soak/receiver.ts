import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type FailureSchedule, retryAfterHeader, type ScheduledAnswer } from './delivery-faults.js';

/**
 * The merchant's side of the soak: one HTTP server on 127.0.0.1 with an endpoint per destination (`/<name>`). Each
 * endpoint reads a request in its destination's format (which says what id the delivery carries and whether it
 * verifies), records it, and answers as its failure schedule says: accepted (2xx), a 5xx, a 429 with `Retry-After`,
 * a 410, a connection reset, or no answer at all until the sender has timed out (then the socket is closed).
 *
 * Formats are pluggable so another delivery format (`original`: the gateway's own bytes and headers) is one more
 * {@link ReceiverFormat}, with the same schedule, records and checks.
 */

/** What a format makes of one request: the id it delivers, and whether its signature verifies. */
export interface ReadDelivery {
  readonly id: string | undefined;
  readonly verified: boolean;
  /** Why it did not verify. */
  readonly reason?: string;
}

export interface ReceiverFormat {
  readonly name: string;
  read(headers: Readonly<Record<string, string>>, body: string): ReadDelivery;
}

/**
 * `payment-event`: Standard Webhooks, verified with the official library, the id being `webhook-id` (the payment
 * event's own id).
 */
export function paymentEventFormat(secret: string): ReceiverFormat {
  const webhook = new Webhook(secret);
  return {
    name: 'payment-event',
    read(headers, body) {
      const id = headers['webhook-id'];
      try {
        webhook.verify(body, headers);
        return { id, verified: true };
      } catch (error) {
        return { id, verified: false, reason: (error as Error).message };
      }
    },
  };
}

/**
 * `original`: the gateway's own bytes and headers, forwarded by payhook. The id is the digest of the body (the same
 * webhook has the same bytes however often it is sent); whether it is a webhook the stack accepted, byte for byte with
 * its headers, is judged against what was sent when the soak checks (see `originalExpectations`).
 */
export function originalFormat(): ReceiverFormat {
  return {
    name: 'original',
    read(_headers, body) {
      return { id: bodyDigest(body), verified: true };
    },
  };
}

/** The id an `original` delivery is known by: SHA-256 of its body's bytes, hex. */
export function bodyDigest(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** How a request was answered: the schedule's answer, or a refusal of the receiver's own (no id, not verified). */
export type ReceiverAnswer =
  | ScheduledAnswer
  | { readonly kind: 'refused'; readonly status: number; readonly reason: string };

/** One request an endpoint received. */
export interface ReceivedAttempt {
  readonly destination: string;
  /** 1 for the endpoint's first request. */
  readonly seq: number;
  /** When it was received (epoch ms). */
  readonly atMs: number;
  readonly id: string | undefined;
  readonly verified: boolean;
  readonly verifyError?: string;
  /** Header names lower-cased, as node gives them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly answer: ReceiverAnswer;
  /** The `Retry-After` value sent with a 429. */
  readonly retryAfter?: string;
}

export interface ReceiverEndpoint {
  readonly name: string;
  readonly format: ReceiverFormat;
  readonly schedule: FailureSchedule;
  /** How long a `timeout` answer is held before the socket is closed: longer than the destination's timeout. */
  readonly holdMs: number;
}

export interface SoakReceiver {
  /** The endpoint's URL. */
  url(name: string): string;
  /** Everything the endpoint received so far, in order. */
  attempts(name: string): readonly ReceivedAttempt[];
  close(): Promise<void>;
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * Starts the receiver. `onAttempt` sees every recorded request as it is answered (the soak's on-call engineer
 * watches for the 410).
 */
export async function startSoakReceiver(
  endpoints: readonly ReceiverEndpoint[],
  onAttempt: (attempt: ReceivedAttempt) => void = () => undefined,
): Promise<SoakReceiver> {
  const byName = new Map(endpoints.map((endpoint) => [endpoint.name, endpoint]));
  const received = new Map<string, ReceivedAttempt[]>(endpoints.map((endpoint) => [endpoint.name, []]));
  const holds = new Set<NodeJS.Timeout>();
  let closing = false;

  const respond = (
    request: IncomingMessage,
    response: ServerResponse,
    answer: ReceiverAnswer,
    endpoint: ReceiverEndpoint,
    retryAfter: string | undefined,
  ) => {
    const json = { 'content-type': 'application/json' };
    switch (answer.kind) {
      case 'accept':
        response.writeHead(answer.status, json).end(answer.status === 204 ? undefined : '{"ok":true}');
        return;
      case 'error':
        response.writeHead(answer.status, json).end('{"error":"injected by the soak"}');
        return;
      case 'throttle':
        response
          .writeHead(429, { ...json, 'retry-after': retryAfter ?? '1' })
          .end('{"error":"slow down (injected)"}');
        return;
      case 'gone':
        response.writeHead(410, json).end('{"error":"gone (injected)"}');
        return;
      case 'refused':
        response.writeHead(answer.status, json).end(JSON.stringify({ error: answer.reason }));
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'timeout': {
        // No answer: the sender gives up at its timeout; the socket is closed after it, never answered.
        const timer = setTimeout(() => {
          holds.delete(timer);
          request.socket.destroy();
        }, endpoint.holdMs);
        holds.add(timer);
        return;
      }
    }
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const name = new URL(request.url ?? '/', 'http://receiver').pathname.replace(/^\//, '');
      const endpoint = byName.get(name);
      const body = await readBody(request);
      if (!endpoint || request.method !== 'POST' || closing) {
        response.writeHead(404).end();
        return;
      }
      const headers = headersOf(request);
      const read = endpoint.format.read(headers, body);
      const atMs = Date.now();
      let answer: ReceiverAnswer;
      if (read.id === undefined || read.id === '') {
        answer = { kind: 'refused', status: 400, reason: 'no delivery id' };
      } else if (!read.verified) {
        answer = { kind: 'refused', status: 401, reason: read.reason ?? 'not verified' };
      } else {
        answer = endpoint.schedule.answer(read.id, atMs);
      }
      const retryAfter = answer.kind === 'throttle' ? retryAfterHeader(answer.retryAfter, atMs) : undefined;
      const list = received.get(name) ?? [];
      const attempt: ReceivedAttempt = {
        destination: name,
        seq: list.length + 1,
        atMs,
        id: read.id,
        verified: read.verified,
        ...(read.reason !== undefined && { verifyError: read.reason }),
        headers,
        body,
        answer,
        ...(retryAfter !== undefined && { retryAfter }),
      };
      list.push(attempt);
      respond(request, response, answer, endpoint, retryAfter);
      onAttempt(attempt);
    })().catch(() => {
      request.socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (name) => `${base}/${name}`,
    attempts: (name) => received.get(name) ?? [],
    async close() {
      closing = true;
      for (const timer of holds) clearTimeout(timer);
      holds.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
