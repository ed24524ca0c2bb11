import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LosslessNumber, stringify } from 'lossless-json';

/**
 * DEVELOPMENT SANDBOX, never a production dependency: a fake of the five payment-status APIs the reconciler asks
 * (Paystack, Flutterwave, Razorpay, OXA Pay, Stripe), served on loopback so tests and the local stack can verify
 * payments over real HTTP without a network or an account.
 *
 * Each gateway lives under its own path prefix (`url('stripe')` is `http://127.0.0.1:<port>/stripe`, passed to a
 * verifier as its `baseUrl`) and serves the real API's path, auth header and JSON shape, as documented in
 * `/work/shared/reference/providers.md`, section d of each provider. The answers for unknown payments and bad
 * credentials follow what each gateway is reported to send; those shapes are UNCONFIRMED and documented on the
 * verifiers that read them. Any non-empty credential is accepted; a missing one gets 401.
 *
 * `behave` makes the next N requests to a gateway misbehave (rate limiting, server errors, hanging, malformed
 * JSON), which is how the retry and timeout paths are tested.
 */

export const SANDBOX_GATEWAYS = ['paystack', 'flutterwave', 'razorpay', 'oxapay', 'stripe'] as const;
export type SandboxGateway = (typeof SANDBOX_GATEWAYS)[number];

/** A payment as the gateway would describe it. Every field is written into the answer as given. */
export interface SandboxPayment {
  /** The gateway's own status word: `success` (Paystack), `successful`, `captured`, `Paid`, `succeeded`. */
  readonly status: string;
  /**
   * The amount as exact number text in the gateway's own unit: minor units for Paystack, Razorpay and Stripe
   * (`"10000"`), major units for Flutterwave and OXA Pay (`"7500.50"`, `"10.5"`). Sent as a JSON number, digit for
   * digit.
   */
  readonly amount: string;
  /** As the gateway writes it (Stripe's is lower-cased in the answer, as Stripe does). */
  readonly currency: string;
  /**
   * The merchant's reference. Paystack and Flutterwave look payments up by it (required there); OXA Pay answers it
   * as `order_id`, Stripe as `metadata.reference`, Razorpay as `notes.reference`.
   */
  readonly reference?: string;
  /**
   * The gateway's id. Razorpay (`order_...` or `pay_...`), OXA Pay (track_id) and Stripe (`pi_...`) look payments up
   * by it (required there); Paystack and Flutterwave answer it as `data.id` (a number when it is all digits).
   */
  readonly id?: string;
  /** Stripe only: `amount_received`. @default the amount when `succeeded`, else `0` */
  readonly amountReceived?: string;
  /** Razorpay orders only: every attempt at paying the order, each also fetchable by its own `pay_` id. */
  readonly payments?: readonly SandboxPayment[];
}

/**
 * How the next requests misbehave: `rate-limit` answers 429 with `Retry-After: 0`, `server-error` 500, `hang` never
 * answers (until the client gives up or the sandbox stops), `malformed` a 200 whose body is not JSON,
 * `unauthorized` 401 and `not-found` a bare 404.
 */
export type SandboxMisbehaviour =
  | 'rate-limit'
  | 'server-error'
  | 'hang'
  | 'malformed'
  | 'unauthorized'
  | 'not-found';

/** A request the sandbox received, for tests to check paths and headers. */
export interface SandboxRequest {
  readonly method: string;
  /** The path under the gateway's prefix, query included: `/v1/payments/pay_1`. */
  readonly path: string;
  readonly authorization?: string;
  /** OXA Pay's auth header. */
  readonly merchantApiKey?: string;
}

export interface GatewaySandbox {
  /** The base URL standing in for the gateway's API: pass it as the verifier's `baseUrl`. */
  url(gateway: SandboxGateway): string;
  /** Adds or replaces a payment, keyed as the gateway looks it up (see {@link SandboxPayment}). */
  setPayment(gateway: SandboxGateway, payment: SandboxPayment): void;
  /** Makes the next `times` requests to `gateway` misbehave (queued after any earlier ones). @param times default 1 */
  behave(gateway: SandboxGateway, mode: SandboxMisbehaviour, times?: number): void;
  /** Every request `gateway` received, oldest first. */
  requests(gateway: SandboxGateway): readonly SandboxRequest[];
  /** Forgets payments, misbehaviours and recorded requests. */
  reset(): void;
  stop(): Promise<void>;
}

export interface SandboxOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
}

type Json = unknown;

interface Answer {
  readonly status: number;
  readonly body: Json;
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** The amount as a JSON number with exactly the given digits. */
function exactNumber(text: string): LosslessNumber {
  if (!JSON_NUMBER.test(text))
    throw new TypeError(`sandbox amount ${JSON.stringify(text)} is not a JSON number`);
  return new LosslessNumber(text);
}

/** Integer-looking ids go out as numbers (Paystack and Flutterwave transaction ids are integers). */
function idValue(id: string): LosslessNumber | string {
  return /^[1-9]\d{0,17}$/.test(id) ? new LosslessNumber(id) : id;
}

function isGateway(value: string): value is SandboxGateway {
  return (SANDBOX_GATEWAYS as readonly string[]).includes(value);
}

/** The lookup key of a payment at its gateway. */
function keyOf(gateway: SandboxGateway, payment: SandboxPayment): string {
  const key = gateway === 'paystack' || gateway === 'flutterwave' ? payment.reference : payment.id;
  if (key === undefined || key.length === 0) {
    const field = gateway === 'paystack' || gateway === 'flutterwave' ? 'reference' : 'id';
    throw new TypeError(`a ${gateway} sandbox payment needs its "${field}"`);
  }
  return key;
}

let generatedIds = 1_000_000;
function nextId(): string {
  generatedIds += 1;
  return String(generatedIds);
}

// ---- Each gateway's answers ------------------------------------------------------------------------------------

function paystackTransaction(payment: SandboxPayment): Json {
  return {
    status: true,
    message: 'Verification successful',
    data: {
      id: idValue(payment.id ?? nextId()),
      domain: 'test',
      status: payment.status,
      reference: payment.reference,
      amount: exactNumber(payment.amount),
      currency: payment.currency,
      gateway_response: payment.status === 'success' ? 'Successful' : 'Sandbox',
      channel: 'card',
      paid_at: payment.status === 'success' ? new Date().toISOString() : null,
    },
  };
}

function flutterwaveTransaction(payment: SandboxPayment): Json {
  return {
    status: 'success',
    message: 'Transaction fetched successfully',
    data: {
      id: idValue(payment.id ?? nextId()),
      tx_ref: payment.reference,
      flw_ref: `SANDBOX/${payment.reference ?? ''}`,
      amount: exactNumber(payment.amount),
      charged_amount: exactNumber(payment.amount),
      currency: payment.currency,
      status: payment.status,
      payment_type: 'card',
      created_at: new Date().toISOString(),
    },
  };
}

function razorpayPayment(payment: SandboxPayment, orderId: string | null): Json {
  const status = payment.status.toLowerCase();
  return {
    id: payment.id,
    entity: 'payment',
    amount: exactNumber(payment.amount),
    currency: payment.currency,
    status: payment.status,
    order_id: orderId,
    captured: status === 'captured' || status === 'refunded',
    method: 'card',
    // Razorpay sends `[]` for notes nobody set and an object otherwise.
    notes: payment.reference === undefined ? [] : { reference: payment.reference },
    created_at: Math.floor(Date.now() / 1000),
  };
}

function oxapayPayment(payment: SandboxPayment): Json {
  return {
    data: {
      track_id: payment.id,
      type: 'invoice',
      amount: exactNumber(payment.amount),
      currency: payment.currency,
      status: payment.status,
      order_id: payment.reference ?? '',
      date: Math.floor(Date.now() / 1000),
    },
    message: 'Operation completed successfully!',
    error: {},
    status: 200,
    version: '1.0.0',
  };
}

function stripeIntent(payment: SandboxPayment): Json {
  const received = payment.amountReceived ?? (payment.status === 'succeeded' ? payment.amount : '0');
  return {
    id: payment.id,
    object: 'payment_intent',
    amount: exactNumber(payment.amount),
    amount_received: exactNumber(received),
    currency: payment.currency.toLowerCase(),
    status: payment.status,
    metadata: payment.reference === undefined ? {} : { reference: payment.reference },
    livemode: false,
  };
}

/** What each gateway is reported to answer for an unknown payment (UNCONFIRMED shapes; see the verifiers). */
function unknownPayment(gateway: SandboxGateway, id: string): Answer {
  switch (gateway) {
    case 'paystack':
      return { status: 400, body: { status: false, message: 'Transaction reference not found' } };
    case 'flutterwave':
      return {
        status: 400,
        body: { status: 'error', message: 'No transaction was found for this id', data: null },
      };
    case 'razorpay':
      return {
        status: 400,
        body: { error: { code: 'BAD_REQUEST_ERROR', description: 'The id provided does not exist' } },
      };
    case 'oxapay':
      return {
        status: 404,
        body: {
          data: {},
          message: 'Payment not found',
          error: { type: 'not_found', key: 'track_id', message: 'Payment not found' },
          status: 404,
          version: '1.0.0',
        },
      };
    case 'stripe':
      return {
        status: 404,
        body: {
          error: {
            code: 'resource_missing',
            message: `No such payment_intent: '${id}'`,
            param: 'intent',
            type: 'invalid_request_error',
          },
        },
      };
  }
}

function unauthorized(gateway: SandboxGateway): Answer {
  switch (gateway) {
    case 'paystack':
      return { status: 401, body: { status: false, message: 'Invalid key' } };
    case 'flutterwave':
      return { status: 401, body: { status: 'error', message: 'Invalid authorization key', data: null } };
    case 'razorpay':
      return {
        status: 401,
        body: { error: { code: 'BAD_REQUEST_ERROR', description: 'Authentication failed' } },
      };
    case 'oxapay':
      return {
        status: 401,
        body: {
          data: {},
          message: 'Invalid merchant API key',
          error: { type: 'authentication', key: 'merchant_api_key', message: 'Invalid merchant API key' },
          status: 401,
          version: '1.0.0',
        },
      };
    case 'stripe':
      return {
        status: 401,
        body: { error: { message: 'Invalid API Key provided', type: 'invalid_request_error' } },
      };
  }
}

/** Whether the request carries the gateway's kind of credential (any non-empty value will do). */
function authorised(gateway: SandboxGateway, request: SandboxRequest): boolean {
  if (gateway === 'oxapay') return (request.merchantApiKey ?? '').length > 0;
  const header = request.authorization ?? '';
  if (gateway === 'razorpay') {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    const pair = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return colon > 0 && colon < pair.length - 1;
  }
  return /^Bearer \S+$/.test(header);
}

const MISBEHAVIOUR_ANSWERS: Readonly<Record<Exclude<SandboxMisbehaviour, 'hang' | 'malformed'>, Answer>> = {
  'rate-limit': { status: 429, body: { message: 'Too many requests' }, headers: { 'retry-after': '0' } },
  'server-error': { status: 500, body: { message: 'Internal server error' } },
  unauthorized: { status: 401, body: { message: 'Unauthorized' } },
  'not-found': { status: 404, body: { message: 'Not found' } },
};

// ---- The server --------------------------------------------------------------------------------------------------

/** Starts the sandbox on 127.0.0.1; `stop()` it when done. */
export async function startGatewaySandbox(options: SandboxOptions = {}): Promise<GatewaySandbox> {
  const payments = new Map<SandboxGateway, Map<string, SandboxPayment>>();
  const razorpayOrderOf = new Map<string, string>();
  const queued = new Map<SandboxGateway, SandboxMisbehaviour[]>();
  const received = new Map<SandboxGateway, SandboxRequest[]>();
  const hanging = new Set<ServerResponse>();
  const table = (gateway: SandboxGateway) => {
    let found = payments.get(gateway);
    if (!found) {
      found = new Map();
      payments.set(gateway, found);
    }
    return found;
  };

  function lookUp(gateway: SandboxGateway, path: string, query: URLSearchParams): Answer {
    const found = (key: string | undefined) => (key === undefined ? undefined : table(gateway).get(key));
    let match: RegExpExecArray | null;
    switch (gateway) {
      case 'paystack': {
        match = /^\/transaction\/verify\/([^/]+)$/.exec(path);
        if (!match?.[1]) break;
        const payment = found(decodeURIComponent(match[1]));
        return payment
          ? { status: 200, body: paystackTransaction(payment) }
          : unknownPayment(gateway, match[1]);
      }
      case 'flutterwave': {
        if (path !== '/v3/transactions/verify_by_reference') break;
        const reference = query.get('tx_ref') ?? '';
        const payment = found(reference);
        return payment
          ? { status: 200, body: flutterwaveTransaction(payment) }
          : unknownPayment(gateway, reference);
      }
      case 'razorpay': {
        match = /^\/v1\/orders\/([^/]+)\/payments$/.exec(path);
        if (match?.[1]) {
          const orderId = decodeURIComponent(match[1]);
          const order = found(orderId);
          if (!order) return unknownPayment(gateway, orderId);
          const items = (order.payments ?? []).map((payment) => razorpayPayment(payment, orderId));
          return { status: 200, body: { entity: 'collection', count: items.length, items } };
        }
        match = /^\/v1\/payments\/([^/]+)$/.exec(path);
        if (!match?.[1]) break;
        const paymentId = decodeURIComponent(match[1]);
        const payment = found(paymentId);
        if (!payment || paymentId.startsWith('order_')) return unknownPayment(gateway, paymentId);
        return { status: 200, body: razorpayPayment(payment, razorpayOrderOf.get(paymentId) ?? null) };
      }
      case 'oxapay': {
        match = /^\/v1\/payment\/([^/]+)$/.exec(path);
        if (!match?.[1]) break;
        const payment = found(decodeURIComponent(match[1]));
        return payment ? { status: 200, body: oxapayPayment(payment) } : unknownPayment(gateway, match[1]);
      }
      case 'stripe': {
        match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
        if (!match?.[1]) break;
        const id = decodeURIComponent(match[1]);
        const payment = found(id);
        return payment ? { status: 200, body: stripeIntent(payment) } : unknownPayment(gateway, id);
      }
    }
    return { status: 404, body: { message: `the ${gateway} sandbox does not serve ${path}` } };
  }

  function send(response: ServerResponse, answer: Answer): void {
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      ...answer.headers,
    });
    response.end(stringify(answer.body));
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const [, prefix = '', ...rest] = url.pathname.split('/');
    if (!isGateway(prefix)) {
      send(response, { status: 404, body: { message: `no gateway at /${prefix}` } });
      return;
    }
    const gateway = prefix;
    const path = `/${rest.join('/')}`;
    const authorization = request.headers.authorization;
    const merchantApiKey = request.headers.merchant_api_key;
    const seen: SandboxRequest = {
      method: request.method ?? 'GET',
      path: `${path}${url.search}`,
      ...(authorization !== undefined && { authorization }),
      ...(typeof merchantApiKey === 'string' && { merchantApiKey }),
    };
    received.set(gateway, [...(received.get(gateway) ?? []), seen]);

    const misbehaviour = queued.get(gateway)?.shift();
    if (misbehaviour === 'hang') {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    if (misbehaviour === 'malformed') {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{"status": true, "data": {"status": "succ');
      return;
    }
    if (misbehaviour !== undefined) {
      send(response, MISBEHAVIOUR_ANSWERS[misbehaviour]);
      return;
    }
    if (seen.method !== 'GET') {
      send(response, { status: 405, body: { message: 'the sandbox serves GET only' } });
      return;
    }
    if (!authorised(gateway, seen)) {
      send(response, unauthorized(gateway));
      return;
    }
    send(response, lookUp(gateway, path, url.searchParams));
  }

  const server = createServer((request, response) => {
    // The request body (there should be none) is drained so the connection can be reused.
    request.resume();
    request.on('end', () => handle(request, response));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: (gateway) => `http://127.0.0.1:${port}/${gateway}`,
    setPayment(gateway, payment) {
      exactNumber(payment.amount);
      if (payment.amountReceived !== undefined) exactNumber(payment.amountReceived);
      table(gateway).set(keyOf(gateway, payment), payment);
      if (gateway === 'razorpay' && payment.id !== undefined) {
        for (const attempt of payment.payments ?? []) {
          if (attempt.id === undefined)
            throw new TypeError('a razorpay sandbox order payment needs its "id"');
          exactNumber(attempt.amount);
          table(gateway).set(attempt.id, attempt);
          razorpayOrderOf.set(attempt.id, payment.id);
        }
      }
    },
    behave(gateway, mode, times = 1) {
      if (!Number.isInteger(times) || times < 1)
        throw new TypeError(`behave: times must be a positive integer`);
      const list = queued.get(gateway) ?? [];
      for (let i = 0; i < times; i += 1) list.push(mode);
      queued.set(gateway, list);
    },
    requests: (gateway) => [...(received.get(gateway) ?? [])],
    reset() {
      payments.clear();
      razorpayOrderOf.clear();
      queued.clear();
      received.clear();
    },
    async stop() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
