import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_SECRETS_FILE } from '../../events/index.js';
import { INTAKE_ENV, PRIORITIES, QUEUES_ENV, SECRETS_ENV } from '../../lambdas/definitions.js';
import { apiGatewayEvent } from '../support/api-gateway.js';
import { GATEWAY_CASES, signedSample } from '../support/gateway-cases.js';
import {
  createPipelineQueues,
  drainAll,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

// The deployed entry point, loaded the way Lambda loads it: configuration from the environment at module load.
let sqs: SqsEmulator;
let pipeline: PipelineQueues;

beforeAll(async () => {
  sqs = await startSqsEmulator();
  pipeline = await createPipelineQueues(sqs.client, 'module-test');
});

afterAll(async () => {
  await sqs.stop();
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

function stubPipelineEnv(): void {
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
  for (const priority of PRIORITIES) vi.stubEnv(QUEUES_ENV.queueUrl(priority), pipeline.queues[priority]);
  vi.stubEnv(QUEUES_ENV.deadLetterQueueUrl('low'), pipeline.deadLetterQueues.low);
  vi.stubEnv(SECRETS_ENV.secretsFile, DEV_SECRETS_FILE);
}

describe('lambdas/ingest.ts', () => {
  it('builds its handler from the environment and queues a signed webhook', async () => {
    stubPipelineEnv();
    const { handler } = await import('../../lambdas/ingest.js');
    const stripe = GATEWAY_CASES.find((gatewayCase) => gatewayCase.gateway === 'stripe');
    if (!stripe) throw new Error('stripe case missing');
    const signed = signedSample(stripe);
    const response = await handler(apiGatewayEvent('stripe', signed.body, { ...signed.headers }));
    expect(response.statusCode).toBe(200);
    expect((await drainAll(sqs.client, pipeline)).high).toHaveLength(1);
  });

  it('honours PAYHOOK_GATEWAY_SETTINGS and PAYHOOK_MAX_BODY_BYTES', async () => {
    stubPipelineEnv();
    vi.stubEnv(INTAKE_ENV.gatewaySettings, '{"enabled":["paystack"]}');
    vi.stubEnv(INTAKE_ENV.maxBodyBytes, '10');
    const { handler } = await import('../../lambdas/ingest.js');
    expect((await handler(apiGatewayEvent('stripe', '{}', {}))).statusCode).toBe(404);
    expect((await handler(apiGatewayEvent('paystack', '{"event":"x","data":{}}', {}))).statusCode).toBe(413);
  });

  it.each([
    [
      'a queue URL is missing',
      () => vi.stubEnv(QUEUES_ENV.queueUrl('normal'), ''),
      /PAYHOOK_QUEUE_URL_NORMAL is required/,
    ],
    [
      'no secret source is configured',
      () => vi.stubEnv(SECRETS_ENV.secretsFile, ''),
      /set PAYHOOK_GATEWAY_SECRET_IDS \(AWS\) or PAYHOOK_SECRETS_FILE \(local\)/,
    ],
    [
      'the gateway settings have a typo',
      () => vi.stubEnv(INTAKE_ENV.gatewaySettings, '{"stripe":{"tolerence":60}}'),
      /stripe: unknown key "tolerence"/,
    ],
    [
      'a secret id names an unknown gateway',
      () => vi.stubEnv(SECRETS_ENV.secretIds, '{"paypal":"payhook/paypal"}'),
      /unknown gateway "paypal"/,
    ],
  ])('fails its cold start with a clear message when %s', async (_name, breakIt, message) => {
    stubPipelineEnv();
    breakIt();
    await expect(import('../../lambdas/ingest.js')).rejects.toThrow(message);
  });
});
