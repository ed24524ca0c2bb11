import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  IDEMPOTENCY_TABLE,
  IDEMPOTENCY_TABLE_ENV,
  PAYMENTS_TABLE,
  PAYMENTS_TABLE_ENV,
} from '../lambdas/definitions.js';
import { DESTINATION_STATE_PREFIX } from '../lambdas/store/dynamodb-destination-states.js';
import { RECONCILER_PROGRESS_PREFIX } from '../lambdas/store/pending-index.js';
import type { PayhookFunction } from './payhook-function.js';

export interface PaymentStoreProps {
  /**
   * What happens to the tables when the stack is deleted: payments are money records, so they are kept unless a team
   * says otherwise (a test deployment, say).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The payments table (payment items, one history item per event that is also its idempotency record, the sparse
 * pending index and the two lookup indexes) and the previous release's idempotency table (read until its records
 * expire; it can go in a later release), with the keys of `lambdas/definitions.ts`: the same the local stack creates.
 * Point-in-time recovery, encryption at rest and TTL on both. Functions are bound to them by what they do (apply
 * events, scan pending payments, register payments): each bind sets the table names the handler reads and grants
 * exactly its actions.
 */
export class PaymentStore extends Construct {
  public readonly paymentsTable: dynamodb.TableV2;
  public readonly idempotencyTable: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: PaymentStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const { partitionKey, sortKey, ttlAttribute, pendingIndex, referenceIndex, gatewayPaymentIdIndex } =
      PAYMENTS_TABLE;
    this.paymentsTable = new dynamodb.TableV2(this, 'Payments', {
      partitionKey: string(partitionKey),
      sortKey: string(sortKey),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      removalPolicy,
      globalSecondaryIndexes: [
        {
          indexName: pendingIndex.name,
          partitionKey: string(pendingIndex.partitionKey),
          sortKey: string(pendingIndex.sortKey),
        },
        // Lookups only map an identifier to the payment's key: KEYS_ONLY keeps each index write to one small unit.
        {
          indexName: referenceIndex.name,
          partitionKey: string(referenceIndex.partitionKey),
          projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        },
        {
          indexName: gatewayPaymentIdIndex.name,
          partitionKey: string(gatewayPaymentIdIndex.partitionKey),
          projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        },
      ],
    });
    this.idempotencyTable = new dynamodb.TableV2(this, 'Idempotency', {
      partitionKey: string(IDEMPOTENCY_TABLE.partitionKey),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.ttlAttribute,
      removalPolicy,
    });
  }

  /**
   * Payment items for a consumer or registration: get and put payment and history items by key (no query, no index,
   * no delete), and the table's name. Both read a payment by its key (and its legacy key), write it conditionally and
   * put history items; neither queries (the lookup indexes serve the CLI, with its own credentials: the deploy
   * rehearsal found registration's Query grant unused). Narrower than `grantReadWriteData` or `grant(...)`, which add
   * every index by wildcard.
   */
  public bindPaymentItems(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [PAYMENTS_TABLE_ENV.tableName]: this.paymentsTable.tableName });
    return iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.paymentsTable.tableArn],
    });
  }

  /**
   * The consumers' idempotency records, on the payments table's history items (`dynamodb-event-records.ts`): the
   * in-progress record and its completion are updates (a history item already there keeps its history), and a failed
   * event's record is deleted. With {@link bindPaymentItems}, which gives the get and the put.
   */
  public bindEventRecords(fn: PayhookFunction): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.paymentsTable.tableArn],
    });
  }

  /**
   * The previous release's idempotency records, read-only: `GetItem` on a rare path (a duplicate of an event applied
   * before the upgrade, see `previous-idempotency-records.ts`), and the table's name.
   */
  public bindPreviousIdempotencyRecords(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [IDEMPOTENCY_TABLE_ENV.tableName]: this.idempotencyTable.tableName });
    // The table has no index, so the grant is on the table alone.
    return this.idempotencyTable.grant(fn, 'dynamodb:GetItem');
  }

  /**
   * The reconciler's view: query the pending index, and read and write its own progress through each gateway's
   * pending payments in items of its own, keys starting `RECONCILER#`, so it can neither read nor write a payment item,
   * which the consumers alone write.
   */
  public bindPendingScan(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [PAYMENTS_TABLE_ENV.tableName]: this.paymentsTable.tableName });
    const pending = iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: [this.indexArn(PAYMENTS_TABLE.pendingIndex.name)],
    });
    const progress = iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.paymentsTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RECONCILER_PROGRESS_PREFIX}*`] },
      },
    });
    return pending.combine(progress);
  }

  /**
   * The delivery function's view: read and (on a 410 Gone) write each destination's stop state, items of their own
   * whose keys start `DESTINATION#`, so it can neither read nor write a payment. No delete: resuming a destination is
   * the operator's (`payhook deliveries resume`), with their own credentials.
   */
  public bindDestinationStates(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [PAYMENTS_TABLE_ENV.tableName]: this.paymentsTable.tableName });
    return iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.paymentsTable.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${DESTINATION_STATE_PREFIX}*`] },
      },
    });
  }

  /**
   * One index's ARN. The table's own `grant(grantee, ...actions)` covers the table and every index (`index/*`) alike:
   * the reconciler queries a named index only and must not query the table itself, and no CDK grant
   * names one index, so the ARN is written here, once.
   */
  private indexArn(indexName: string): string {
    return `${this.paymentsTable.tableArn}/index/${indexName}`;
  }
}
