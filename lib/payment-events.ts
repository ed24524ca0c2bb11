import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EVENT_BUS_ENV } from '../lambdas/definitions.js';
import { PAYMENT_EVENT_SOURCE } from '../lambdas/domain/payment-event.js';
import { SETTING_DEFAULTS } from './config.js';
import type { PayhookFunction } from './payhook-function.js';

export interface PaymentEventsProps {
  /**
   * How long published payment events are archived for replay by downstream consumers.
   * @default - the `archiveRetentionDays` setting's default (90 days)
   */
  readonly archiveRetention?: Duration;
}

/** The EventBridge bus payment events are published on, with an archive so downstream services can replay them. */
export class PaymentEvents extends Construct {
  public readonly bus: events.EventBus;
  public readonly archive: events.Archive;

  constructor(scope: Construct, id: string, props: PaymentEventsProps = {}) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description: 'payhook payment events (payment.succeeded, ...)',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every payhook payment event, for replay',
      eventPattern: { source: [PAYMENT_EVENT_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(SETTING_DEFAULTS.archiveRetentionDays),
    });
  }

  /** Lets the function put payment events on the bus, and tells it the bus's name. */
  public bindPublisher(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [EVENT_BUS_ENV.busName]: this.bus.eventBusName });
    return this.bus.grantPutEventsTo(fn);
  }
}
