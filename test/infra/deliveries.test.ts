import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_BATCH_SIZE,
  DELIVERY_MAX_RECEIVE_COUNT,
  DELIVERY_TIMEOUT_SECONDS,
  deliveryOutputKeys,
} from '../../lambdas/definitions.js';
import { parseDestinationsJson } from '../../lambdas/delivery/destinations.js';
import { InvalidConfigError, type PayhookConfig, parsePayhookConfig } from '../../lib/config.js';
import { PayhookStack } from '../../lib/payhook-stack.js';
import { actionsOf, synthesise } from './support.js';

// Issue #18, point 4: payment events delivered to the merchant's endpoints, one queue, rule and secret per
// destination, one delivery function.

const DELIVERER = 'payhook: delivers payment events to the merchant endpoints';

const config: PayhookConfig = parsePayhookConfig({
  destinations: {
    shop: { url: 'https://shop.example.com/payhook' },
    'ledger-eu': {
      url: 'https://ledger.example.com/in',
      detailTypes: ['payment.succeeded', 'payment.refunded'],
      gateways: ['stripe', 'adyen'],
      maxConcurrency: 5,
      timeoutSeconds: 20,
    },
  },
});
const { stack, template } = synthesise(config);
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;

/** The logical id of the one resource of `type` whose properties `matches`. */
function logicalId(type: string, matches: (properties: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(
    ([, resource]) => resource.Type === type && matches(resource.Properties),
  );
  const [first, ...others] = found;
  if (!first || others.length > 0) throw new Error(`expected one ${type}, found ${found.length}`);
  return first[0];
}

const queue = (name: string) => logicalId('AWS::SQS::Queue', (p) => p.QueueName === `shop-prod-${name}`);
const secret = (name: string) =>
  logicalId('AWS::SecretsManager::Secret', (p) => p.Name === `shop-prod/destinations/${name}`);
const rule = (name: string) =>
  logicalId(
    'AWS::Events::Rule',
    (p) => p.Description === `payhook: payment events for the ${name} destination`,
  );
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

function delivererFunction(): { id: string; properties: Record<string, unknown> } {
  const id = logicalId('AWS::Lambda::Function', (p) => p.Description === DELIVERER);
  return { id, properties: resources[id]?.Properties ?? {} };
}

function delivererRole(): string {
  const role = (delivererFunction().properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return role;
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

/** The deliverer's statements, each action with its resources (and condition), sorted: what it may do, exactly. */
function delivererGrants(): Array<[string, unknown, unknown]> {
  const role = delivererRole();
  const statements = Object.values(resources)
    .filter(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        (resource.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return statements
    .flatMap((statement) =>
      [statement.Action]
        .flat()
        .flatMap((action) =>
          [statement.Resource]
            .flat()
            .map((resource) => [action, resource, statement.Condition] as [string, unknown, unknown]),
        ),
    )
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('Construct: Deliveries, per destination', () => {
  it.each(['shop', 'ledger-eu'])(
    '%s: a 14-day SSE queue redriven at SQS’s maximum to its 14-day DLQ, visibility 6x the function timeout',
    (name) => {
      const dlq = queue(`deliveries-${name}-dlq`);
      expect(resources[dlq]?.Properties).toEqual({
        QueueName: `shop-prod-deliveries-${name}-dlq`,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
      expect(resources[queue(`deliveries-${name}`)]?.Properties).toEqual({
        QueueName: `shop-prod-deliveries-${name}`,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * DELIVERY_TIMEOUT_SECONDS,
        // The function dead-letters by itself, with the reason; this is only the safety net for a crashing function.
        RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT },
      });
      expect(DELIVERY_MAX_RECEIVE_COUNT).toBe(1000);
    },
  );

  it('matches every payment.* event (a prefix) for a destination that names no filter', () => {
    expect(resources[rule('shop')]?.Properties.EventPattern).toEqual({
      source: ['payhook'],
      'detail-type': [{ prefix: 'payment.' }],
    });
  });

  it('matches only its detail-types and gateways for a destination that names them', () => {
    expect(resources[rule('ledger-eu')]?.Properties.EventPattern).toEqual({
      source: ['payhook'],
      'detail-type': ['payment.succeeded', 'payment.refunded'],
      detail: { gateway: ['stripe', 'adyen'] },
    });
  });

  it.each(['shop', 'ledger-eu'])(
    '%s: the rule, on payhook’s bus, targets the queue with the DLQ as its dead-letter queue',
    (name) => {
      const properties = resources[rule(name)]?.Properties;
      expect(JSON.stringify(properties?.EventBusName)).toMatch(/^\{"Ref":"PaymentEventsBus[0-9A-F]+"\}$/);
      expect(properties?.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: arnOf(queue(`deliveries-${name}`)),
          DeadLetterConfig: { Arn: arnOf(queue(`deliveries-${name}-dlq`)) },
        },
      ]);
    },
  );

  it.each(['shop', 'ledger-eu'])(
    '%s: each queue refuses plain HTTP and lets EventBridge send for this rule alone, SendMessage only',
    (name) => {
      for (const queueName of [`deliveries-${name}`, `deliveries-${name}-dlq`]) {
        const id = queue(queueName);
        const policies = Object.values(resources).filter(
          (resource) =>
            resource.Type === 'AWS::SQS::QueuePolicy' &&
            JSON.stringify(resource.Properties.Queues) === JSON.stringify([{ Ref: id }]),
        );
        expect(policies).toHaveLength(1);
        expect(
          (policies[0]?.Properties.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement,
        ).toEqual([
          {
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: arnOf(id),
          },
          {
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': arnOf(rule(name)) } },
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: arnOf(id),
          },
        ]);
      }
    },
  );

  it.each(['shop', 'ledger-eu'])(
    '%s: a signing secret generated at deploy as {"secret": <32 base64 digits>}, a 24-byte key',
    (name) => {
      const properties = resources[secret(name)]?.Properties;
      expect(properties?.GenerateSecretString).toEqual({
        SecretStringTemplate: '{}',
        GenerateStringKey: 'secret',
        ExcludePunctuation: true,
        PasswordLength: 32,
      });
      expect(properties?.SecretString).toBeUndefined();
      expect(properties?.Description).toMatch(new RegExp(`the ${name} destination`));
      // 32 characters of [A-Za-z0-9] are base64 digits: they decode to 24 bytes, inside Standard Webhooks' 24-64.
      expect(Buffer.from('A'.repeat(32), 'base64')).toHaveLength(24);
    },
  );
});

describe('Construct: Deliveries, the delivery function', () => {
  it('is one function, on a 60 s timeout, with an event source per destination queue at its concurrency', () => {
    const { id, properties } = delivererFunction();
    expect(properties.Timeout).toBe(DELIVERY_TIMEOUT_SECONDS);
    expect(properties.Runtime).toBe('nodejs24.x');
    const mappings = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping')
      .filter((resource) => JSON.stringify(resource.Properties.FunctionName) === JSON.stringify({ Ref: id }))
      .map((resource) => resource.Properties);
    expect(mappings).toEqual(
      expect.arrayContaining(
        [
          ['shop', 2],
          ['ledger-eu', 5],
        ].map(([name, concurrency]) => ({
          EventSourceArn: arnOf(queue(`deliveries-${name}`)),
          FunctionName: { Ref: id },
          BatchSize: DELIVERY_BATCH_SIZE,
          MaximumBatchingWindowInSeconds: 0,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: concurrency },
        })),
      ),
    );
    expect(mappings).toHaveLength(2);
  });

  it('is told the destinations’ settings as the function parses them, and where each one’s queues and secret are', () => {
    const variables = (delivererFunction().properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const destinations = variables.PAYHOOK_DESTINATIONS as string;
    // Exactly what the function will parse at cold start, https only.
    expect(parseDestinationsJson(destinations, 'PAYHOOK_DESTINATIONS', { allowHttp: false })).toEqual(
      config.destinations,
    );
    expect(JSON.parse(destinations)['ledger-eu']).toMatchObject({ maxConcurrency: 5, timeoutSeconds: 20 });
    expect(JSON.stringify(variables.PAYHOOK_PAYMENTS_TABLE)).toMatch(
      /^\{"Ref":"PaymentStorePayments[0-9A-F]+"\}$/,
    );
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe('payhook-deliver');
    expect(variables.PAYHOOK_DELIVERY_TARGETS).toEqual({
      'Fn::Join': [
        '',
        [
          '{"shop":{"queueUrl":"',
          { Ref: queue('deliveries-shop') },
          '","deadLetterQueueUrl":"',
          { Ref: queue('deliveries-shop-dlq') },
          '","secretId":"',
          { Ref: secret('shop') },
          '"},"ledger-eu":{"queueUrl":"',
          { Ref: queue('deliveries-ledger-eu') },
          '","deadLetterQueueUrl":"',
          { Ref: queue('deliveries-ledger-eu-dlq') },
          '","secretId":"',
          { Ref: secret('ledger-eu') },
          '"}}',
        ],
      ],
    });
  });

  it('may do exactly what it does, each action on its own resources', () => {
    const table = logicalId('AWS::DynamoDB::GlobalTable', (p) =>
      (p.KeySchema as { AttributeName: string }[]).some((key) => key.AttributeName === 'pk'),
    );
    const stopStates = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DESTINATION#*'] } };
    const queueActions = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ];
    const expected: Array<[string, unknown, unknown]> = [
      ['dynamodb:GetItem', arnOf(table), stopStates],
      ['dynamodb:PutItem', arnOf(table), stopStates],
      ...['shop', 'ledger-eu'].flatMap(
        (name): Array<[string, unknown, unknown]> => [
          ...queueActions.map((action): [string, unknown, unknown] => [
            action,
            arnOf(queue(`deliveries-${name}`)),
            undefined,
          ]),
          // Its own queue: a stopped destination's events go back as delayed copies with fresh receives.
          ['sqs:SendMessage', arnOf(queue(`deliveries-${name}`)), undefined],
          ['sqs:SendMessage', arnOf(queue(`deliveries-${name}-dlq`)), undefined],
          ['secretsmanager:GetSecretValue', { Ref: secret(name) }, undefined],
        ],
      ),
    ];
    const grants = delivererGrants().filter(([action]) => !action.startsWith('logs:'));
    expect(grants).toEqual(expected.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
    expect(actionsOf(template, delivererRole())).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
  });

  it('outputs each destination’s queue, DLQ and secret under the keys the CLI reads', () => {
    for (const name of ['shop', 'ledger-eu']) {
      const keys = deliveryOutputKeys(name);
      template.hasOutput(keys.queueUrl, { Value: { Ref: queue(`deliveries-${name}`) } });
      template.hasOutput(keys.deadLetterQueueUrl, { Value: { Ref: queue(`deliveries-${name}-dlq`) } });
      template.hasOutput(keys.secretArn, { Value: { Ref: secret(name) } });
    }
    expect(deliveryOutputKeys('ledger-eu')).toEqual({
      queueUrl: 'DeliveryQueueUrlledgereu',
      deadLetterQueueUrl: 'DeliveryDlqUrlledgereu',
      secretArn: 'DeliverySecretArnledgereu',
    });
  });
});

type AlarmProperties = Record<string, unknown> & {
  AlarmDescription: string;
  Metrics?: Array<{
    Id: string;
    Expression?: string;
    MetricStat?: {
      Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
      Stat: string;
      Period: number;
    };
  }>;
  Dimensions?: { Name: string; Value: unknown }[];
};

function alarms(from = resources): AlarmProperties[] {
  return Object.values(from)
    .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map((resource) => resource.Properties as AlarmProperties);
}

describe('Monitoring: deliveries', () => {
  it.each(['shop', 'ledger-eu'])('%s: any message in its DLQ', (name) => {
    const dlq = alarms().filter(
      (alarm) =>
        alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        JSON.stringify(alarm.Dimensions).includes(queue(`deliveries-${name}-dlq`)),
    );
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Period: 60 });
  });

  it.each(['shop', 'ledger-eu'])(
    '%s: stopped, on the attempts the function counts as stopped or held, one datapoint in 30 minutes',
    (name) => {
      const stopped = alarms().filter((alarm) =>
        (alarm.Metrics ?? []).some(
          (query) =>
            query.MetricStat?.Metric.MetricName === 'DeliveryAttempts' &&
            query.MetricStat.Metric.Dimensions.some((d) => d.Name === 'destination' && d.Value === name),
        ),
      );
      expect(stopped).toHaveLength(1);
      const [alarm] = stopped;
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 6,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
      const reads = (alarm?.Metrics ?? []).flatMap((query) => (query.MetricStat ? [query.MetricStat] : []));
      expect(
        reads.map((stat) => [
          stat.Stat,
          stat.Period,
          Object.fromEntries(stat.Metric.Dimensions.map((d) => [d.Name, d.Value])),
        ]),
      ).toEqual(
        ['stopped', 'held'].map((outcome) => [
          'Sum',
          300,
          { service: 'payhook-deliver', destination: name, outcome },
        ]),
      );
      expect(alarm?.AlarmDescription).toContain('410 Gone');
    },
  );

  it.each(['shop', 'ledger-eu'])(
    '%s: circuit breaker open, on the events the function holds as paused',
    (name) => {
      const open = alarms().filter(
        (alarm) =>
          alarm.MetricName === 'DeliveryAttempts' &&
          (alarm.Dimensions ?? []).some((d) => d.Name === 'destination' && d.Value === name),
      );
      expect(open).toHaveLength(1);
      expect(Object.fromEntries((open[0]?.Dimensions ?? []).map((d) => [d.Name, d.Value]))).toEqual({
        service: 'payhook-deliver',
        destination: name,
        outcome: 'paused',
      });
      expect(open[0]).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 6,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(open[0]?.AlarmDescription).toContain('circuit breaker is open');
    },
  );

  it('alarms on each destination’s oldest undelivered event, 3600 s by default or as configured', () => {
    const oldest = (from: typeof resources) =>
      alarms(from)
        .filter((alarm) => alarm.MetricName === 'ApproximateAgeOfOldestMessage')
        .filter((alarm) => JSON.stringify(alarm.Dimensions).includes('Deliveries'))
        .map((alarm) => alarm.Threshold);
    expect(oldest(resources)).toEqual([3600, 3600]);
    const configured = synthesise({ ...config, deliveryOldestAgeSeconds: 600 }).template.toJSON().Resources;
    expect(oldest(configured)).toEqual([600, 600]);
  });

  it('alarms on the delivery function’s errors and throttles, like every function’s', () => {
    const { id } = delivererFunction();
    const named = (metric: string) =>
      alarms().filter(
        (alarm) => alarm.MetricName === metric && JSON.stringify(alarm.Dimensions).includes(id),
      );
    expect(named('Errors')).toHaveLength(1);
    expect(named('Throttles')).toHaveLength(1);
  });

  it('adds a dashboard row per destination: attempts by outcome, latency p95, oldest event, DLQ depth', () => {
    const dashboard = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const name of ['shop', 'ledger-eu']) {
      for (const title of [
        'attempts by outcome',
        'latency p95 (ms)',
        'oldest event (s)',
        'dead-letter queue',
      ]) {
        expect(dashboard).toContain(`Deliveries to ${name}: ${title}`);
      }
    }
  });
});

describe('Stack: deliveries', () => {
  it('builds no delivery function, queue, rule or secret without destinations', () => {
    const plain = synthesise().template.toJSON().Resources as typeof resources;
    const types = Object.values(plain).map((resource) => resource.Type);
    expect(types).not.toContain('AWS::Events::Rule');
    const descriptions = Object.values(plain).map((resource) => resource.Properties?.Description);
    expect(descriptions).not.toContain(DELIVERER);
    expect(
      Object.values(plain).filter((resource) =>
        String(resource.Properties?.QueueName).includes('deliveries'),
      ),
    ).toEqual([]);
    expect(
      Object.values(plain).filter((resource) => String(resource.Properties?.Name).includes('/destinations/')),
    ).toEqual([]);
  });

  it('passes the AWS Solutions checks, acknowledging only the signing secrets’ rotation, with its reason', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.resourceLogicalId}`),
    );
    expect(findings).toEqual([]);
    const deliveries = stack.deliveries;
    expect(deliveries).toBeDefined();
    const acknowledged = (deliveries?.node.findAll() ?? [])
      .flatMap((construct) =>
        construct.node.metadata.filter((entry) => entry.type === 'aws:cdk:acknowledged-rules'),
      )
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect([...new Set(acknowledged.map(([id]) => id.replace(/^[A-Za-z]+::/, '')))]).toEqual([
      'AwsSolutions-SMG4',
    ]);
    for (const [, reason] of acknowledged) expect(reason).toMatch(/rotat/);
  });

  it.each([
    ['http', { shop: { url: 'http://shop.example.com/' } }, 'payhook.destinations.shop.url must be https'],
    [
      'a bad name',
      { Shop: { url: 'https://shop.example.com/' } },
      'payhook.destinations: destination name "Shop"',
    ],
    ['a filter typo', { shop: { url: 'https://a.example/', detailTypes: ['payment.paid'] } }, 'detailTypes'],
    ['not an object', 'shop', 'payhook.destinations must be an object'],
  ])('refuses %s at synth, with the message the function would give', (_name, destinations, message) => {
    expect(() => parsePayhookConfig({ destinations })).toThrow(InvalidConfigError);
    expect(() => parsePayhookConfig({ destinations })).toThrow(message);
  });

  it('refuses names whose queues or stack outputs would be the same, or too long', () => {
    const build =
      (destinations: Record<string, unknown>, id = 'shop-prod') =>
      () =>
        new PayhookStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id, {
          config: { destinations: parsePayhookConfig({ destinations }).destinations },
        });
    const url = { url: 'https://shop.example.com/' };
    expect(build({ shop: url, 'shop-dlq': url })).toThrow(/queue name shop-prod-deliveries-shop-dlq/);
    expect(build({ 'my-shop': url, myshop: url })).toThrow(/differ only by dashes/);
    expect(build({ [`a${'b'.repeat(31)}`]: url }, 'x'.repeat(40))).toThrow(/over SQS's 80 characters/);
  });

  it('refuses more destinations than the function’s 4 KB environment holds', () => {
    const many = Object.fromEntries(
      Array.from({ length: 12 }, (_, index) => [
        `merchant-${index}`,
        { url: `https://m${index}.example.com/hook` },
      ]),
    );
    expect(() => synthesise(parsePayhookConfig({ destinations: many }))).toThrow(/over Lambda's 4096/);
  });
});

describe('Stack: an original destination (#19 point 1)', () => {
  const withOriginal = synthesise(
    parsePayhookConfig({
      destinations: {
        shop: { url: 'https://shop.example.com/payhook' },
        legacy: {
          url: 'https://legacy.example.com/webhooks',
          format: 'original',
          gateways: ['stripe', 'paystack'],
        },
      },
    }),
  );
  const all = withOriginal.template.toJSON().Resources as typeof resources;
  const idOf = (type: string, matches: (properties: Record<string, unknown>) => boolean) => {
    const found = Object.entries(all).filter(([, r]) => r.Type === type && matches(r.Properties ?? {}));
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0]?.[0] ?? '';
  };
  const propsOf = (id: string): Record<string, unknown> => all[id]?.Properties ?? {};
  const roleOf = (id: string) => (propsOf(id).Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const fn = (description: string) => idOf('AWS::Lambda::Function', (p) => p.Description === description);
  const env = (id: string) =>
    ((propsOf(id).Environment as { Variables: Record<string, unknown> }).Variables ?? {}) as Record<
      string,
      unknown
    >;
  const legacyQueue = idOf('AWS::SQS::Queue', (p) => p.QueueName === 'shop-prod-deliveries-legacy');
  const sendStatements = (functionId: string) => {
    const role = roleOf(functionId);
    return Object.values(all)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'));
  };
  const consumers = ['high', 'normal', 'low'].map((priority) =>
    fn(`payhook: applies ${priority}-priority gateway events to payments`),
  );

  it('has a queue and DLQ, and no rule or signing secret: the consumers feed it and the gateway signed it', () => {
    expect(
      Object.values(all).filter(
        (r) => r.Type === 'AWS::Events::Rule' && String(r.Properties.Description).includes('legacy'),
      ),
    ).toEqual([]);
    expect(
      Object.values(all).filter((r) => String(r.Properties?.Name).endsWith('/destinations/legacy')),
    ).toEqual([]);
    expect(idOf('AWS::SQS::Queue', (p) => p.QueueName === 'shop-prod-deliveries-legacy-dlq')).toBeTruthy();
    const outputs = Object.keys(withOriginal.template.toJSON().Outputs as Record<string, unknown>);
    expect(outputs).toContain(deliveryOutputKeys('legacy').queueUrl);
    expect(outputs).not.toContain(deliveryOutputKeys('legacy').secretArn);
    expect(outputs).toContain(deliveryOutputKeys('shop').secretArn);
  });

  it('tells ingest which gateways to carry originals for, and each consumer where to send them', () => {
    expect(
      env(fn('payhook: verifies, normalises and queues gateway webhooks')).PAYHOOK_ORIGINAL_GATEWAYS,
    ).toBe('paystack,stripe');
    for (const consumer of consumers) {
      const queues = JSON.stringify(env(consumer).PAYHOOK_ORIGINAL_QUEUES);
      expect(queues).toContain(legacyQueue);
      expect(queues).toContain('\\"gateways\\":[\\"stripe\\",\\"paystack\\"]');
      expect(queues).not.toContain('deliveries-shop');
    }
  });

  it('lets each consumer send to the original queue, and nothing else new; the delivery function reads only the other secret', () => {
    for (const consumer of consumers) {
      const resources = sendStatements(consumer).flatMap((statement) => [statement.Resource].flat());
      expect(resources).toContainEqual({ 'Fn::GetAtt': [legacyQueue, 'Arn'] });
      expect(JSON.stringify(resources)).not.toContain('deliveriesshop');
    }
    const deliverer = fn(DELIVERER);
    const role = roleOf(deliverer);
    const secretStatements = Object.values(all)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secretStatements.flatMap((statement) => [statement.Resource].flat())).toEqual([
      { Ref: idOf('AWS::SecretsManager::Secret', (p) => p.Name === 'shop-prod/destinations/shop') },
    ]);
  });

  it('lets the delivery function read the Flutterwave gateway secret only when an original destination wants Flutterwave', () => {
    const flutterwave = synthesise(
      parsePayhookConfig({
        destinations: {
          legacy: { url: 'https://legacy.example.com/hooks', format: 'original', gateways: ['flutterwave'] },
        },
      }),
    ).template.toJSON().Resources as typeof resources;
    const deliverer = Object.values(flutterwave).find((r) => r.Properties?.Description === DELIVERER);
    if (!deliverer) throw new Error('no delivery function');
    const role = (deliverer.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const reads = Object.values(flutterwave)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .flatMap((statement) => [statement.Resource].flat());
    const secret = Object.entries(flutterwave).find(
      ([, r]) =>
        r.Type === 'AWS::SecretsManager::Secret' && String(r.Properties.Name).endsWith('/flutterwave'),
    )?.[0];
    expect(secret).toBeDefined();
    expect(reads).toEqual([{ Ref: secret }]);
    const variables = (deliverer.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const secretIds = JSON.stringify(variables.PAYHOOK_GATEWAY_SECRET_IDS);
    expect(secretIds).toContain('flutterwave');
    expect(secretIds).toContain(String(secret));
    expect(secretIds).not.toMatch(/stripe|paystack/);
    // Stripe and Paystack send no secret in a header: no gateway secret for the delivery function there.
    expect(env(fn(DELIVERER)).PAYHOOK_GATEWAY_SECRET_IDS).toBeUndefined();
  });

  it('updates ingest after the consumers, so no consumer of the previous release meets a version 4 message', () => {
    const ingest = all[fn('payhook: verifies, normalises and queues gateway webhooks')] as {
      DependsOn?: string[];
    };
    for (const consumer of consumers) expect(ingest.DependsOn ?? []).toContain(consumer);
    // Without an original destination ingest writes version 3 and waits for nothing.
    const plain = template.toJSON().Resources as Record<
      string,
      { DependsOn?: string[]; Properties: Record<string, unknown> }
    >;
    const plainIngest = Object.values(plain).find(
      (r) => r.Properties?.Description === 'payhook: verifies, normalises and queues gateway webhooks',
    );
    expect(JSON.stringify(plainIngest?.DependsOn ?? [])).not.toContain('consumer');
  });

  it('passes the AWS Solutions checks', () => {
    const report = new AwsSolutionsChecks(withOriginal.stack).validateScope(withOriginal.stack);
    expect(report.violations).toEqual([]);
  });
});
