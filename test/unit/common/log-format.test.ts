import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { LeanLogFormatter } from '../../../lambdas/common/log-format.js';

const FUNCTION_NAME = 'shop-prod-WebhookApiIngestFunction6A1B2C3D-AbCdEfGhIjKl';
const CONTEXT = {
  functionName: FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}`,
  memoryLimitInMB: '512',
  awsRequestId: '8f5e4c1a-1b2c-4d5e-8f90-123456789abc',
} as Context;

/** The JSON lines a logger writes to stdout during `fn`. */
function linesOf(fn: () => void): Record<string, unknown>[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function accepted(logger: Logger): Record<string, unknown> | undefined {
  // The test set-up silences loggers (POWERTOOLS_LOG_LEVEL); this one is read.
  logger.setLogLevel('INFO');
  logger.addContext(CONTEXT);
  return linesOf(() =>
    logger.info('webhook accepted', { gateway: 'paystack', eventIds: ['4099260516'], bodyBytes: 1068 }),
  )[0];
}

describe('LeanLogFormatter', () => {
  it('says cold_start only on the first line after an instance starts: true there, absent on a warm line', () => {
    // Powertools knows a cold start only where Lambda says how the instance was initialised.
    const initialisation = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const logger = new Logger({ serviceName: 'payhook-ingest', logFormatter: new LeanLogFormatter() });
    if (initialisation === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initialisation;
    logger.setLogLevel('INFO');
    logger.addContext(CONTEXT);
    const [cold] = linesOf(() => logger.info('first'));
    logger.addContext(CONTEXT);
    const [warm] = linesOf(() => logger.info('second'));
    expect(cold).toMatchObject({ cold_start: true, function_request_id: CONTEXT.awsRequestId });
    expect(warm).not.toHaveProperty('cold_start');
    expect(warm).toMatchObject({ function_request_id: CONTEXT.awsRequestId });
  });

  it("keeps level, message, time, service, Lambda's request id and every field, not the function's ARN, name or memory", () => {
    const line = accepted(
      new Logger({ serviceName: 'payhook-ingest', logFormatter: new LeanLogFormatter() }),
    );
    expect(line).toEqual({
      level: 'INFO',
      message: 'webhook accepted',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'payhook-ingest',
      function_request_id: CONTEXT.awsRequestId,
      gateway: 'paystack',
      eventIds: ['4099260516'],
      bodyBytes: 1068,
    });
  });

  it("writes at least 200 bytes less per line than Powertools' default format", () => {
    const lean = JSON.stringify(
      accepted(new Logger({ serviceName: 'payhook-ingest', logFormatter: new LeanLogFormatter() })),
    );
    const full = JSON.stringify(accepted(new Logger({ serviceName: 'payhook-ingest' })));
    expect(full).toContain(FUNCTION_NAME);
    expect(lean).not.toContain(FUNCTION_NAME);
    expect(full.length - lean.length).toBeGreaterThanOrEqual(200);
  });

  it('leaves out the trace id of an unsampled trace, which names no trace anyone can open', () => {
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0',
    );
    try {
      const line = accepted(
        new Logger({ serviceName: 'payhook-ingest', logFormatter: new LeanLogFormatter() }),
      );
      expect(line).toMatchObject({ message: 'webhook accepted' });
      expect(line).not.toHaveProperty('xray_trace_id');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names a sampled X-Ray trace, and a debug sampling rate only when set', () => {
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    try {
      const sampled = new Logger({
        serviceName: 'payhook-ingest',
        logFormatter: new LeanLogFormatter(),
        sampleRateValue: 0.5,
      });
      expect(accepted(sampled)).toMatchObject({
        xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        sampling_rate: 0.5,
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
