import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE, PAYMENTS_TABLE } from '../lambdas/definitions.js';

export interface PaymentStoreProps {
  /**
   * What happens to the tables when the stack is deleted: payments are money records, so they are kept unless a team
   * says otherwise (a test deployment, say).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The payments table (payment items, one history item per event, the sparse pending index and the two lookup
 * indexes) and the idempotency table, with the keys of `lambdas/definitions.ts`: the same the local stack creates.
 * Point-in-time recovery, encryption at rest and TTL on both.
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
   * Exactly what a consumer does: read, write and query payment and history items (no index, no delete), and
   * Powertools' idempotency record lifecycle. Narrower than `grantReadWriteData`, which adds every index by wildcard.
   */
  public grantConsumer(grantee: iam.IGrantable): iam.Grant {
    const payments = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      resourceArns: [this.paymentsTable.tableArn],
    });
    const idempotency = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.idempotencyTable.tableArn],
    });
    return payments.combine(idempotency);
  }
}
