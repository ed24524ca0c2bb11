import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  PRIORITIES,
  PRIORITY_QUEUES,
  queueName,
  RECONCILER_QUEUE_PRIORITIES,
  REJECTS_TABLE,
  REJECTS_TABLE_ENV,
} from '../../lambdas/definitions.js';
import { GATEWAYS, type GatewayName } from '../../lambdas/domain/webhook-event.js';
import { apiCredentialsOf } from '../../lambdas/reconciliation/credentials.js';
import { VERIFIERS } from '../../lambdas/reconciliation/verifiers/index.js';
import { VerifyUnsupportedError } from '../../lambdas/reconciliation/verify.js';
import { InvalidConfigError, type PayhookConfig, parsePayhookConfig } from '../../lib/config.js';
import { SECRET_DESCRIPTION_MAX_CHARS, secretDescription } from '../../lib/gateway-secrets.js';
import { PayhookStack } from '../../lib/payhook-stack.js';
import { actionsOf, synthesise } from './support.js';

const { stack, template } = synthesise();

const INGEST = 'payhook: verifies, normalises and queues gateway webhooks';
const consumerDescription = (priority: string) =>
  `payhook: applies ${priority}-priority gateway events to payments`;

/** The logical id of the refused-requests table. */
function rejectsTable(): string {
  const [id, ...others] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).filter(
    (logicalId) => logicalId.startsWith('RefusedRequests'),
  );
  if (!id || others.length > 0) throw new Error('expected exactly one refused-requests table');
  return id;
}

function roleOf(functionDescription: string): string {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (resource) => resource.Properties.Description === functionDescription,
  );
  const role = fn?.Properties.Role?.['Fn::GetAtt']?.[0] as string | undefined;
  if (!role) throw new Error(`no function described "${functionDescription}"`);
  return role;
}

/** The statements of a role's policies that allow an action `matches`. */
function statementsOf(role: string, matches: (action: string) => boolean) {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
    .filter((statement) => [statement.Action].flat().some(matches));
}

/** The logical id of the queue named `shop-prod-<name>`. */
function queueLogicalId(name: string): string {
  const [id, ...others] = Object.entries(template.findResources('AWS::SQS::Queue'))
    .filter(([, queue]) => queue.Properties.QueueName === `shop-prod-${name}`)
    .map(([logicalId]) => logicalId);
  if (!id || others.length > 0) throw new Error(`expected exactly one queue named ${name}`);
  return id;
}

/** The logical id of each created gateway secret, by gateway. */
function secretLogicalIds(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::SecretsManager::Secret')).map(([logicalId, secret]) => [
      (secret.Properties.Name as string).replace(/^shop-prod\//, ''),
      logicalId,
    ]),
  );
}

describe('Construct: PriorityPipeline', () => {
  it.each(PRIORITIES)(
    '%s: queue and DLQ from the shared definitions, encrypted, redriven at maxReceiveCount',
    (priority) => {
      const definition = PRIORITY_QUEUES[priority];
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `shop-prod-${definition.deadLetterQueueName}`,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `shop-prod-${definition.queueName}`,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: definition.visibilityTimeoutSeconds,
        RedrivePolicy: { maxReceiveCount: definition.maxReceiveCount, deadLetterTargetArn: Match.anyValue() },
      });
    },
  );

  it.each(PRIORITIES)(
    '%s: the event source batches as defined and reports batch item failures',
    (priority) => {
      const definition = PRIORITY_QUEUES[priority];
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: definition.batchSize,
        ...(definition.maxBatchingWindowSeconds > 0 && {
          MaximumBatchingWindowInSeconds: definition.maxBatchingWindowSeconds,
        }),
        ScalingConfig: { MaximumConcurrency: definition.maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: consumerDescription(priority),
        Timeout: definition.consumerTimeoutSeconds,
      });
    },
  );

  it('refuses plain-HTTP access to every queue', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(PRIORITIES.length * 2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  it.each(PRIORITIES)('%s consumer: exactly the permissions it uses', (priority) => {
    // Receive, delete and GetQueueAttributes are the event source mapping's (its poller's), ChangeMessageVisibility the
    // back-off's, on the drained queue alone; no GetQueueUrl, which nothing calls.
    expect(actionsOf(template, roleOf(consumerDescription(priority)))).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    // Sending only to its own queue (a requeue with fresh receives) and its own DLQ, and only SendMessage there.
    const own = queueLogicalId(PRIORITY_QUEUES[priority].queueName);
    const dlq = queueLogicalId(`${PRIORITY_QUEUES[priority].deadLetterQueueName}`);
    expect(
      statementsOf(roleOf(consumerDescription(priority)), (action) => action.startsWith('sqs:Send')),
    ).toEqual([
      {
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: [{ 'Fn::GetAtt': [own, 'Arn'] }, { 'Fn::GetAtt': [dlq, 'Arn'] }],
      },
    ]);
  });
});

describe('Construct: PriorityPipeline confirmations', () => {
  it('gives consumers no gateway secret: claims are confirmed by the reconciler, out of line', () => {
    const consumerStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes('consumer'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown }[]);
    expect(consumerStatements.length).toBeGreaterThan(0);
    const actions = consumerStatements.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => String(action).startsWith('secretsmanager:'))).toEqual([]);
  });
});

describe('Construct: WebhookApi', () => {
  it('routes POST /webhooks/<gateway> for every enabled gateway, and nothing else', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey as string,
    );
    expect(routes.sort()).toEqual(
      [...GATEWAYS.map((gateway) => `POST /webhooks/${gateway}`), 'POST /payments'].sort(),
    );
  });

  it('throttles the stage and each gateway route, and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      RouteSettings: Object.fromEntries(
        GATEWAYS.map((gateway) => [
          `POST /webhooks/${gateway}`,
          { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        ]),
      ),
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('lets one gateway have its own throttle', () => {
    const custom = synthesise({
      gatewayThrottleOverrides: { stripe: { rateLimit: 1000, burstLimit: 2000 } },
    }).template;
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({
        'POST /webhooks/stripe': { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
        'POST /webhooks/paystack': { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      }),
    });
  });

  it('gives ingest exactly: send to the three queues and the low DLQ, read its secrets, record refusals, write its logs', () => {
    const role = roleOf(INGEST);
    expect(actionsOf(template, role)).toEqual([
      'dynamodb:PutItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
    ]);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        (policy.Properties.Roles as { Ref: string }[]).some((candidate) => candidate.Ref === role),
      )
      .flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
      );
    const sendTargets = statements
      .filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'))
      .flatMap((statement) => [statement.Resource].flat());
    expect(sendTargets).toEqual(
      [...PRIORITIES.map((priority) => queueName(priority)), queueName('low', 'deadLetter')].map((name) => ({
        'Fn::GetAtt': [queueLogicalId(name), 'Arn'],
      })),
    );
    const secretTargets = statements
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .flatMap((statement) => [statement.Resource].flat());
    const secrets = secretLogicalIds();
    expect(secretTargets).toEqual(GATEWAYS.map((gateway) => ({ Ref: secrets[gateway] })));
    // PutItem on the refused-requests table itself: no other table, no index.
    const putTargets = statements
      .filter((statement) => [statement.Action].flat().includes('dynamodb:PutItem'))
      .flatMap((statement) => [statement.Resource].flat());
    expect(putTargets).toEqual([{ 'Fn::GetAtt': [rejectsTable(), 'Arn'] }]);
  });

  it('runs ingest inside the 5 s gateway deadline, configured with the enabled gateways and their secrets', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: INGEST,
      Timeout: 4,
      Environment: {
        Variables: Match.objectLike({
          PAYHOOK_GATEWAY_SETTINGS: JSON.stringify({ enabled: GATEWAYS }),
          PAYHOOK_ACCEPT_TEST_MODE: 'true',
          PAYHOOK_GATEWAY_SECRET_IDS: Match.anyValue(),
        }),
      },
    });
  });
});

describe('Construct: Reconciliation', () => {
  it('runs the reconciler every 5 minutes without retries, and registers payments behind IAM auth', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /payments',
      AuthorizationType: 'AWS_IAM',
    });
    for (const gateway of GATEWAYS) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `POST /webhooks/${gateway}`,
        AuthorizationType: 'NONE',
      });
    }
  });

  it('ends each run a minute before the next is due: the timeout follows the interval, at most 240 s', () => {
    const timeoutAt = (config: PayhookConfig) =>
      Object.values(synthesise(config).template.findResources('AWS::Lambda::Function')).find(
        (fn) => fn.Properties.Description === 'payhook: asks the gateways about payments still pending',
      )?.Properties.Timeout;
    expect(timeoutAt({})).toBe(240);
    expect(timeoutAt({ reconcileIntervalMinutes: 3 })).toBe(120);
    expect(timeoutAt({ reconcileIntervalMinutes: 2 })).toBe(60);
    expect(timeoutAt({ reconcileIntervalMinutes: 30 })).toBe(240);
  });

  it('works off claims awaiting confirmation every minute, with the confirmations-only input the handler reads', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({
        Input: JSON.stringify({ scope: 'confirmations' }),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
      }),
    });
    expect(Object.keys(template.findResources('AWS::Scheduler::Schedule'))).toHaveLength(2);
  });

  it('has no confirmations schedule without a gateway that sends unverified claims (Flutterwave)', () => {
    const schedules = (gateways: GatewayName[]) =>
      Object.values(synthesise({ gateways }).template.findResources('AWS::Scheduler::Schedule')).map(
        (schedule) => schedule.Properties.Target.Input ?? 'full run',
      );
    expect(schedules(['paystack', 'stripe'])).toEqual(['full run']);
    expect(schedules(['paystack', 'flutterwave'])).toEqual([
      'full run',
      JSON.stringify({ scope: 'confirmations' }),
    ]);
  });

  it('gives the reconciler exactly: query the pending index, its own progress items, send to the queues, read the secrets, write its logs', () => {
    const role = roleOf('payhook: asks the gateways about payments still pending');
    expect(actionsOf(template, role)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
    ]);
    // The secrets of the gateways it can ask (a verify API) and no other, and the three queues, nothing else.
    const secrets = secretLogicalIds();
    expect(statementsOf(role, (action) => action.startsWith('secretsmanager:'))).toEqual([
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: Object.keys(VERIFIERS).map((gateway) => ({ Ref: secrets[gateway] })),
      },
    ]);
    expect(Object.keys(VERIFIERS).sort()).toEqual([
      'flutterwave',
      'oxapay',
      'paystack',
      'razorpay',
      'stripe',
    ]);
    // Only the queues of the priorities it can queue at (no low-priority kind), and their URLs alone.
    expect(RECONCILER_QUEUE_PRIORITIES).toEqual(['high', 'normal']);
    expect(statementsOf(role, (action) => action.startsWith('sqs:'))).toEqual([
      {
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: RECONCILER_QUEUE_PRIORITIES.map((priority) => ({
          'Fn::GetAtt': [queueLogicalId(queueName(priority)), 'Arn'],
        })),
      },
    ]);
    // Told where those secrets are, and of no other gateway's.
    const reconciler = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Properties.Role['Fn::GetAtt'][0] === role,
    );
    const ids = JSON.stringify(reconciler?.Properties.Environment.Variables.PAYHOOK_GATEWAY_SECRET_IDS);
    for (const gateway of GATEWAYS)
      expect(ids.includes(secrets[gateway] as string), gateway).toBe(gateway in VERIFIERS);
    // Item reads and writes only on keys starting RECONCILER#: never a payment item.
    const itemStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        (policy.Properties.Roles as { Ref: string }[]).some((candidate) => candidate.Ref === role),
      )
      .flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Condition?: unknown }[],
      )
      .filter((statement) =>
        [statement.Action]
          .flat()
          .some((action) => action === 'dynamodb:GetItem' || action === 'dynamodb:PutItem'),
      );
    expect(itemStatements).toHaveLength(1);
    expect(itemStatements[0]).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RECONCILER#*'] } },
    });
  });

  it('gives registration exactly: get and put payments (no query), announce a mismatch, write its logs', () => {
    expect(actionsOf(template, roleOf('payhook: registers payments the checkout expects'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });
});

describe('Construct: PayhookFunction', () => {
  it('builds every function as arm64 Node.js 24 with its own log group and Powertools settings', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(6);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        // Lambda's start and report records (half a KB an invocation) are not sent; failures still are.
        LoggingConfig: { LogFormat: 'JSON', LogGroup: expect.anything(), SystemLogLevel: 'WARN' },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^payhook-/),
            POWERTOOLS_LOG_LEVEL: 'INFO',
            POWERTOOLS_METRICS_NAMESPACE: 'payhook/shop-prod',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
    }
    // Six function log groups and the API's access logs, all with retention.
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 7);
  });

  it('attaches no managed policies (AWSLambdaBasicExecutionRole would allow every log group)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('Construct: PaymentStore', () => {
  it('keeps the payments table with PITR, encryption, TTL and its three indexes, retained on delete', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
        GlobalSecondaryIndexes: Match.arrayWith([
          Match.objectLike({
            IndexName: 'pending-by-age',
            KeySchema: [
              { AttributeName: 'pendingGateway', KeyType: 'HASH' },
              { AttributeName: 'pendingSince', KeyType: 'RANGE' },
            ],
          }),
          Match.objectLike({ IndexName: 'by-reference', Projection: { ProjectionType: 'KEYS_ONLY' } }),
          Match.objectLike({
            IndexName: 'by-gateway-payment-id',
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
        ]),
      }),
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      }),
    });
  });

  it('binds each function to the items and indexes it uses by name: never the whole table, never `index/*`', () => {
    const [payments, ...others] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).filter(
      (logicalId) => logicalId.startsWith('PaymentStorePayments'),
    );
    if (!payments || others.length > 0) throw new Error('expected exactly one payments table');
    const table = { 'Fn::GetAtt': [payments, 'Arn'] };
    const index = (name: string) => ({ 'Fn::Join': ['', [table, `/index/${name}`]] });
    /** Each DynamoDB action the role is allowed on the payments table, with its resources and condition. */
    const paymentsAccess = (functionDescription: string) => {
      const role = roleOf(functionDescription);
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
        .flatMap(
          (policy) =>
            policy.Properties.PolicyDocument.Statement as {
              Action: string | string[];
              Resource: unknown;
              Condition?: unknown;
            }[],
        )
        .filter((statement) => JSON.stringify(statement.Resource).includes(payments))
        .map((statement) => ({
          actions: [statement.Action].flat(),
          resources: [statement.Resource].flat(),
          condition: statement.Condition,
        }));
    };
    for (const priority of PRIORITIES) {
      expect(paymentsAccess(consumerDescription(priority))).toEqual([
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [table], condition: undefined },
        // The events' idempotency records on their history items: in progress and completed by update, deleted
        // when an event fails (issue #20).
        { actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [table], condition: undefined },
      ]);
    }
    expect(paymentsAccess('payhook: asks the gateways about payments still pending')).toEqual([
      { actions: ['dynamodb:Query'], resources: [index('pending-by-age')], condition: undefined },
      {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RECONCILER#*'] } },
      },
    ]);
    // Registration reads and writes by key only: the lookup indexes serve the CLI, with its own credentials.
    expect(paymentsAccess('payhook: registers payments the checkout expects')).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [table], condition: undefined },
    ]);
    expect(paymentsAccess(INGEST)).toEqual([]);
  });

  it("lets the consumers only read the previous release's idempotency table, and nothing else touch it", () => {
    const [previous, ...others] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).filter(
      (logicalId) => logicalId.startsWith('PaymentStoreIdempotency'),
    );
    if (!previous || others.length > 0) throw new Error('expected exactly one idempotency table');
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((statement) => JSON.stringify(statement.Resource).includes(previous))
        .map((statement) => ({
          roles: (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref),
          actions: [statement.Action].flat(),
        })),
    );
    expect(statements.flatMap((statement) => statement.actions)).toEqual(
      PRIORITIES.map(() => 'dynamodb:GetItem'),
    );
    expect(statements.flatMap((statement) => statement.roles).sort()).toEqual(
      PRIORITIES.map((priority) => roleOf(consumerDescription(priority))).sort(),
    );
  });

  it('deletes the tables with the stack only when asked to', () => {
    const policies = (config: PayhookConfig) =>
      Object.entries(synthesise(config, 'test-env').template.findResources('AWS::DynamoDB::GlobalTable'))
        .filter(([logicalId]) => logicalId.startsWith('PaymentStore'))
        .map(([, table]) => table.DeletionPolicy);
    expect(policies({})).toEqual(['Retain', 'Retain']);
    expect(policies({ retainData: false })).toEqual(['Delete', 'Delete']);
  });
});

describe('Construct: RefusedRequests', () => {
  it('keeps refused requests by gateway, newest last, with TTL, PITR and encryption, deleted with the stack', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: REJECTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: REJECTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: REJECTS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: REJECTS_TABLE.sortKey, AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: REJECTS_TABLE.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      }),
    });
    expect(template.toJSON().Resources[rejectsTable()].Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('tells ingest the table, the TTL and the per-minute cap, defaults or configured', () => {
    const variables = (config: PayhookConfig) =>
      synthesise(config).template.hasResourceProperties('AWS::Lambda::Function', {
        Description: INGEST,
        Environment: {
          Variables: Match.objectLike({
            [REJECTS_TABLE_ENV.tableName]: { Ref: rejectsTable() },
            [REJECTS_TABLE_ENV.ttlDays]: String(config.rejectsTtlDays ?? REJECTS_TABLE.defaultTtlDays),
            [REJECTS_TABLE_ENV.perMinute]: String(config.rejectsPerMinute ?? REJECTS_TABLE.defaultPerMinute),
          }),
        },
      });
    variables({});
    variables({ rejectsTtlDays: 30, rejectsPerMinute: 10 });
  });

  it('gives no other function access to the table', () => {
    const table = rejectsTable();
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(table))
      .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref));
    expect(readers).toEqual([roleOf(INGEST)]);
  });

  it('refuses a TTL or cap that is not a positive whole number, even in a stack built without bin/app.ts', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new PayhookStack(app, 'ttl', { config: { rejectsTtlDays: 0 } })).toThrow(
      /payhook.rejectsTtlDays: expected a positive whole number, got 0/,
    );
    expect(() => new PayhookStack(app, 'cap', { config: { rejectsPerMinute: 1.5 } })).toThrow(
      /payhook.rejectsPerMinute: expected a positive whole number, got 1.5/,
    );
  });
});

describe('Construct: PaymentEvents and GatewaySecrets', () => {
  it('archives payment events for replay, 90 days by default', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 90,
      EventPattern: { source: ['payhook'] },
    });
  });

  it('creates one empty secret per enabled gateway in the documented shape, or imports one by name', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', GATEWAYS.length);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'shop-prod/paystack',
      SecretString: '{"secrets":[]}',
    });
    const imported = synthesise({
      gateways: ['stripe', 'adyen'],
      existingSecretNames: { stripe: 'team/stripe-webhook' },
    }).template;
    imported.resourceCountIs('AWS::SecretsManager::Secret', 1);
    imported.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'shop-prod/adyen' });
  });
});

describe('Construct: GatewaySecrets descriptions', () => {
  /**
   * The keys each gateway's verifier asks for, read from the code: the verifier is given the credentials the reconciler
   * reads from a secret as the stack creates it, and names what to add in its VerifyUnsupportedError.
   */
  async function keysAskedFor(gateway: GatewayName): Promise<string[]> {
    const verifier = VERIFIERS[gateway];
    if (!verifier) return [];
    const ids: Partial<Record<GatewayName, string>> = { stripe: 'pi_1', razorpay: 'pay_1', oxapay: '1' };
    const error = await verifier
      .verify(
        { gateway, reference: 'ref-1', gatewayPaymentId: ids[gateway] ?? '1' },
        apiCredentialsOf(gateway, { secrets: [] }),
        { baseUrl: 'http://127.0.0.1:9', attempts: 1, timeoutMs: 100 },
      )
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error, gateway).toBeInstanceOf(VerifyUnsupportedError);
    const keys = [...(error as Error).message.matchAll(/"(\w+)"/g)].map(([, key]) => key as string);
    expect(keys.length, gateway).toBeGreaterThan(0);
    return keys;
  }

  it.each(GATEWAYS)(
    '%s: the description names "secrets" and every key its credentials reader requires',
    async (gateway) => {
      const description = template.findResources('AWS::SecretsManager::Secret', {
        Properties: { Name: `shop-prod/${gateway}` },
      });
      const [secret] = Object.values(description);
      const text = secret?.Properties.Description as string;
      expect(text).toContain('"secrets": [');
      expect(text).toContain('current first');
      expect(text.length).toBeLessThanOrEqual(SECRET_DESCRIPTION_MAX_CHARS);
      expect(secret?.Properties.SecretString).toBe('{"secrets":[]}');
      const keys = await keysAskedFor(gateway);
      for (const key of keys) expect(text, `${gateway} ${key}`).toMatch(new RegExp(`"${key}"\\??: "`));
      if (keys.length === 0) expect(text).toMatch(/no API keys/);
    },
  );

  it("keeps every description within Secrets Manager's 2048 characters", () => {
    expect(SECRET_DESCRIPTION_MAX_CHARS).toBe(2048);
    for (const gateway of GATEWAYS) expect(secretDescription(gateway).length).toBeLessThanOrEqual(2048);
  });
});

describe('Construct: Monitoring', () => {
  it('alarms on any DLQ message, queue age, function errors and throttles, and API 5xx', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties,
    );
    const named = (metric: string) => alarms.filter((alarm) => alarm.MetricName === metric);
    expect(named('ApproximateNumberOfMessagesVisible').map((alarm) => alarm.Threshold)).toEqual([0, 0, 0]);
    expect(named('ApproximateAgeOfOldestMessage').map((alarm) => alarm.Threshold)).toEqual([300, 900, 3600]);
    expect(named('Errors')).toHaveLength(6);
    expect(named('Throttles')).toHaveLength(6);
    expect(named('5xx')).toHaveLength(1);
    // Plus payhook's own: one signature-failure alarm per gateway, high-queue delay, lost webhooks, and per gateway
    // silence and reconciler skips.
    expect(named('SignatureFailures')).toHaveLength(7);
    expect(alarms).toHaveLength(3 + 3 + 6 + 6 + 1 + 7 + 2 + 5);
    // Not one metric-math alarm: each is billed per metric it reads (issue #20).
    expect(alarms.filter((alarm) => alarm.Metrics !== undefined)).toEqual([]);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('alarms per gateway on signatures that fail, reading the one metric ingest writes for them', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties)
      .filter((alarm) => (alarm.AlarmDescription as string).includes('failing signature'));
    const gatewayOf = (alarm: { Dimensions: { Name: string; Value: string }[] }) =>
      alarm.Dimensions.find((d) => d.Name === 'gateway')?.Value;
    expect(alarms.map(gatewayOf).sort()).toEqual([...GATEWAYS].sort());
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        // Per deployment: a staging stack in the same account never feeds production's alarms.
        Namespace: 'payhook/shop-prod',
        MetricName: 'SignatureFailures',
        Statistic: 'Sum',
        Period: 300,
      });
      expect(alarm.Metrics).toBeUndefined();
      // Exactly the dimensions ingest writes it with: the function and the gateway, no outcome.
      expect(alarm.Dimensions).toEqual([
        { Name: 'gateway', Value: gatewayOf(alarm) },
        { Name: 'service', Value: 'payhook-ingest' },
      ]);
      expect(alarm.AlarmDescription).toContain('payhook rejects list');
      // `missing_signature` is left out: every scanner that finds the URL produces it.
      expect(alarm.AlarmDescription).toContain(
        '(invalid_signature, malformed_signature, timestamp_out_of_tolerance)',
      );
    }
  });

  it('sizes the signature-failure alarm window as configured', () => {
    const { template: custom } = synthesise({
      gateways: ['stripe'],
      signatureFailureAlarm: { threshold: 3, minutes: 15 },
    });
    const alarm = Object.values(custom.findResources('AWS::CloudWatch::Alarm'))
      .map((resource) => resource.Properties)
      .find((properties) => (properties.AlarmDescription as string).includes('failing signature'));
    expect(alarm).toMatchObject({ Threshold: 3, Period: 900, MetricName: 'SignatureFailures' });
  });

  it('alarms on high-queue delay and on payments only the reconciler settled, each one metric for every gateway', () => {
    const { template: custom } = synthesise({
      gateways: ['stripe', 'paystack'],
      highQueueDelaySeconds: 30,
      lostWebhooksPerHour: 2,
    });
    const alarms = Object.values(custom.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties,
    );
    const withMetric = (name: string) =>
      alarms.find((alarm) =>
        (alarm.Metrics ?? []).some(
          (query: { MetricStat?: { Metric: { MetricName: string } } }) =>
            query.MetricStat?.Metric.MetricName === name,
        ),
      );
    // One metric, the high consumer's (every gateway shares the queue): no metric math, no gateway dimension.
    const delay = alarms.find((alarm) => alarm.MetricName === 'QueueDelay');
    expect(delay).toMatchObject({
      Threshold: 30_000,
      ComparisonOperator: 'GreaterThanThreshold',
      ExtendedStatistic: 'p95',
      Period: 300,
      Dimensions: [{ Name: 'service', Value: 'payhook-consumer-high' }],
    });
    expect(withMetric('QueueDelay')).toBeUndefined();
    // One metric too: the reconciler's lost webhooks over every gateway, written per run.
    const lost = alarms.find((alarm) => alarm.MetricName === 'ReconcilerPaymentsSettled');
    expect(lost).toMatchObject({
      Threshold: 2,
      Statistic: 'Sum',
      Period: 3600,
      Dimensions: [{ Name: 'service', Value: 'payhook-reconciler' }],
    });
  });

  it('alarms on a quiet gateway only where configured, treating no data as silence', () => {
    const { template: custom } = synthesise({ quietMinutes: { stripe: 30, razorpay: 180, paystack: 90 } });
    const quiet = Object.values(custom.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties)
      .filter((alarm) => alarm.ComparisonOperator === 'LessThanThreshold');
    const byGateway = Object.fromEntries(
      quiet.map((alarm) => [
        alarm.Dimensions.find((d: { Name: string }) => d.Name === 'gateway').Value,
        alarm,
      ]),
    );
    expect(Object.keys(byGateway).sort()).toEqual(['paystack', 'razorpay', 'stripe']);
    // 90 minutes of silence: two 45-minute periods, not two whole hours.
    expect(byGateway.paystack).toMatchObject({ Period: 2700, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    expect(byGateway.stripe).toMatchObject({
      MetricName: 'WebhookRequests',
      Period: 1800,
      EvaluationPeriods: 1,
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(byGateway.razorpay).toMatchObject({ Period: 3600, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(byGateway.razorpay.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'outcome', Value: 'accepted' }]),
    );
  });

  it('notifies the configured SNS topic, on alarm and back to OK', () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:on-call';
    const alarms = Object.values(
      synthesise({ alarmTopicArn: topic }).template.findResources('AWS::CloudWatch::Alarm'),
    );
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });
});

describe('Stack', () => {
  it('outputs the webhook URL for each gateway, queue URLs, table names and the bus name', () => {
    for (const gateway of GATEWAYS) {
      template.hasOutput(`WebhookUrl${gateway}`, {
        Value: { 'Fn::Join': ['', Match.arrayWith([`/webhooks/${gateway}`])] },
      });
    }
    for (const priority of PRIORITIES) {
      template.hasOutput(`QueueUrl${priority}`, {});
      template.hasOutput(`DeadLetterQueueUrl${priority}`, {});
    }
    for (const name of ['WebhookBaseUrl', 'PaymentsTableName', 'IdempotencyTableName', 'EventBusName']) {
      template.hasOutput(name, {});
    }
    template.hasOutput('RejectsTableName', {
      Value: { Ref: rejectsTable() },
      Description: Match.stringLikeRegexp('kept 7 days'),
    });
  });

  it('serves a custom domain when configured, and says where to point it', () => {
    const withDomain = synthesise({
      customDomain: {
        domainName: 'hooks.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      },
    }).template;
    withDomain.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'hooks.example.com' });
    withDomain.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    withDomain.hasOutput('WebhookUrlpaystack', { Value: 'https://hooks.example.com/webhooks/paystack' });
    withDomain.hasOutput('CustomDomainTarget', {});
  });

  it('passes the AWS Solutions checks with no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.resourceLogicalId}`),
    );
    expect(findings).toEqual([]);
  });

  it('acknowledges only the findings payhook accepts by design, each with its reason', () => {
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct) =>
        construct.node.metadata.filter((entry) => entry.type === 'aws:cdk:acknowledged-rules'),
      )
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    const ids = [...new Set(acknowledgements.map(([id]) => id.replace(/^[A-Za-z]+::/, '')))].sort();
    expect(ids.map((id) => id.replace(/\[.*$/, ''))).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SMG4',
    ]);
    // The one wildcard accepted is the scheduler's right to invoke the reconciler's versions, nothing broader.
    expect(ids.find((id) => id.startsWith('AwsSolutions-IAM5'))).toMatch(
      /^AwsSolutions-IAM5\[Resource::<ReconciliationReconciler[A-Za-z0-9]+\.Arn>:\*\]$/,
    );
    for (const [, reason] of acknowledgements) expect(reason.length).toBeGreaterThan(60);
  });

  it('matches the snapshot, asset hashes aside', () => {
    const json = JSON.stringify(template.toJSON()).replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});

describe('Configuration', () => {
  it.each([
    ['an unknown key', { gateway: ['stripe'] }, /payhook.gateway: unknown key/],
    ['an unknown gateway', { gateways: ['paypal'] }, /payhook.gateways: unknown gateway "paypal"/],
    ['a bad throttle', { throttle: { rateLimit: 0, burstLimit: 1 } }, /payhook.throttle.rateLimit/],
    ['an impossible log retention', { logRetentionDays: 10 }, /payhook.logRetentionDays: expected one of/],
    ['a topic that is not an ARN', { alarmTopicArn: 'on-call' }, /payhook.alarmTopicArn/],
    [
      'a quiet period over a day',
      { quietMinutes: { stripe: 2000 } },
      /payhook.quietMinutes.stripe: at most 1440/,
    ],
    [
      'a quiet period for an unknown gateway',
      { quietMinutes: { paypal: 60 } },
      /payhook.quietMinutes: unknown gateway/,
    ],
    [
      'a signature alarm without minutes',
      { signatureFailureAlarm: { threshold: 5 } },
      /signatureFailureAlarm.minutes/,
    ],
    [
      'a zero refused-request TTL',
      { rejectsTtlDays: 0 },
      /payhook.rejectsTtlDays: expected a positive whole/,
    ],
    ['a fractional refused-request TTL', { rejectsTtlDays: 1.5 }, /payhook.rejectsTtlDays/],
    ['a refused-request cap as text', { rejectsPerMinute: '60' }, /payhook.rejectsPerMinute/],
    [
      'a reconciler interval of a minute (no time left for a run)',
      { reconcileIntervalMinutes: 1 },
      /payhook.reconcileIntervalMinutes: at least 2/,
    ],
  ])('refuses %s at synth, naming the key', (_name, raw, message) => {
    expect(() => parsePayhookConfig(raw)).toThrow(InvalidConfigError);
    expect(() => parsePayhookConfig(raw)).toThrow(message);
  });

  it('refuses gateway settings that ingest would refuse at cold start', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () => new PayhookStack(app, 'typo', { config: { gatewaySettings: { stripe: { tolerence: 60 } } } }),
    ).toThrow(/stripe: unknown key "tolerence"/);
  });

  it('accepts a JSON string, as `cdk synth -c payhook=...` passes it', () => {
    expect(parsePayhookConfig('{"gateways":["stripe"],"acceptTestMode":false}')).toEqual({
      gateways: ['stripe'],
      acceptTestMode: false,
    });
  });
});
