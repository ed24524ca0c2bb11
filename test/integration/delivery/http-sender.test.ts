import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type DeliveryRequest, sendDelivery } from '../../../lambdas/delivery/http-sender.js';

// The sender against real servers on 127.0.0.1: what a merchant's endpoint receives, what payhook makes of each kind
// of answer, and that a URL pointing somewhere it must not go is refused before a single byte leaves.

// Names only this file resolves, through the real `dns.lookup` for everything else (`localhost` included): one that
// resolves to loopback, one to nothing, one that does not exist, one that resolves to a public and a loopback address
// at once (a DNS rebinding shape), and one that counts its lookups and answers differently each time (a rebinding
// server).
const FAKE_NAMES: Record<string, readonly LookupAddress[]> = {
  'merchant.test': [{ address: '127.0.0.1', family: 4 }],
  'empty.test': [],
  'mixed.test': [
    { address: '93.184.215.14', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
};
const rebinding = vi.hoisted(() => ({ lookups: 0 }));

vi.mock('node:dns', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:dns')>();
  const lookup = (hostname: string, options: unknown, callback: (...args: unknown[]) => void): void => {
    if (hostname === 'rebinding.test') {
      rebinding.lookups += 1;
      // Loopback the first time (checked, allowed in these tests), the metadata address afterwards.
      const address = rebinding.lookups === 1 ? '127.0.0.1' : '169.254.169.254';
      setImmediate(() => callback(null, [{ address, family: 4 }]));
      return;
    }
    if (hostname === 'missing.test') {
      const error = Object.assign(new Error('getaddrinfo ENOTFOUND missing.test'), { code: 'ENOTFOUND' });
      setImmediate(() => callback(error));
      return;
    }
    const fake = FAKE_NAMES[hostname];
    if (fake) {
      setImmediate(() => callback(null, [...fake]));
      return;
    }
    (actual.lookup as (...args: unknown[]) => void)(hostname, options, callback);
  };
  return { ...actual, default: { ...actual, lookup }, lookup };
});

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

interface TestServer {
  readonly port: number;
  readonly received: Received[];
  /** TCP connections accepted, whether or not a request came over them. */
  connections: number;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server on 127.0.0.1 that records each request (body read in full) and then runs `answer`. */
async function startServer(answer: (response: ServerResponse) => void): Promise<TestServer> {
  const state: { received: Received[]; connections: number } = { received: [], connections: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { method, url, headers } = request;
      state.received.push({ method, url, headers, body: Buffer.concat(chunks) });
      response.on('error', () => {});
      answer(response);
    });
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received: state.received,
    get connections() {
      return state.connections;
    },
  };
}

function delivery(url: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    url,
    body: '{"type":"payment.succeeded"}',
    headers: {},
    timeoutMs: 5_000,
    allowPrivateNetwork: false,
    allowLoopback: true,
    allowHttp: true,
    ...overrides,
  };
}

function reply(status: number, body = '', headers: Record<string, string> = {}) {
  return (response: ServerResponse): void => {
    response.writeHead(status, headers);
    response.end(body);
  };
}

describe('sendDelivery: what the merchant receives', () => {
  it('delivers the exact body bytes, the caller headers and its own as a POST to the path and query', async () => {
    const server = await startServer(reply(204));
    const body = '{"amount":"12.50","note":"café ✓"}';
    const result = await sendDelivery(
      delivery(`http://127.0.0.1:${server.port}/hooks/payhook?tenant=a%20b`, {
        body,
        headers: { 'webhook-id': 'msg_1', 'Webhook-Signature': 'v1,abc=' },
      }),
    );
    expect(result).toMatchObject({ kind: 'answered', status: 204, answerStart: '' });
    expect(server.received).toHaveLength(1);
    const [received] = server.received;
    expect(received?.method).toBe('POST');
    expect(received?.url).toBe('/hooks/payhook?tenant=a%20b');
    expect(received?.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(received?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'payhook-delivery',
      'content-length': String(Buffer.byteLength(body)),
      'webhook-id': 'msg_1',
      'webhook-signature': 'v1,abc=',
    });
    expect(received?.headers['transfer-encoding']).toBeUndefined();
  });

  it('sends the caller content-type instead of the JSON default, and only one of them', async () => {
    const server = await startServer(reply(200));
    await sendDelivery(
      delivery(`http://127.0.0.1:${server.port}/`, {
        headers: { 'Content-Type': 'application/cloudevents+json' },
      }),
    );
    expect(server.received[0]?.headers['content-type']).toBe('application/cloudevents+json');
  });

  it('connects a name to the address its lookup checked, resolving it once: a rebinding DNS gets one answer', async () => {
    const server = await startServer(reply(200, 'ok'));
    rebinding.lookups = 0;
    const result = await sendDelivery(delivery(`http://rebinding.test:${server.port}/`));
    expect(result).toMatchObject({ kind: 'answered', status: 200, answerStart: 'ok' });
    expect(rebinding.lookups).toBe(1);
    expect(server.received[0]?.headers.host).toBe(`rebinding.test:${server.port}`);
  });
});

describe('sendDelivery: the answers', () => {
  it('reports a 2xx with the start of its body and the latency', async () => {
    const server = await startServer(reply(200, '{"received":true}'));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toEqual({
      kind: 'answered',
      status: 200,
      answerStart: '{"received":true}',
      latencyMs: expect.any(Number),
    });
  });

  it('reports a 500 as an answer (retrying is the policy’s call, not the sender’s)', async () => {
    const server = await startServer(reply(500, 'boom'));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({ kind: 'answered', status: 500, answerStart: 'boom' });
    expect(result).not.toHaveProperty('retryAfter');
  });

  it('passes a 429 Retry-After on raw, so the policy can honour the merchant’s back-off', async () => {
    const server = await startServer(reply(429, 'slow down', { 'Retry-After': '120' }));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({
      kind: 'answered',
      status: 429,
      retryAfter: '120',
      answerStart: 'slow down',
    });
  });

  it('passes an HTTP-date Retry-After on unparsed', async () => {
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const server = await startServer(reply(503, '', { 'retry-after': date }));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({ kind: 'answered', status: 503, retryAfter: date });
  });

  it('reports a 410, the merchant’s "stop sending", as an answer', async () => {
    const server = await startServer(reply(410, 'gone'));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({ kind: 'answered', status: 410, answerStart: 'gone' });
  });

  it('does not follow a 302: the redirect target, which the address policy never saw, gets nothing', async () => {
    const target = await startServer(reply(200));
    const server = await startServer(
      reply(302, '', { location: `http://127.0.0.1:${target.port}/elsewhere` }),
    );
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({ kind: 'answered', status: 302 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.connections).toBe(0);
    expect(target.received).toHaveLength(0);
  });

  it('escapes the bytes of an answer that are not printable ASCII, so a log line cannot be forged', async () => {
    const body = Buffer.from([0x6f, 0x6b, 0x0a, 0x00, 0xff, 0x5c, 0x78, 0x34, 0x31, 0x09, 0x7e]);
    const server = await startServer((response) => {
      response.writeHead(400);
      response.end(body);
    });
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({
      kind: 'answered',
      status: 400,
      answerStart: 'ok\\x0a\\x00\\xff\\x5cx41\\x09~',
    });
  });

  it('reads only the first 256 bytes of a 10 MB answer and cuts the connection instead of downloading it', async () => {
    const sent = { finished: false, closed: false };
    const server = await startServer((response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.on('finish', () => {
        sent.finished = true;
      });
      response.on('close', () => {
        sent.closed = true;
      });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let written = 0;
      const pump = (): void => {
        while (written < 10 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      pump();
    });
    const started = performance.now();
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ kind: 'answered', status: 200, answerStart: 'x'.repeat(256) });
    expect(elapsed).toBeLessThan(1_000);
    // More than the socket buffers hold: the server could only have sent it all had the sender kept reading.
    await vi.waitFor(() => expect(sent.closed).toBe(true));
    expect(sent.finished).toBe(false);
  });
});

describe('sendDelivery: the time limit', () => {
  it('gives up on a server that never answers at the time limit, not much later', async () => {
    const server = await startServer(() => {});
    const started = performance.now();
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`, { timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    expect(result).toEqual({ kind: 'timeout', latencyMs: expect.any(Number) });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 500);
    expect(server.received).toHaveLength(1);
  });

  it('keeps the verdict of a server whose status came in time but whose body trickles past the limit', async () => {
    const server = await startServer((response) => {
      response.writeHead(200);
      response.write('accep');
    });
    const started = performance.now();
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`, { timeoutMs: 300 }));
    expect(performance.now() - started).toBeLessThan(300 + 500);
    expect(result).toMatchObject({ kind: 'answered', status: 200, answerStart: 'accep' });
  });
});

describe('sendDelivery: connection errors', () => {
  it('reports ECONNREFUSED for a closed port', async () => {
    const server = await startServer(reply(200));
    const { port } = server;
    const closing = servers.splice(servers.indexOf(servers[servers.length - 1] as Server), 1)[0];
    await new Promise((resolve) => closing?.close(resolve));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${port}/`));
    expect(result).toEqual({ kind: 'connection-error', code: 'ECONNREFUSED', latencyMs: expect.any(Number) });
  });

  it('reports a TLS failure with its code when an https endpoint does not speak TLS, through a name', async () => {
    const server = await startServer(reply(200));
    const result = await sendDelivery(delivery(`https://merchant.test:${server.port}/`));
    expect(result).toMatchObject({ kind: 'connection-error' });
    expect(result.kind === 'connection-error' && result.code).toMatch(/^(EPROTO|ERR_SSL_|ECONNRESET)/);
  });

  it('reports ENOTFOUND for a name that does not resolve, or resolves to no address', async () => {
    for (const host of ['missing.test', 'empty.test']) {
      const result = await sendDelivery(delivery(`https://${host}/`));
      expect(result, host).toEqual({
        kind: 'connection-error',
        code: 'ENOTFOUND',
        latencyMs: expect.any(Number),
      });
    }
  });

  it('reports a server that drops the connection without answering as ECONNRESET', async () => {
    const server = await startServer((response) => response.socket?.destroy());
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`));
    expect(result).toMatchObject({ kind: 'connection-error', code: 'ECONNRESET' });
  });
});

describe('sendDelivery: refused destinations never receive a byte', () => {
  it('refuses a loopback literal when loopback is not allowed', async () => {
    const server = await startServer(reply(200));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`, { allowLoopback: false }));
    expect(result).toEqual({ kind: 'refused-address', reason: expect.stringContaining('127.0.0.1') });
    expect(server.connections).toBe(0);
  });

  it('refuses localhost, resolved at connect time, when loopback is not allowed', async () => {
    const server = await startServer(reply(200));
    const result = await sendDelivery(delivery(`http://localhost:${server.port}/`, { allowLoopback: false }));
    expect(result).toEqual({
      kind: 'refused-address',
      reason: expect.stringMatching(/^localhost resolves to /),
    });
    expect(server.connections).toBe(0);
  });

  it('refuses loopback written in disguise: [::ffff:7f00:1], 0x7f.1, 2130706433, [::1]', async () => {
    const server = await startServer(reply(200));
    for (const host of ['[::ffff:7f00:1]', '0x7f.1', '2130706433', '[::1]', '0.0.0.0']) {
      const result = await sendDelivery(delivery(`http://${host}:${server.port}/`, { allowLoopback: false }));
      expect(result, host).toMatchObject({ kind: 'refused-address' });
    }
    expect(server.connections).toBe(0);
  });

  it('refuses a name that resolves to a public AND a refused address, rather than picking the good one', async () => {
    const server = await startServer(reply(200));
    const result = await sendDelivery(
      delivery(`http://mixed.test:${server.port}/`, { allowLoopback: false }),
    );
    expect(result).toEqual({ kind: 'refused-address', reason: expect.stringContaining('127.0.0.1') });
    expect(server.connections).toBe(0);
  });

  it('refuses an https URL to a private literal at once, without trying to connect', async () => {
    const started = performance.now();
    const result = await sendDelivery(
      delivery('https://10.0.0.1/hooks', { allowLoopback: false, timeoutMs: 10_000 }),
    );
    expect(result).toEqual({
      kind: 'refused-address',
      reason: '10.0.0.1 is in 10.0.0.0/8 (private network)',
    });
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses the metadata address even with private networks and loopback allowed', async () => {
    const result = await sendDelivery(
      delivery('http://169.254.169.254/latest/meta-data/', {
        allowPrivateNetwork: true,
        allowLoopback: true,
      }),
    );
    expect(result).toMatchObject({ kind: 'refused-address', reason: expect.stringContaining('metadata') });
  });

  it('refuses a plain http URL unless allowHttp, even to an allowed address', async () => {
    const server = await startServer(reply(200));
    const result = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`, { allowHttp: false }));
    expect(result).toEqual({ kind: 'refused-address', reason: 'http: URLs are not allowed' });
    expect(server.connections).toBe(0);
  });

  it('refuses what is not an http(s) URL', async () => {
    for (const url of ['not a url', 'ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(await sendDelivery(delivery(url)), url).toMatchObject({ kind: 'refused-address' });
    }
  });
});

// Loopback is its own switch: a VPC deployment allowing private networks must still not reach the function's host.
describe('sendDelivery: the options matrix for loopback', () => {
  it.each([
    { allowPrivateNetwork: false, allowLoopback: false, delivered: false },
    { allowPrivateNetwork: true, allowLoopback: false, delivered: false },
    { allowPrivateNetwork: false, allowLoopback: true, delivered: true },
    { allowPrivateNetwork: true, allowLoopback: true, delivered: true },
  ])('privateNetwork=$allowPrivateNetwork loopback=$allowLoopback: delivered=$delivered', async (row) => {
    const server = await startServer(reply(200));
    const options = { allowPrivateNetwork: row.allowPrivateNetwork, allowLoopback: row.allowLoopback };
    const literal = await sendDelivery(delivery(`http://127.0.0.1:${server.port}/`, options));
    const named = await sendDelivery(delivery(`http://localhost:${server.port}/`, options));
    expect([literal.kind, named.kind]).toEqual(
      row.delivered ? ['answered', 'answered'] : ['refused-address', 'refused-address'],
    );
    expect(server.received).toHaveLength(row.delivered ? 2 : 0);
  });
});
