import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { PRIORITIES } from '../lambdas/definitions.js';
import { GATEWAYS } from '../lambdas/domain/webhook-event.js';
import { parseGatewaySettings } from '../lambdas/gateways/settings.js';
import type { PayhookConfig } from './config.js';
import { GatewaySecrets } from './gateway-secrets.js';
import { Monitoring } from './monitoring.js';
import { PaymentEvents } from './payment-events.js';
import { PaymentStore } from './payment-store.js';
import { PriorityPipeline } from './priority-pipeline.js';
import { Reconciliation } from './reconciliation.js';
import { RefusedRequests } from './refused-requests.js';
import { WebhookApi } from './webhook-api.js';

export interface PayhookStackProps extends StackProps {
  /** The team's configuration (cdk.json context `payhook`). @default - all defaults */
  readonly config?: PayhookConfig;
}

/**
 * The whole payhook pipeline: webhook API, priority queues and consumers, payment store, refused-requests table, event
 * bus, monitoring.
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

  constructor(scope: Construct, id: string, props: PayhookStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? {};
    const gateways = config.gateways ?? GATEWAYS;
    // Ingest checks these settings at cold start; checking them here too makes a typo fail `cdk synth` instead.
    parseGatewaySettings(JSON.stringify({ ...config.gatewaySettings, enabled: gateways }));
    const logRetention = (config.logRetentionDays ?? 30) as logs.RetentionDays;

    this.store = new PaymentStore(this, 'PaymentStore', {
      removalPolicy: config.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.events = new PaymentEvents(this, 'PaymentEvents', {
      archiveRetention: Duration.days(config.archiveRetentionDays ?? 90),
    });
    this.pipeline = new PriorityPipeline(this, 'Pipeline', {
      store: this.store,
      events: this.events,
      namePrefix: id,
      logRetention,
      ...(config.dedupeWindows && { dedupeWindows: config.dedupeWindows }),
      ...(config.historyRetentionDays !== undefined && { historyRetentionDays: config.historyRetentionDays }),
      ...(config.historyKeepsPayload !== undefined && { historyKeepsPayload: config.historyKeepsPayload }),
    });
    this.secrets = new GatewaySecrets(this, 'GatewaySecrets', {
      gateways,
      namePrefix: id,
      ...(config.existingSecretNames && { existingSecretNames: config.existingSecretNames }),
    });
    this.webhookApi = new WebhookApi(this, 'WebhookApi', {
      pipeline: this.pipeline,
      secrets: this.secrets,
      gateways,
      logRetention,
      ...(config.throttle && { throttle: config.throttle }),
      ...(config.gatewayThrottle && { gatewayThrottle: config.gatewayThrottle }),
      ...(config.gatewayThrottleOverrides && { gatewayThrottleOverrides: config.gatewayThrottleOverrides }),
      ...(config.gatewaySettings && { gatewaySettings: config.gatewaySettings }),
      ...(config.acceptTestMode !== undefined && { acceptTestMode: config.acceptTestMode }),
      ...(config.customDomain && {
        customDomain: {
          domainName: config.customDomain.domainName,
          certificate: acm.Certificate.fromCertificateArn(
            this,
            'Certificate',
            config.customDomain.certificateArn,
          ),
        },
      }),
    });
    // Diagnostic records with a TTL of days: deleted with the stack whatever `retainData` says (see RefusedRequests).
    this.refusedRequests = new RefusedRequests(this, 'RefusedRequests', {
      ...(config.rejectsTtlDays !== undefined && { ttlDays: config.rejectsTtlDays }),
      ...(config.rejectsPerMinute !== undefined && { perMinute: config.rejectsPerMinute }),
    });
    this.refusedRequests.grantRecord(this.webhookApi.ingest);
    this.reconciliation = new Reconciliation(this, 'Reconciliation', {
      store: this.store,
      pipeline: this.pipeline,
      secrets: this.secrets,
      webhookApi: this.webhookApi,
      events: this.events,
      logRetention,
      ...(config.reconcileIntervalMinutes !== undefined && {
        interval: Duration.minutes(config.reconcileIntervalMinutes),
      }),
      ...(config.reconcileGraceSeconds !== undefined && { graceSeconds: config.reconcileGraceSeconds }),
      ...(config.pendingExpirySeconds !== undefined && { pendingExpirySeconds: config.pendingExpirySeconds }),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      pipeline: this.pipeline,
      webhookApi: this.webhookApi,
      dashboardName: id,
      otherFunctions: { reconciler: this.reconciliation.reconciler, register: this.reconciliation.register },
      ...(config.alarmTopicArn && {
        alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn),
      }),
      ...(config.oldestMessageAgeSeconds && { oldestMessageAgeSeconds: config.oldestMessageAgeSeconds }),
      gateways,
      ...(config.signatureFailureAlarm && { signatureFailures: config.signatureFailureAlarm }),
      ...(config.quietMinutes && { quietMinutes: config.quietMinutes }),
      ...(config.highQueueDelaySeconds !== undefined && {
        highQueueDelaySeconds: config.highQueueDelaySeconds,
      }),
      ...(config.lostWebhooksPerHour !== undefined && { lostWebhooksPerHour: config.lostWebhooksPerHour }),
    });

    // Outputs are what a team pastes into gateway dashboards and what the on-call CLI reads (`--stack NAME`).
    new CfnOutput(this, 'WebhookBaseUrl', { value: this.webhookApi.baseUrl });
    new CfnOutput(this, 'RegisterPaymentUrl', {
      value: `${this.webhookApi.baseUrl}/payments`,
      description: 'POST expected payments here, signed with AWS SigV4 (execute-api:Invoke)',
    });
    for (const gateway of gateways) {
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
      description: `Refused webhook requests, kept ${this.refusedRequests.ttlDays} days for diagnosis (payhook rejects list)`,
    });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    if (this.webhookApi.domainName) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.webhookApi.domainName.regionalDomainName,
        description: 'Point a CNAME (or alias) for the custom domain here',
      });
    }
    this.acknowledgeFindings();
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
