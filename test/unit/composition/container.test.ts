import { describe, expect, it } from 'vitest';
import type { ClientRole } from '../../../lambdas/composition/client-settings.js';
import type { AwsClient } from '../../../lambdas/composition/clients.js';
import { Container } from '../../../lambdas/composition/container.js';
import { intakeDependencies } from '../../../lambdas/composition/intake.js';
import { consumerDependencies } from '../../../lambdas/composition/processing.js';
import { reconcileDependencies } from '../../../lambdas/composition/reconciliation.js';
import { registrationDependencies } from '../../../lambdas/composition/registration.js';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  DRAINED_QUEUE_ENV,
  EVENT_BUS_ENV,
  IDEMPOTENCY_TABLE_ENV,
  PAYMENTS_TABLE_ENV,
  PRIORITIES,
  QUEUES_ENV,
  REJECTS_TABLE_ENV,
  SECRETS_ENV,
} from '../../../lambdas/definitions.js';
import { DynamoEventRecords } from '../../../lambdas/store/dynamodb-event-records.js';
import { DynamoPreviousCompletions } from '../../../lambdas/store/previous-idempotency-records.js';
import { recordingLog } from '../../support/api-gateway.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/000000000000/payhook';

/** The environment the stack gives the functions (AWS flavour: Secrets Manager, EventBridge). */
const ENV = {
  AWS_REGION: 'eu-west-1',
  ...Object.fromEntries(
    PRIORITIES.map((priority) => [QUEUES_ENV.queueUrl(priority), `${QUEUE}-${priority}`]),
  ),
  [QUEUES_ENV.deadLetterQueueUrl('low')]: `${QUEUE}-low-dlq`,
  [SECRETS_ENV.secretIds]: '{"stripe":"payhook/stripe"}',
  [REJECTS_TABLE_ENV.tableName]: 'rejects',
  [DRAINED_QUEUE_ENV.priority]: 'high',
  [DRAINED_QUEUE_ENV.queueUrl]: `${QUEUE}-high`,
  [DRAINED_QUEUE_ENV.deadLetterQueueUrl]: `${QUEUE}-high-dlq`,
  [PAYMENTS_TABLE_ENV.tableName]: 'payments',
  [IDEMPOTENCY_TABLE_ENV.tableName]: 'idempotency',
  [EVENT_BUS_ENV.busName]: 'payhook-payments',
};

/** A container that counts the clients it builds, by role and client class. */
function countingContainer(env: Record<string, string> = ENV) {
  const built: string[] = [];
  const container = new Container(env, {
    region: 'eu-west-1',
    onClient: (client: AwsClient, role: ClientRole) => built.push(`${role} ${client.constructor.name}`),
  });
  return { container, built };
}

/** The document client a DynamoDB store was given (a private field, read for this test only). */
const clientOf = (store: unknown) => (store as { client: unknown }).client;
const optionsOf = (store: unknown) => (store as { options: unknown }).options;

describe('the composition root', () => {
  it('builds each client of a role once per container, however many stores and consumers use it', () => {
    const { container, built } = countingContainer();
    const log = recordingLog();
    intakeDependencies(container, log);
    const first = consumerDependencies(container, log);
    const second = consumerDependencies(container, log);
    reconcileDependencies(container, log);
    registrationDependencies(container);
    registrationDependencies(container);
    expect(built.sort()).toEqual(
      [
        'consumer DynamoDBClient',
        'consumer EventBridgeClient',
        'consumer SQSClient',
        'ingest SQSClient',
        'ingest SecretsManagerClient',
        'reconciler DynamoDBClient',
        'reconciler SQSClient',
        'reconciler SecretsManagerClient',
        'refusals DynamoDBClient',
        'registration DynamoDBClient',
        'registration EventBridgeClient',
      ].sort(),
    );
    // The same client object reaches every store of the consumer, in one consumer and the next.
    const documents = container.clients('consumer').documents();
    expect(clientOf(first.apply.store)).toBe(documents);
    expect(clientOf(first.apply.unmatched)).toBe(documents);
    expect(clientOf(second.apply.store)).toBe(documents);
    expect(first.sqs).toBe(second.sqs);
    expect(first.apply.publisher).toBe(second.apply.publisher);
    container.destroy();
  });

  it('gives the refusals their own best-effort client, apart from ingest', () => {
    const { container } = countingContainer();
    const intake = intakeDependencies(container, recordingLog());
    expect(intake.refusals).toBeDefined();
    expect(container.clients('refusals').dynamoDb()).not.toBe(container.clients('consumer').dynamoDb());
    container.destroy();
  });

  it('honours the history retention in every function that writes history, and reads the same default', () => {
    const configured = countingContainer({
      ...ENV,
      [PAYMENTS_TABLE_ENV.historyRetentionDays]: '30',
    }).container;
    const expected = { tableName: 'payments', historyRetentionDays: 30 };
    expect(optionsOf(consumerDependencies(configured, recordingLog()).apply.store)).toEqual(expected);
    expect(optionsOf(consumerDependencies(configured, recordingLog()).apply.unmatched)).toEqual(expected);
    expect(optionsOf(registrationDependencies(configured).store)).toEqual(expected);
    const unset = countingContainer().container;
    expect(optionsOf(registrationDependencies(unset).store)).toEqual({
      tableName: 'payments',
      historyRetentionDays: DEFAULT_HISTORY_RETENTION_DAYS,
    });
    configured.destroy();
    unset.destroy();
  });

  it("keeps the consumers' idempotency records on the payments table, with the history's retention", () => {
    const configured = countingContainer({
      ...ENV,
      [PAYMENTS_TABLE_ENV.historyRetentionDays]: '30',
    }).container;
    const records = consumerDependencies(configured, recordingLog()).newIdempotencyStore();
    expect(records).toBeInstanceOf(DynamoEventRecords);
    expect(optionsOf(records)).toEqual({ tableName: 'payments', historyRetentionDays: 30 });
    configured.destroy();
  });

  it("reads the previous release's idempotency table only where the stack names one", () => {
    const named = countingContainer().container;
    expect(consumerDependencies(named, recordingLog()).apply.previousCompletions).toBeInstanceOf(
      DynamoPreviousCompletions,
    );
    const { [IDEMPOTENCY_TABLE_ENV.tableName]: _previous, ...withoutPrevious } = ENV;
    const none = countingContainer(withoutPrevious).container;
    expect(consumerDependencies(none, recordingLog()).apply.previousCompletions).toBeUndefined();
    named.destroy();
    none.destroy();
  });

  it('fails a cold start with a clear message on a bad retention', () => {
    const { container } = countingContainer({ ...ENV, [PAYMENTS_TABLE_ENV.historyRetentionDays]: '0' });
    expect(() => registrationDependencies(container)).toThrow(
      /PAYHOOK_HISTORY_RETENTION_DAYS must be a positive integer/,
    );
  });

  it('wraps the publisher it builds with the given wrapper, once per role', () => {
    const wrapped: string[] = [];
    const container = new Container(
      {
        ...ENV,
        [EVENT_BUS_ENV.busName]: '',
        [EVENT_BUS_ENV.eventsFile]: '/tmp/payhook-composition-test.jsonl',
      },
      {
        publisher: (inner) => {
          wrapped.push(inner.constructor.name);
          return inner;
        },
      },
    );
    registrationDependencies(container);
    registrationDependencies(container);
    consumerDependencies(container, recordingLog());
    expect(wrapped).toEqual(['FilePaymentEventPublisher', 'FilePaymentEventPublisher']);
  });
});
