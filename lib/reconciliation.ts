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
  CLAIM_GATEWAYS,
  CONFIRMATION_SCHEDULE,
  RECONCILER_QUEUE_PRIORITIES,
  REGISTRATION_TIMEOUT_SECONDS,
  reconcilerTimeoutSeconds,
} from '../lambdas/definitions.js';
import type { GatewayName } from '../lambdas/domain/webhook-event.js';
import { VERIFIERS } from '../lambdas/reconciliation/verifiers/index.js';
import { SETTING_DEFAULTS } from './config.js';
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
  /** The deployment's gateways: the confirmations schedule exists only if one of them sends unverified claims. */
  readonly gateways: readonly GatewayName[];
  /** How often the reconciler runs. @default - the `reconcileIntervalMinutes` setting's default (5 minutes) */
  readonly interval?: Duration;
  /** @default - the `logRetentionDays` setting's default (30 days) */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Closing the lost-webhook gap: the reconciler function on an EventBridge Scheduler schedule, which asks the gateways
 * about payments still pending and queues what it learns for the consumers; and `POST /payments` (IAM-authorised)
 * where the merchant's checkout registers the payments it expects. The reconciler's settings (grace, pending expiry)
 * reach its environment from the settings table (`config.ts`), through the stack.
 */
export class Reconciliation extends Construct {
  public readonly reconciler: PayhookFunction;
  public readonly register: PayhookFunction;
  public readonly schedule: scheduler.Schedule;
  /** Only with a gateway in {@link CLAIM_GATEWAYS}. */
  public readonly confirmationSchedule: scheduler.Schedule | undefined;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const { store, pipeline, secrets } = props;
    const interval = props.interval ?? Duration.minutes(SETTING_DEFAULTS.reconcileIntervalMinutes);

    this.reconciler = new PayhookFunction(this, 'Reconciler', {
      entry: 'lambdas/reconcile.ts',
      serviceName: SERVICES.reconciler,
      // Scheduler invokes asynchronously: a run must end a minute before the next is due, or the two would overlap.
      timeout: Duration.seconds(reconcilerTimeoutSeconds(interval.toMinutes())),
      description: 'payhook: asks the gateways about payments still pending',
      logRetention: props.logRetention,
    });
    store.bindPendingScan(this.reconciler);
    // Only the priorities of what it can learn: it has no low-priority kind (the deploy rehearsal found that grant unused).
    pipeline.bindQueueing(this.reconciler, RECONCILER_QUEUE_PRIORITIES);
    // Only the gateways with a verify API: the reconciler never reads Adyen's or Standard Webhooks' secret.
    secrets.bindApiReader(this.reconciler, Object.keys(VERIFIERS) as GatewayName[]);
    const reconciler = this.reconciler.function;
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'payhook reconciler',
      schedule: scheduler.ScheduleExpression.rate(interval),
      // A missed run is simply the next run: no retries piling up behind a slow gateway.
      target: new LambdaInvoke(reconciler, { retryAttempts: 0, role: scheduleRole }),
    });
    // Claims awaiting confirmation (Flutterwave verif-hash alone) are asked about every minute, not every full run;
    // without a gateway that sends claims there are none, and 43,800 idle runs a month would be billed for nothing.
    this.confirmationSchedule = props.gateways.some((gateway) => CLAIM_GATEWAYS.includes(gateway))
      ? new scheduler.Schedule(this, 'ConfirmationSchedule', {
          description: 'payhook reconciler: claims awaiting confirmation',
          schedule: scheduler.ScheduleExpression.rate(
            Duration.minutes(CONFIRMATION_SCHEDULE.intervalMinutes),
          ),
          target: new LambdaInvoke(reconciler, {
            retryAttempts: 0,
            role: scheduleRole,
            input: scheduler.ScheduleTargetInput.fromObject(CONFIRMATION_SCHEDULE.input),
          }),
        })
      : undefined;
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
      timeout: Duration.seconds(REGISTRATION_TIMEOUT_SECONDS),
      description: 'payhook: registers payments the checkout expects',
      logRetention: props.logRetention,
    });
    props.events.bindPublisher(this.register);
    store.bindPaymentItems(this.register);
    // Only callers with AWS credentials allowed to invoke it (the merchant's backend) may register payments.
    props.webhookApi.api.addRoutes({
      path: '/payments',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Register', this.register.function),
      authorizer: new HttpIamAuthorizer(),
    });
  }
}
