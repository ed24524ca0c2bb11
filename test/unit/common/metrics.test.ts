import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics, gatewayDimension } from '../../../lambdas/common/metrics.js';
import { METRICS, METRICS_NAMESPACE } from '../../../lambdas/definitions.js';

/** The EMF lines Powertools writes to stdout during `fn`. */
function emfLines(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface EmfBlob {
  readonly Namespace: string;
  readonly Dimensions: string[][];
  readonly Metrics: { Name: string; Unit: string }[];
}

const blobOf = (line: Record<string, unknown>) =>
  (line._aws as { CloudWatchMetrics: EmfBlob[] }).CloudWatchMetrics[0] as EmfBlob;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('EmfMetrics (Powertools Metrics, embedded metric format)', () => {
  it("writes annotated fields on the flush's first line as JSON values (arrays stay arrays), never as dimensions, and only once", () => {
    const metrics = new EmfMetrics('payhook-ingest', {});
    const [first, second] = emfLines(() => {
      metrics.annotate({ message: 'webhook accepted', bodyBytes: 1068, eventIds: ['evt_1', 'evt_2'] });
      metrics.add(METRICS.webhookRequests, 'stripe', 1, 'invalid_signature');
      metrics.add(METRICS.signatureFailures, 'stripe', 1);
      metrics.flush();
    }) as [Record<string, unknown>, Record<string, unknown>];
    expect(first).toMatchObject({
      message: 'webhook accepted',
      bodyBytes: 1068,
      eventIds: ['evt_1', 'evt_2'],
    });
    expect(blobOf(first).Dimensions).toEqual([['service', 'gateway', 'outcome']]);
    expect(second).not.toHaveProperty('message');
    const [next] = emfLines(() => {
      metrics.add(METRICS.webhookRequests, 'stripe', 1, 'accepted');
      metrics.flush();
    });
    expect(next).not.toHaveProperty('eventIds');
  });

  it("writes one line per dimension set, with the service, gateway and the metric's one extra dimension", () => {
    const metrics = new EmfMetrics('payhook-ingest', {});
    const lines = emfLines(() => {
      metrics.add(METRICS.webhookRequests, 'stripe', 1, 'accepted');
      metrics.add(METRICS.webhookRequests, 'stripe', 1, 'accepted');
      metrics.add(METRICS.webhookSourceNotAllowed, 'stripe', 1);
      metrics.add(METRICS.webhookRequests, 'stripe', 1, 'invalid_signature');
      metrics.add(METRICS.webhookSourceNotAllowed, 'stripe', 2);
      metrics.flush();
    });
    expect(lines).toHaveLength(3);
    const [accepted, outside, refused] = lines as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(blobOf(accepted).Namespace).toBe(METRICS_NAMESPACE);
    expect(blobOf(accepted).Dimensions).toEqual([['service', 'gateway', 'outcome']]);
    expect(blobOf(accepted).Metrics).toEqual([{ Name: 'WebhookRequests', Unit: 'Count' }]);
    expect(accepted).toMatchObject({
      service: 'payhook-ingest',
      gateway: 'stripe',
      outcome: 'accepted',
      WebhookRequests: 2,
    });
    // A metric without an extra dimension has the gateway-only set, its counts summed.
    expect(blobOf(outside).Dimensions).toEqual([['service', 'gateway']]);
    expect(outside).toMatchObject({ gateway: 'stripe', WebhookSourceNotAllowed: 3 });
    expect(refused).toMatchObject({ outcome: 'invalid_signature', WebhookRequests: 1 });
  });

  it('writes a metric of the function as a whole (QueueDelay) with the service alone, whatever gateway is passed', () => {
    const metrics = new EmfMetrics('payhook-consumer-high', {});
    const lines = emfLines(() => {
      metrics.add(METRICS.queueDelay, 'stripe', 40);
      metrics.add(METRICS.queueDelay, 'paystack', 60);
      metrics.flush();
    });
    expect(lines).toHaveLength(1);
    const [line] = lines as [Record<string, unknown>];
    expect(blobOf(line).Dimensions).toEqual([['service']]);
    expect(line).toMatchObject({ service: 'payhook-consumer-high', QueueDelay: [40, 60] });
    expect(line).not.toHaveProperty('gateway');
  });

  it('writes nothing when nothing was added, and starts again after each flush', () => {
    const metrics = new EmfMetrics('payhook-consumer-high', {});
    expect(emfLines(() => metrics.flush())).toEqual([]);
    metrics.add(METRICS.processingFailures, 'paystack', 1, 'aws_5xx');
    expect(emfLines(() => metrics.flush())).toHaveLength(1);
    expect(emfLines(() => metrics.flush())).toEqual([]);
  });

  it('takes namespace and service from the Powertools variables the stack sets', () => {
    const metrics = new EmfMetrics('fallback', {
      POWERTOOLS_METRICS_NAMESPACE: 'acme-payhook',
      POWERTOOLS_SERVICE_NAME: 'payhook-consumer-low',
    });
    const [line] = emfLines(() => {
      metrics.add(METRICS.queueDelay, 'adyen', 40);
      metrics.add(METRICS.queueDelay, 'adyen', 60);
      metrics.flush();
    });
    expect(line && blobOf(line).Namespace).toBe('acme-payhook');
    expect(line).toMatchObject({ service: 'payhook-consumer-low', QueueDelay: [40, 60] });
  });

  it('never uses a caller-chosen path segment as a gateway dimension', () => {
    expect(gatewayDimension('razorpay')).toBe('razorpay');
    expect(gatewayDimension('../../etc')).toBe('unknown');
    expect(gatewayDimension('x'.repeat(500))).toBe('unknown');
  });
});
