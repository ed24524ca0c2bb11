import { MAXIMUM_RETRY_DELAY, Retry, THROTTLING_RETRY_DELAY_BASE } from '@smithy/core/retry';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_SETTINGS,
  type ClientRole,
  rolesOverDeadline,
  SDK_RETRY_BACKOFF,
  sdkClientConfig,
  worstCaseCallMs,
} from '../../../lambdas/composition/client-settings.js';
import { AwsClients } from '../../../lambdas/composition/clients.js';
import {
  DELIVERY_TIMEOUT_SECONDS,
  INGEST_TIMEOUT_SECONDS,
  PRIORITIES,
  PRIORITY_QUEUES,
  RECONCILER_TIMEOUT_SECONDS,
  REGISTRATION_TIMEOUT_SECONDS,
} from '../../../lambdas/definitions.js';

const ROLES = Object.keys(CLIENT_SETTINGS) as ClientRole[];

/** Each role's function timeout, written out from the definitions the stack's functions are given. */
const FUNCTION_TIMEOUT_SECONDS: Readonly<Record<ClientRole, number>> = {
  ingest: INGEST_TIMEOUT_SECONDS,
  refusals: INGEST_TIMEOUT_SECONDS,
  // Every consumer, whichever priority it drains.
  consumer: Math.min(...PRIORITIES.map((priority) => PRIORITY_QUEUES[priority].consumerTimeoutSeconds)),
  reconciler: RECONCILER_TIMEOUT_SECONDS,
  registration: REGISTRATION_TIMEOUT_SECONDS,
  delivery: DELIVERY_TIMEOUT_SECONDS,
};

describe('client settings per role', () => {
  it('has a role for each function that calls AWS, each with its reason', () => {
    expect(ROLES).toEqual(['ingest', 'refusals', 'consumer', 'reconciler', 'registration', 'delivery']);
    for (const role of ROLES) expect(CLIENT_SETTINGS[role].reason.length, role).toBeGreaterThan(20);
  });

  it.each(ROLES)(
    "%s: the worst-case call (every attempt timing out, the longest backoffs) fits its function's timeout",
    (role) => {
      const settings = CLIENT_SETTINGS[role];
      expect(settings.deadlineSeconds).toBe(FUNCTION_TIMEOUT_SECONDS[role]);
      expect(worstCaseCallMs(settings)).toBeLessThan(FUNCTION_TIMEOUT_SECONDS[role] * 1000);
    },
  );

  it('gives ingest tight timeouts and the consumers more attempts and longer timeouts', () => {
    expect(worstCaseCallMs(CLIENT_SETTINGS.ingest)).toBe(2 * 1200 + 1000);
    expect(worstCaseCallMs(CLIENT_SETTINGS.refusals)).toBe(500);
    expect(CLIENT_SETTINGS.consumer.maxAttempts).toBeGreaterThan(CLIENT_SETTINGS.ingest.maxAttempts);
    expect(CLIENT_SETTINGS.consumer.requestTimeoutMs).toBeGreaterThan(
      CLIENT_SETTINGS.ingest.requestTimeoutMs,
    );
  });

  it('finds a role whose worst case does not fit', () => {
    expect(rolesOverDeadline()).toEqual([]);
    expect(
      rolesOverDeadline({
        ...CLIENT_SETTINGS,
        ingest: { ...CLIENT_SETTINGS.ingest, maxAttempts: 3 },
        registration: { ...CLIENT_SETTINGS.registration, requestTimeoutMs: 10_000 },
      }),
    ).toEqual(['ingest', 'registration']);
  });

  it("models the installed SDK's retry backoff no shorter than it is", () => {
    expect(Math.max(Retry.throttlingDelay(), THROTTLING_RETRY_DELAY_BASE)).toBeLessThanOrEqual(
      SDK_RETRY_BACKOFF.throttlingBaseMs,
    );
    expect(MAXIMUM_RETRY_DELAY).toBeLessThanOrEqual(SDK_RETRY_BACKOFF.maxMs);
  });

  it.each(ROLES)('%s: its clients are built with its settings, request timeouts enforced', async (role) => {
    const clients = new AwsClients(role, {}, { region: 'eu-west-1' });
    try {
      for (const client of [
        clients.sqs(),
        clients.dynamoDb(),
        clients.secretsManager(),
        clients.eventBridge(),
      ]) {
        expect(await client.config.maxAttempts()).toBe(CLIENT_SETTINGS[role].maxAttempts);
      }
      expect(sdkClientConfig(role).requestHandler).toEqual({
        connectionTimeout: CLIENT_SETTINGS[role].connectionTimeoutMs,
        requestTimeout: CLIENT_SETTINGS[role].requestTimeoutMs,
        throwOnRequestTimeout: true,
      });
    } finally {
      clients.destroy();
    }
  });
});
