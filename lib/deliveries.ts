import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DELIVERIES_ENV,
  DELIVERY_BATCH_SIZE,
  DELIVERY_MAX_RECEIVE_COUNT,
  DELIVERY_QUEUE_VISIBILITY_SECONDS,
  DELIVERY_TIMEOUT_SECONDS,
  deliveryOutputKeys,
  deliveryQueueName,
  destinationSecretName,
} from '../lambdas/definitions.js';
import { type DestinationSettings, originalGatewaysOf } from '../lambdas/delivery/destinations.js';
import { PAYMENT_EVENT_SOURCE } from '../lambdas/domain/payment-event.js';
import { GATEWAY_SECRET_HEADERS } from '../lambdas/messages/original-webhook.js';
import type { GatewaySecrets } from './gateway-secrets.js';
import { PayhookFunction } from './payhook-function.js';
import { SERVICES } from './payhook-metrics.js';
import type { PaymentEvents } from './payment-events.js';
import type { PaymentStore } from './payment-store.js';
import { drainWith, sendTo } from './priority-pipeline.js';

export interface DeliveriesProps {
  /** The `destinations` setting, parsed: at least one. */
  readonly destinations: Readonly<Record<string, DestinationSettings>>;
  readonly store: PaymentStore;
  readonly events: PaymentEvents;
  /** Prefix of the queue and secret names, as for the priority queues. */
  readonly namePrefix: string;
  /** @default - the `logRetentionDays` setting's default (30 days) */
  readonly logRetention?: logs.RetentionDays;
}

/** One destination's resources. */
export interface DeliveryDestination {
  readonly name: string;
  readonly settings: DestinationSettings;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** What feeds a `payment-event` destination's queue; an `original` one is fed by the consumers. */
  readonly rule?: events.Rule;
  /** A `payment-event` destination's signing secret; an `original` one carries the gateway's own signature. */
  readonly secret?: secretsmanager.Secret;
}

/** SQS's longest queue name. */
const MAX_QUEUE_NAME = 80;

/**
 * Lambda's limit on a function's environment, every variable's name and value together. Token values (queue URLs,
 * secret ARNs) are unknown at synth, so the delivery targets are measured at their longest likely length below.
 */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** Left for the variables the delivery function has besides the two of deliveries (Powertools', the table's). */
const OTHER_VARIABLES_BYTES = 600;
/** The longest region name (`ap-southeast-4`) and an account id, for the length of an ARN or a queue URL. */
const REGION_AND_ACCOUNT = { region: 'ap-southeast-4', account: '123456789012' };

/**
 * Deliveries of payment events to the merchant's own endpoints (the `destinations` setting). Per destination: a queue
 * fed by an EventBridge rule on payhook's bus (its detail-types, all `payment.*` by default, and its gateways, if it
 * names any), that queue's dead-letter queue, and a signing secret generated at deploy. One function drains every
 * destination's queue, each through an event source mapping of its own whose maximum concurrency is the destination's.
 *
 * The function dead-letters a record itself, with its reason, when it is refused or its retries run out; the queue's
 * SQS redrive (at {@link DELIVERY_MAX_RECEIVE_COUNT} receives) is only the safety net for a function that keeps
 * crashing on one record, and the rule's dead-letter queue (the same one) catches what EventBridge itself could not put
 * on the queue.
 */
export class Deliveries extends Construct {
  public readonly destinations: readonly DeliveryDestination[];
  public readonly deliverer: PayhookFunction;

  constructor(scope: Construct, id: string, props: DeliveriesProps) {
    super(scope, id);
    const entries = Object.entries(props.destinations);
    if (entries.length === 0) throw new Error('Deliveries needs at least one destination');
    checkNames(
      entries.map(([name]) => name),
      props.namePrefix,
    );
    this.destinations = entries.map(([name, settings]) => this.destination(name, settings, props));
    this.deliverer = new PayhookFunction(this, 'Deliverer', {
      entry: 'lambdas/deliver.ts',
      serviceName: SERVICES.deliver,
      timeout: Duration.seconds(DELIVERY_TIMEOUT_SECONDS),
      description: 'payhook: delivers payment events to the merchant endpoints',
      logRetention: props.logRetention,
    });
    checkEnvironmentSize(this.destinations, props.namePrefix);
    this.bindDeliverer(this.deliverer, props.store);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Each destination\'s signing secret is a key the merchant\'s endpoint verifies with: rotating it is agreed with the merchant, who must hold the new key before payhook signs with it. To rotate, store {"secrets": [new, old]}: each delivery is signed with both until the old one is dropped, so no delivery fails verification meanwhile.',
    });
  }

  /** The destination's queues, rule and secret. */
  private destination(name: string, settings: DestinationSettings, props: DeliveriesProps) {
    const scope = new Construct(this, name);
    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      queueName: deliveryQueueName(name, 'deadLetter', props.namePrefix),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(scope, 'Queue', {
      queueName: deliveryQueueName(name, 'main', props.namePrefix),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Retries of one event last `retryHours`, at most 14 days less an hour: SQS's longest retention keeps them all.
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(DELIVERY_QUEUE_VISIBILITY_SECONDS),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT },
    });
    if (settings.format === 'original') return { name, settings, queue, deadLetterQueue };
    const rule = new events.Rule(scope, 'Rule', {
      eventBus: props.events.bus,
      description: `payhook: payment events for the ${name} destination`,
      eventPattern: eventPatternOf(settings),
    });
    rule.addTarget(queueTarget(queue, deadLetterQueue));
    const secret = new secretsmanager.Secret(scope, 'Secret', {
      secretName: destinationSecretName(name, props.namePrefix),
      description:
        `payhook signing secret of the ${name} destination (Standard Webhooks), JSON {"secret": "<base64 key>"} ` +
        'generated at deploy; the merchant verifies with it (as whsec_<key>). To rotate, store ' +
        '{"secrets": ["whsec_<new>", "whsec_<old>"]}: deliveries are signed with each until the old one is removed.',
      // 32 characters of [A-Za-z0-9], every one a base64 digit: a 24-byte key, as Standard Webhooks asks (24-64).
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'secret',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    return { name, settings, queue, deadLetterQueue, rule, secret };
  }

  /**
   * What the delivery function reads and does, and nothing more: each destination's queue drained by its mapping
   * (receive, delete, attributes) with the back-off and holds of `ChangeMessageVisibility`; `SendMessage` to each DLQ,
   * where it dead-letters with the reason; `GetSecretValue` on each signing secret (`grantRead` would add
   * `DescribeSecret`, which nothing calls); the destinations' stop states in the payments table, and no payment item.
   */
  private bindDeliverer(fn: PayhookFunction, store: PaymentStore): void {
    for (const { queue, settings } of this.destinations) {
      drainWith(fn, queue, {
        batchSize: DELIVERY_BATCH_SIZE,
        // No batching window: an event is delivered as soon as it is queued.
        maxBatchingWindowSeconds: 0,
        maxConcurrency: settings.maxConcurrency,
      });
    }
    // Each DLQ (dead letters with their reason) and each queue itself (a stopped destination's events go back as
    // delayed copies with fresh receives).
    sendTo(
      fn,
      this.destinations.flatMap((destination) => [destination.queue, destination.deadLetterQueue]),
    );
    const secretArns = this.destinations.flatMap(({ secret }) => (secret ? [secret.secretArn] : []));
    if (secretArns.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: secretArns,
      });
    }
    store.bindDestinationStates(fn);
    fn.addEnvironment({
      [DELIVERIES_ENV.destinations]: JSON.stringify(
        Object.fromEntries(this.destinations.map(({ name, settings }) => [name, settings])),
      ),
      [DELIVERIES_ENV.targets]: Stack.of(this).toJsonString(
        Object.fromEntries(
          this.destinations.map((destination) => [
            destination.name,
            {
              queueUrl: destination.queue.queueUrl,
              deadLetterQueueUrl: destination.deadLetterQueue.queueUrl,
              ...(destination.secret && { secretId: destination.secret.secretArn }),
            },
          ]),
        ),
      ),
    });
  }
}

/**
 * The `original` destinations' sources: ingest queues the webhooks of the gateways they want with their bytes and
 * signature headers, and the consumers, once an event is applied for the first time, send its webhook to each one's
 * queue (`SendMessage` on those queues alone).
 */
export function bindOriginalSources(
  deliveries: Deliveries,
  ingest: PayhookFunction,
  consumers: readonly PayhookFunction[],
  secrets: GatewaySecrets,
): void {
  const originals = deliveries.destinations.filter(({ settings }) => settings.format === 'original');
  if (originals.length === 0) return;
  // Ingest then writes version 4 messages (with the original), which only this release's consumers read: updated
  // after them, so a deploy that upgrades and adds an original destination at once dead-letters nothing meanwhile.
  for (const consumer of consumers) ingest.function.node.addDependency(consumer.function);
  const gateways = originalGatewaysOf(
    Object.fromEntries(originals.map(({ name, settings }) => [name, settings])),
  );
  ingest.addEnvironment({ [DELIVERIES_ENV.originalGateways]: gateways.join(',') });
  const secretHeaderGateways = gateways.filter((gateway) => GATEWAY_SECRET_HEADERS[gateway] !== undefined);
  if (secretHeaderGateways.length > 0)
    secrets.bindSecretHeaderReader(deliveries.deliverer, secretHeaderGateways);
  const queues = Stack.of(deliveries).toJsonString(
    Object.fromEntries(
      originals.map(({ name, settings, queue }) => [
        name,
        { queueUrl: queue.queueUrl, ...(settings.gateways && { gateways: settings.gateways }) },
      ]),
    ),
  );
  for (const consumer of consumers) {
    sendTo(
      consumer,
      originals.map(({ queue }) => queue),
    );
    consumer.addEnvironment({ [DELIVERIES_ENV.originalQueues]: queues });
  }
}

/**
 * The rule's target: the destination's queue, with its DLQ for what EventBridge cannot put there (after its own
 * retries, 24 hours by default). `targets.SqsQueue` would let events.amazonaws.com also `GetQueueAttributes` and
 * `GetQueueUrl`, which EventBridge does not call; here each queue's policy allows `SendMessage` alone, to
 * events.amazonaws.com, for this rule alone (aws:SourceArn), beside the TLS-only Deny every queue has.
 */
function queueTarget(queue: sqs.Queue, deadLetterQueue: sqs.Queue): events.IRuleTarget {
  return {
    bind: (rule) => {
      for (const target of [queue, deadLetterQueue]) {
        target.addToResourcePolicy(
          new iam.PolicyStatement({
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [target.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
          }),
        );
      }
      return { arn: queue.queueArn, deadLetterConfig: { arn: deadLetterQueue.queueArn } };
    },
  };
}

/**
 * The rule's pattern: payhook's events, of the destination's detail-types (every `payment.*` when it names none, a
 * prefix match, so a status added later is delivered too) and of its gateways, when it names any.
 */
export function eventPatternOf(settings: DestinationSettings): events.EventPattern {
  return {
    source: [PAYMENT_EVENT_SOURCE],
    detailType: settings.detailTypes ? [...settings.detailTypes] : events.Match.prefix('payment.'),
    ...(settings.gateways && { detail: { gateway: [...settings.gateways] } }),
  };
}

/**
 * Names that would deploy: queue names within SQS's 80 characters and unique (`shop`'s DLQ is
 * `<prefix>-deliveries-shop-dlq`, which a destination named `shop-dlq` would take too), and output keys unique
 * (CloudFormation drops the dashes: `my-shop` and `myshop` would both be `DeliveryQueueUrlmyshop`).
 */
function checkNames(names: readonly string[], prefix: string): void {
  const queues = new Set<string>();
  const keys = new Map<string, string>();
  for (const name of names) {
    for (const kind of ['main', 'deadLetter'] as const) {
      const queueName = deliveryQueueName(name, kind, prefix);
      if (queueName.length > MAX_QUEUE_NAME) {
        throw new Error(
          `destination "${name}": its queue name ${queueName} is over SQS's ${MAX_QUEUE_NAME} characters; use a shorter name`,
        );
      }
      if (queues.has(queueName)) {
        throw new Error(`destination "${name}": the queue name ${queueName} is another destination's`);
      }
      queues.add(queueName);
    }
    const key = deliveryOutputKeys(name).queueUrl;
    const other = keys.get(key);
    if (other !== undefined) {
      throw new Error(
        `destinations "${other}" and "${name}" differ only by dashes: their stack outputs would be the same`,
      );
    }
    keys.set(key, name);
  }
}

/**
 * Refuses, at synth, a set of destinations whose environment would exceed Lambda's 4 KB: the deploy would fail late.
 * Queue URLs and secret ARNs are measured at their longest likely length (the longest region name, the suffix Secrets
 * Manager appends); roughly 8 destinations fit, fewer with long URLs.
 */
function checkEnvironmentSize(destinations: readonly DeliveryDestination[], prefix: string): void {
  const { region, account } = REGION_AND_ACCOUNT;
  const queueUrl = (name: string, kind: 'main' | 'deadLetter') =>
    `https://sqs.${region}.amazonaws.com/${account}/${deliveryQueueName(name, kind, prefix)}`;
  const settings = JSON.stringify(Object.fromEntries(destinations.map((d) => [d.name, d.settings])));
  const locations = JSON.stringify(
    Object.fromEntries(
      destinations.map(({ name }) => [
        name,
        {
          queueUrl: queueUrl(name, 'main'),
          deadLetterQueueUrl: queueUrl(name, 'deadLetter'),
          secretId: `arn:aws:secretsmanager:${region}:${account}:secret:${destinationSecretName(name, prefix)}-AbCdEf`,
        },
      ]),
    ),
  );
  const bytes =
    DELIVERIES_ENV.destinations.length +
    settings.length +
    DELIVERIES_ENV.targets.length +
    locations.length +
    OTHER_VARIABLES_BYTES;
  if (bytes > LAMBDA_ENVIRONMENT_BYTES) {
    throw new Error(
      `${destinations.length} destinations need about ${bytes} bytes of the delivery function's environment, over ` +
        `Lambda's ${LAMBDA_ENVIRONMENT_BYTES}: configure fewer destinations (or shorter URLs and names)`,
    );
  }
}
