import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../../lambdas/composition/lambda-credentials.js';

/** A container credential endpoint answering what `answer` says, counting the requests it gets. */
async function credentialEndpoint(answer: () => { status: number; expiresInMs?: number }) {
  let requests = 0;
  const server: Server = createServer((_request, response) => {
    requests += 1;
    const { status, expiresInMs = 3_600_000 } = answer();
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(
      status === 200
        ? JSON.stringify({
            AccessKeyId: `AKID${requests}`,
            SecretAccessKey: 'secret',
            Token: 'token',
            Expiration: new Date(Date.now() + expiresInMs).toISOString(),
          })
        : '{"message":"unavailable"}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`;
  return {
    url,
    requests: () => requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
];

beforeEach(() => {
  for (const name of CREDENTIAL_VARIABLES) vi.stubEnv(name, undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("Lambda functions' credential chain (in place of the SDK's default chain in the bundles)", () => {
  it("serves the role's credentials from the environment, session token included, and keeps them", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session');
    const provider = defaultProvider();
    const first = await provider();
    expect(first).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'session',
    });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAOTHER');
    // Memoized: no expiry, so the same credentials for the life of the execution environment.
    expect((await provider()).accessKeyId).toBe('ASIAEXAMPLE');
  });

  it('falls back to the container endpoint, and refreshes credentials near expiry in the background, keeping them while a refresh fails', async () => {
    let failing = false;
    const endpoint = await credentialEndpoint(() =>
      failing ? { status: 500 } : { status: 200, expiresInMs: 240_000 },
    );
    try {
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', endpoint.url);
      const provider = defaultProvider();
      const first = await provider();
      expect(first.accessKeyId).toBe('AKID1');
      expect(endpoint.requests()).toBe(1);
      // Within five minutes of expiry: the kept credentials serve the call while one refresh runs behind it.
      failing = true;
      const second = await provider();
      expect(second.accessKeyId).toBe('AKID1');
      await vi.waitFor(() => expect(endpoint.requests()).toBe(2));
      // The refresh failed: still the kept (valid) credentials, no error.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await provider()).accessKeyId).toBe('AKID1');
      failing = false;
      await vi.waitFor(async () => expect((await provider()).accessKeyId).not.toBe('AKID1'));
    } finally {
      await endpoint.close();
    }
  });

  it('fetches again before serving once the kept credentials have expired', async () => {
    const endpoint = await credentialEndpoint(() => ({ status: 200, expiresInMs: -1_000 }));
    try {
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', endpoint.url);
      const provider = defaultProvider();
      expect((await provider()).accessKeyId).toBe('AKID1');
      expect((await provider()).accessKeyId).toBe('AKID2');
    } finally {
      await endpoint.close();
    }
  });

  it('says plainly that neither source is there', async () => {
    await expect(defaultProvider()()).rejects.toThrow(
      'Could not load credentials from the environment nor from a container credential endpoint',
    );
  });
});
