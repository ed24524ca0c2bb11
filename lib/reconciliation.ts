import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import {
  CONFIRMATION_SCHEDULE,
  CONSUMER_ENV,
  INGEST_ENV,
  PAYMENTS_TABLE,
  PRIORITIES,
  RECONCILER_ENV,
} from '../lambdas/definitions.js';
import { RECONCILER_PROGRESS_PREFIX } from '../lambdas/store/dynamodb-payment-store.js';
import type { GatewaySecrets } from './gateway-secrets.js';
import { PayhookFunction } from './payhook-function.js';
import { SERVICES } from './payhook-metrics.js';
import type { PaymentEvents } from './payment-events.js';
import type { PaymentStore } from './payment-store.js';
import type { PriorityPipeline } from './priority-pipeline.js';
import type { WebhookApi } from './webhook-api.js';

export interface ReconciliationProps {
  readonly store: PaymentStore;
  readonly pipeline: PriorityPipeline;
  readonly secrets: GatewaySecrets;
  readonly webhookApi: WebhookApi;
  /** Where a registration that meets mismatched money announces it. */
  readonly events: PaymentEvents;
  /** How often the reconciler runs. @default Duration.minutes(5) */
  readonly interval?: Duration;
  /** Seconds a payment stays pending before it is asked about. @default 600 */
  readonly graceSeconds?: number;
  /** Seconds after which a pending payment without a registered expiry expires. @default 86400 */
  readonly pendingExpirySeconds?: number;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Closing the lost-webhook gap: the reconciler function on an EventBridge Scheduler schedule, which asks the gateways
 * about payments still pending and queues what it learns for the consumers; and `POST /payments` (IAM-authorised)
 * where the merchant's checkout registers the payments it expects.
 */
export class Reconciliation extends Construct {
  public readonly reconciler: PayhookFunction;
  public readonly register: PayhookFunction;
  public readonly schedule: scheduler.Schedule;
  public readonly confirmationSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const { store, pipeline, secrets } = props;
    const table = store.paymentsTable;

    this.reconciler = new PayhookFunction(this, 'Reconciler', {
      entry: 'lambdas/reconcile.ts',
      serviceName: SERVICES.reconciler,
      timeout: Duration.minutes(5),
      description: 'payhook: asks the gateways about payments still pending',
      ...(props.logRetention && { logRetention: props.logRetention }),
    });
    const reconciler = this.reconciler.function;
    reconciler.addEnvironment(CONSUMER_ENV.paymentsTable, table.tableName);
    iam.Grant.addToPrincipal({
      grantee: reconciler,
      actions: ['dynamodb:Query'],
      resourceArns: [`${table.tableArn}/index/${PAYMENTS_TABLE.pendingIndex.name}`],
    });
    // Its progress through each gateway's pending payments (which were asked about), in items of its own: only keys
    // starting `RECONCILER#`, so it can neither read nor write a payment item, which the consumers alone write.
    iam.Grant.addToPrincipal({
      grantee: reconciler,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RECONCILER_PROGRESS_PREFIX}*`] },
      },
    });
    for (const priority of PRIORITIES) {
      reconciler.addEnvironment(INGEST_ENV.queueUrl(priority), pipeline.queues[priority].queueUrl);
      pipeline.queues[priority].grantSendMessages(reconciler);
    }
    reconciler.addEnvironment(INGEST_ENV.secretIds, JSON.stringify(secrets.secretIds()));
    secrets.grantRead(reconciler);
    if (props.graceSeconds !== undefined)
      reconciler.addEnvironment(RECONCILER_ENV.graceSeconds, String(props.graceSeconds));
    if (props.pendingExpirySeconds !== undefined) {
      reconciler.addEnvironment(RECONCILER_ENV.pendingExpirySeconds, String(props.pendingExpirySeconds));
    }
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'payhook reconciler',
      schedule: scheduler.ScheduleExpression.rate(props.interval ?? Duration.minutes(5)),
      // A missed run is simply the next run: no retries piling up behind a slow gateway.
      target: new LambdaInvoke(reconciler, { retryAttempts: 0, role: scheduleRole }),
    });
    // Claims awaiting confirmation (Flutterwave verif-hash alone) are asked about every minute, not every full run.
    this.confirmationSchedule = new scheduler.Schedule(this, 'ConfirmationSchedule', {
      description: 'payhook reconciler: claims awaiting confirmation',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(CONFIRMATION_SCHEDULE.intervalMinutes)),
      target: new LambdaInvoke(reconciler, {
        retryAttempts: 0,
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject(CONFIRMATION_SCHEDULE.input),
      }),
    });
    const stack = Stack.of(this);
    const functionLogicalId = stack.resolve(
      stack.getLogicalId(reconciler.node.defaultChild as CfnElement),
    ) as string;
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason:
        'The scheduler role may invoke only the reconciler function; the ":*" suffix added by the Lambda grant covers that one function\'s versions and aliases, nothing else.',
    });

    this.register = new PayhookFunction(this, 'Register', {
      entry: 'lambdas/register-payment.ts',
      serviceName: 'payhook-register',
      timeout: Duration.seconds(10),
      description: 'payhook: registers payments the checkout expects',
      ...(props.logRetention && { logRetention: props.logRetention }),
    });
    const register = this.register.function;
    register.addEnvironment(CONSUMER_ENV.paymentsTable, table.tableName);
    register.addEnvironment(CONSUMER_ENV.eventBusName, props.events.bus.eventBusName);
    props.events.grantPublish(register);
    iam.Grant.addToPrincipal({
      grantee: register,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [table.tableArn],
    });
    iam.Grant.addToPrincipal({
      grantee: register,
      actions: ['dynamodb:Query'],
      resourceArns: [PAYMENTS_TABLE.referenceIndex.name, PAYMENTS_TABLE.gatewayPaymentIdIndex.name].map(
        (index) => `${table.tableArn}/index/${index}`,
      ),
    });
    // Only callers with AWS credentials allowed to invoke it (the merchant's backend) may register payments.
    props.webhookApi.api.addRoutes({
      path: '/payments',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Register', register),
      authorizer: new HttpIamAuthorizer(),
    });
  }
}
