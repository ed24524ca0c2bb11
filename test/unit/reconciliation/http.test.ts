import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getFromGateway, MAX_RETRY_AFTER_MS, retryAfterMs } from '../../../lambdas/reconciliation/http.js';
import {
  VerifyNotFoundError,
  type VerifyOptions,
  VerifyUnavailableError,
} from '../../../lambdas/reconciliation/verify.js';

/**
 * The retry helper against a scripted loopback server: each request takes the next step of the script, so the
 * tests see exactly how many requests were made and how long the waits between them were.
 */
type Step = (response: ServerResponse) => void;

const SECRET = 'sk_live_NEVER_IN_MESSAGES';
let server: Server;
let base: string;
let script: Step[] = [];
let arrivals: number[] = [];
let authorizations: (string | undefined)[] = [];
const open = new Set<ServerResponse>();

const answer =
  (status: number, body = '{}', headers: Record<string, string> = {}): Step =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
const hangBeforeHeaders: Step = (response) => {
  open.add(response);
};
const hangMidBody: Step = (response) => {
  open.add(response);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.write('{"status": ');
};

beforeAll(async () => {
  server = createServer((request, response) => {
    arrivals.push(performance.now());
    authorizations.push(request.headers.authorization);
    const step = script.shift() ?? answer(200, '{"ok":true}');
    request.resume();
    request.on('end', () => step(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const response of open) response.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  script = [];
  arrivals = [];
  authorizations = [];
});

function get(options: Partial<VerifyOptions> = {}, isNotFound?: (status: number, text: string) => boolean) {
  return getFromGateway(
    {
      gateway: 'Testpay',
      url: `${base}/thing`,
      headers: { authorization: `Bearer ${SECRET}` },
      ...(isNotFound && { isNotFound }),
    },
    { baseUrl: base, timeoutMs: 200, attempts: 3, backoffMs: 5, ...options },
  );
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an Error rejection');
}

describe('retryAfterMs', () => {
  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['0', 0],
    ['2', 2000],
    ['1.5', 1500],
    [' 3 ', 3000],
    ['120', MAX_RETRY_AFTER_MS],
    ['-1', undefined],
    ['soon', undefined],
    ['Thu, 01 Jan 1970 00:00:10 GMT', 4000],
    ['Thu, 01 Jan 1970 00:00:01 GMT', 0],
    ['Thu, 01 Jan 1970 00:05:00 GMT', MAX_RETRY_AFTER_MS],
  ])('reads %j as %s ms (capped at 30 s)', (header, expected) => {
    expect(retryAfterMs(header, 6000)).toBe(expected);
  });

  it('caps at 30 seconds', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(30_000);
  });
});

describe('getFromGateway', () => {
  it('returns a 2xx status and body text as sent, digits intact', async () => {
    script = [answer(200, '{"amount": 0.123456789012345678901}')];
    await expect(get()).resolves.toEqual({ status: 200, text: '{"amount": 0.123456789012345678901}' });
    expect(authorizations).toEqual([`Bearer ${SECRET}`]);
  });

  it.each([429, 500, 502, 503, 504])(
    'retries HTTP %i and returns the answer that follows',
    async (status) => {
      script = [answer(status), answer(200, '{"n":2}')];
      await expect(get()).resolves.toEqual({ status: 200, text: '{"n":2}' });
      expect(arrivals).toHaveLength(2);
    },
  );

  it('backs off exponentially from backoffMs when no Retry-After is given', async () => {
    script = [answer(503), answer(503), answer(503)];
    const error = await failure(get({ backoffMs: 100 }));
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    const [first = 0, second = 0, third = 0] = arrivals;
    // 100 ms, then 200 ms (timers may fire a little late, never early).
    expect(second - first).toBeGreaterThanOrEqual(95);
    expect(third - second).toBeGreaterThanOrEqual(195);
  });

  it('waits what Retry-After asks rather than the back-off', async () => {
    script = [answer(429, '{}', { 'retry-after': '1' }), answer(200)];
    await get({ backoffMs: 1 });
    const [first = 0, second = 0] = arrivals;
    expect(second - first).toBeGreaterThanOrEqual(990);
  });

  it('gives up after `attempts` requests, naming the last failure', async () => {
    script = [answer(500), answer(429), answer(502)];
    const error = await failure(get());
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toBe('Testpay API unavailable after 3 attempts: HTTP 502');
    expect(arrivals).toHaveLength(3);
  });

  it('makes one request when attempts is 1', async () => {
    script = [answer(500)];
    const error = await failure(get({ attempts: 1 }));
    expect(error.message).toBe('Testpay API unavailable after 1 attempt: HTTP 500');
    expect(arrivals).toHaveLength(1);
  });

  it.each([
    ['before the headers', hangBeforeHeaders],
    ['in the middle of the body', hangMidBody],
  ])('times out an answer that stalls %s, and retries it', async (_, stall) => {
    script = [stall, answer(200, '{"late":false}')];
    await expect(get({ timeoutMs: 150 })).resolves.toEqual({ status: 200, text: '{"late":false}' });
    expect(arrivals).toHaveLength(2);
  });

  it('retries network errors and reports them without the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(
      getFromGateway(
        { gateway: 'Testpay', url: `http://127.0.0.1:${port}/secret-path`, headers: {} },
        { baseUrl: '', timeoutMs: 200, attempts: 2, backoffMs: 1 },
      ),
    );
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toBe('Testpay API unavailable after 2 attempts: network error (ECONNREFUSED)');
  });

  it('reads 404 as not found, at once', async () => {
    script = [answer(404, '{"message":"customer jane@example.com"}')];
    const error = await failure(get());
    expect(error).toBeInstanceOf(VerifyNotFoundError);
    expect(error.message).not.toContain('jane@example.com');
    expect(arrivals).toHaveLength(1);
  });

  it("reads another 4xx as not found only when the gateway's predicate says so", async () => {
    script = [answer(400, '{"gone":true}'), answer(400, '{"gone":false}')];
    const isNotFound = (status: number, text: string) => status === 400 && text.includes('"gone":true');
    expect(await failure(get({}, isNotFound))).toBeInstanceOf(VerifyNotFoundError);
    const other = await failure(get({}, isNotFound));
    expect(other).toBeInstanceOf(VerifyUnavailableError);
    expect(other.message).toBe('Testpay API answered HTTP 400');
  });

  it.each([401, 403])('reads HTTP %i as a credentials problem, unavailable, at once', async (status) => {
    script = [answer(status, `{"message":"bad key ${SECRET}"}`)];
    const error = await failure(get());
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain('credentials');
    expect(error.message).not.toContain(SECRET);
    expect(arrivals).toHaveLength(1);
  });

  it('does not follow a redirect (the credentials stay with their host)', async () => {
    script = [answer(302, '', { location: `${base}/elsewhere` })];
    const error = await failure(get());
    expect(error).toBeInstanceOf(VerifyUnavailableError);
    expect(error.message).toBe('Testpay API answered HTTP 302');
    expect(arrivals).toHaveLength(1);
  });
});
