import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { deliveryOutputKeys, PRIORITIES } from '../lambdas/definitions.js';
import {
  type FunctionRole,
  type PayhookConfig,
  type PayhookSettings,
  parsePayhookConfig,
  resolveSettings,
  settingsEnvironment,
} from './config.js';
import { bindOriginalSources, Deliveries } from './deliveries.js';
import { GatewaySecrets } from './gateway-secrets.js';
import { Monitoring } from './monitoring.js';
import type { PayhookFunction } from './payhook-function.js';
import { PaymentEvents } from './payment-events.js';
import { PaymentStore } from './payment-store.js';
import { PriorityPipeline } from './priority-pipeline.js';
import { Reconciliation } from './reconciliation.js';
import { RefusedRequests } from './refused-requests.js';
import { WebhookApi } from './webhook-api.js';

export interface PayhookStackProps extends StackProps {
  /** The team's configuration (cdk.json context `payhook`), checked here too. @default - all defaults */
  readonly config?: PayhookConfig;
}

/**
 * The whole payhook pipeline: webhook API, priority queues and consumers, payment store, refused-requests table, event
 * bus, monitoring. Every setting is read from the settings table (`config.ts`): its value for the constructs, and for
 * the functions that read one, their environment.
 */
export class PayhookStack extends Stack {
  public readonly store: PaymentStore;
  public readonly events: PaymentEvents;
  public readonly pipeline: PriorityPipeline;
  public readonly secrets: GatewaySecrets;
  public readonly webhookApi: WebhookApi;
  public readonly refusedRequests: RefusedRequests;
  public readonly monitoring: Monitoring;
  public readonly reconciliation: Reconciliation;
  /** Deliveries to the merchant's endpoints: only when the `destinations` setting names any. */
  public readonly deliveries?: Deliveries;

  constructor(scope: Construct, id: string, props: PayhookStackProps = {}) {
    super(scope, id, props);
    // Checked here as well as in bin/app.ts, so a stack built by other code fails `cdk synth` on a bad setting too.
    const config = parsePayhookConfig(props.config ?? {});
    const settings = resolveSettings(config);
    const logRetention = settings.logRetentionDays as logs.RetentionDays;

    this.store = new PaymentStore(this, 'PaymentStore', {
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.events = new PaymentEvents(this, 'PaymentEvents', {
      archiveRetention: Duration.days(settings.archiveRetentionDays),
    });
    this.pipeline = new PriorityPipeline(this, 'Pipeline', {
      store: this.store,
      events: this.events,
      namePrefix: id,
      logRetention,
    });
    this.secrets = new GatewaySecrets(this, 'GatewaySecrets', {
      gateways: settings.gateways,
      namePrefix: id,
      existingSecretNames: settings.existingSecretNames,
    });
    this.webhookApi = new WebhookApi(this, 'WebhookApi', {
      pipeline: this.pipeline,
      secrets: this.secrets,
      gateways: settings.gateways,
      logRetention,
      throttle: settings.throttle,
      gatewayThrottle: settings.gatewayThrottle,
      gatewayThrottleOverrides: settings.gatewayThrottleOverrides,
      customDomain: settings.customDomain && {
        domainName: settings.customDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(
          this,
          'Certificate',
          settings.customDomain.certificateArn,
        ),
      },
    });
    // Diagnostic records with a TTL of days: deleted with the stack whatever `retainData` says (see RefusedRequests).
    this.refusedRequests = new RefusedRequests(this, 'RefusedRequests');
    this.refusedRequests.bindRecorder(this.webhookApi.ingest);
    this.reconciliation = new Reconciliation(this, 'Reconciliation', {
      store: this.store,
      pipeline: this.pipeline,
      secrets: this.secrets,
      webhookApi: this.webhookApi,
      events: this.events,
      gateways: settings.gateways,
      logRetention,
      interval: Duration.minutes(settings.reconcileIntervalMinutes),
    });
    if (Object.keys(settings.destinations).length > 0) {
      this.deliveries = new Deliveries(this, 'Deliveries', {
        destinations: settings.destinations,
        store: this.store,
        events: this.events,
        namePrefix: id,
        logRetention,
      });
      bindOriginalSources(
        this.deliveries,
        this.webhookApi.ingest,
        Object.values(this.pipeline.consumers),
        this.secrets,
      );
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      pipeline: this.pipeline,
      webhookApi: this.webhookApi,
      dashboardName: id,
      otherFunctions: { reconciler: this.reconciliation.reconciler, register: this.reconciliation.register },
      alarmTopic: settings.alarmTopicArn
        ? sns.Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn)
        : undefined,
      oldestMessageAgeSeconds: settings.oldestMessageAgeSeconds,
      gateways: settings.gateways,
      signatureFailures: settings.signatureFailureAlarm,
      quietMinutes: settings.quietMinutes,
      highQueueDelaySeconds: settings.highQueueDelaySeconds,
      lostWebhooksPerHour: settings.lostWebhooksPerHour,
      reconcileInterval: Duration.minutes(settings.reconcileIntervalMinutes),
      deliveries: this.deliveries,
      deliveryOldestAgeSeconds: settings.deliveryOldestAgeSeconds,
    });
    this.addSettingsEnvironment(config);
    this.addOutputs(settings);
    this.acknowledgeFindings();
  }

  /** The settings the functions read from their environment, as the settings table writes them. */
  private addSettingsEnvironment(config: PayhookConfig): void {
    const environment = settingsEnvironment(config);
    const functions: Record<FunctionRole, readonly PayhookFunction[]> = {
      ingest: [this.webhookApi.ingest],
      consumers: Object.values(this.pipeline.consumers),
      reconciler: [this.reconciliation.reconciler],
      register: [this.reconciliation.register],
    };
    for (const [role, fns] of Object.entries(functions) as [FunctionRole, readonly PayhookFunction[]][]) {
      for (const fn of fns) fn.addEnvironment(environment[role]);
    }
  }

  /** What a team pastes into gateway dashboards and what the on-call CLI reads (`--stack NAME`). */
  private addOutputs(settings: PayhookSettings): void {
    new CfnOutput(this, 'WebhookBaseUrl', { value: this.webhookApi.baseUrl });
    new CfnOutput(this, 'RegisterPaymentUrl', {
      value: `${this.webhookApi.baseUrl}/payments`,
      description: 'POST expected payments here, signed with AWS SigV4 (execute-api:Invoke)',
    });
    for (const gateway of settings.gateways) {
      new CfnOutput(this, `WebhookUrl-${gateway}`, {
        value: `${this.webhookApi.baseUrl}/webhooks/${gateway}`,
        description: `Paste into the ${gateway} dashboard as the webhook URL`,
      });
      const secret = this.secrets.secrets[gateway];
      if (secret) new CfnOutput(this, `SecretArn-${gateway}`, { value: secret.secretArn });
    }
    for (const priority of PRIORITIES) {
      new CfnOutput(this, `QueueUrl-${priority}`, { value: this.pipeline.queues[priority].queueUrl });
      new CfnOutput(this, `DeadLetterQueueUrl-${priority}`, {
        value: this.pipeline.deadLetterQueues[priority].queueUrl,
      });
    }
    new CfnOutput(this, 'PaymentsTableName', { value: this.store.paymentsTable.tableName });
    new CfnOutput(this, 'IdempotencyTableName', { value: this.store.idempotencyTable.tableName });
    new CfnOutput(this, 'RejectsTableName', {
      value: this.refusedRequests.table.tableName,
      description: `Refused webhook requests, kept ${settings.rejectsTtlDays} days for diagnosis (payhook rejects list)`,
    });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    this.addDeliveryOutputs();
    if (this.webhookApi.domainName) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.webhookApi.domainName.regionalDomainName,
        description: 'Point a CNAME (or alias) for the custom domain here',
      });
    }
  }

  /**
   * Per destination, what the CLI (`payhook deliveries ...`) and the merchant's onboarding read: the queue, its DLQ and
   * the signing secret. CloudFormation keys them without the dashes (`deliveryOutputKeys`).
   */
  private addDeliveryOutputs(): void {
    for (const { name, queue, deadLetterQueue, secret } of this.deliveries?.destinations ?? []) {
      const keys = deliveryOutputKeys(name);
      const outputs = [
        [keys.queueUrl, `DeliveryQueueUrl-${name}`, queue.queueUrl, `the ${name} destination's queue`],
        [
          keys.deadLetterQueueUrl,
          `DeliveryDlqUrl-${name}`,
          deadLetterQueue.queueUrl,
          `the ${name} destination's dead-letter queue`,
        ],
        // An `original` destination has none: what it gets carries the gateway's own signature.
        ...(secret
          ? [
              [
                keys.secretArn,
                `DeliverySecretArn-${name}`,
                secret.secretArn,
                `the ${name} destination's signing secret: give its key to the merchant`,
              ] as const,
            ]
          : []),
      ] as const;
      for (const [key, id, value, description] of outputs) {
        const output = new CfnOutput(this, id, { value, description });
        // The key the CLI looks for, whatever CDK's logical-id rules become.
        output.overrideLogicalId(key);
      }
    }
  }

  /** The cdk-nag findings payhook accepts by design, each with its reason. */
  private acknowledgeFindings(): void {
    Validations.of(this.webhookApi.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Gateways cannot present AWS credentials or tokens: every webhook is authenticated by its gateway HMAC signature, verified in the ingest function over the exact body before anything is queued.',
    });
  }
}
