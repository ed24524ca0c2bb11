import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE } from '../../events/index.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { RefusedRequestRecorder } from '../../lambdas/intake/refused-requests.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { DynamoRefusedRequestWriter } from '../../lambdas/store/dynamodb-refused-request-writer.js';
import { DynamoRefusedRequestStore } from '../../lambdas/store/dynamodb-refused-requests.js';
import type { TableNames } from '../../local/tables.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingQueue } from '../support/fakes.js';
import { GATEWAY_CASES, signedSample } from '../support/gateway-cases.js';

let dynamo: DynamoEmulator;
let tables: TableNames;
let store: DynamoRefusedRequestStore;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  tables = await dynamo.createTables('refusals-test');
  store = new DynamoRefusedRequestStore(createDocumentClient(dynamo.client), { tableName: tables.rejects });
});

afterAll(async () => {
  await dynamo?.stop();
});

const stripe = GATEWAY_CASES.find((gatewayCase) => gatewayCase.gateway === 'stripe');

describe('Refused requests kept in DynamoDB (dynalite)', () => {
  it("records a refused webhook (ingest's writer) without its signature or body, and nothing for an accepted one", async () => {
    if (!stripe) throw new Error('stripe case missing');
    const queue = new RecordingQueue();
    const handler = createIngestHandler(
      {
        adapters: ADAPTERS,
        settings: parseGatewaySettings(undefined),
        secrets: new FileSecretStore(DEV_SECRETS_FILE),
        queue,
        maxBodyBytes: 262_144,
        // What ingest writes with (the plain DynamoDB client); the CLI's store reads it back.
        refusals: new RefusedRequestRecorder(
          new DynamoRefusedRequestWriter(dynamo.client, { tableName: tables.rejects }),
          recordingLog(),
        ),
      },
      recordingLog(),
    );
    const signed = signedSample(stripe);
    const forgedSignature = `t=${Math.floor(Date.now() / 1000)},v1=${'a'.repeat(64)}`;
    const since = new Date(Date.now() - 1000);
    const refused = await handler(
      apiGatewayEvent('stripe', signed.body, { ...signed.headers, 'stripe-signature': forgedSignature }),
    );
    const accepted = await handler(apiGatewayEvent('stripe', signed.body, { ...signed.headers }));
    const unknown = await handler(apiGatewayEvent('paypal', signed.body, { ...signed.headers }));
    expect([refused.statusCode, accepted.statusCode, unknown.statusCode]).toEqual([401, 200, 404]);

    const { items: stored, truncated } = await store.list({ since });
    expect(truncated).toEqual([]);
    expect(stored.map((entry) => [entry.gateway, entry.reason, entry.status])).toEqual([
      ['stripe', 'invalid_signature', 401],
      ['unknown', 'unknown_gateway', 404],
    ]);
    expect(stored[1]?.requestedGateway).toBe('paypal');
    expect(stored[0]).toEqual({
      gateway: 'stripe',
      reason: 'invalid_signature',
      status: 401,
      at: expect.any(String),
      requestId: expect.any(String),
      sourceIp: expect.any(String),
      bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      bodyBytes: Buffer.byteLength(signed.body),
      headerNames: expect.arrayContaining(['content-type', 'stripe-signature']),
    });
    expect((await store.list({ since, gateway: 'stripe' })).items).toHaveLength(1);
    expect(
      (await store.list({ since, reason: 'unknown_gateway' })).items.map((entry) => entry.gateway),
    ).toEqual(['unknown']);
    expect((await store.list({ since: new Date(Date.now() + 60_000) })).items).toEqual([]);

    const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: tables.rejects }));
    const raw = JSON.stringify(Items);
    expect(raw).not.toContain('a'.repeat(64));
    expect(raw).not.toContain(signed.body.slice(0, 40));
    // Kept for the default 7 days, then DynamoDB's TTL removes it.
    const expiresAt = Number(Items[0]?.expiresAt?.N);
    expect(expiresAt - Math.floor(Date.parse(String(Items[0]?.at?.S)) / 1000)).toBe(7 * 86_400);
  });

  it('lists the newest first and says when older ones were left out by the limit', async () => {
    const base = Date.parse('2030-05-01T00:00:00Z');
    for (let minute = 0; minute < 5; minute += 1) {
      await store.put({
        gateway: 'paystack',
        reason: 'missing_signature',
        status: 401,
        at: new Date(base + minute * 60_000).toISOString(),
        requestId: `req-${minute}`,
        bodySha256: '0'.repeat(64),
        bodyBytes: 10,
        headerNames: ['content-type'],
      });
    }
    const page = await store.list({ since: new Date(base), gateway: 'paystack', limitPerGateway: 3 });
    expect(page.items.map((entry) => entry.requestId)).toEqual(['req-4', 'req-3', 'req-2']);
    expect(page.truncated).toEqual(['paystack']);
    const all = await store.list({ since: new Date(base), gateway: 'paystack', limitPerGateway: 5 });
    expect(all.items).toHaveLength(5);
    expect(all.truncated).toEqual([]);
  });
});
