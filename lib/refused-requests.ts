import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REJECTS_TABLE, REJECTS_TABLE_ENV } from '../lambdas/definitions.js';
import type { PayhookFunction } from './payhook-function.js';

export interface RefusedRequestsProps {
  /**
   * What happens to the table when the stack is deleted. Unlike payments, these are short-lived diagnostic records
   * (days, by TTL) with no value once the stack that refused them is gone, so they go with it.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The refused-requests table: webhooks ingest refused (bad signature, unknown gateway, oversized body, ...), kept a
 * few days for diagnosis, with the keys of `lambdas/definitions.ts` (one partition per gateway, newest last).
 * Point-in-time recovery, encryption at rest and TTL, as on the payment tables. How long ingest keeps a refusal and
 * how many it records per minute are settings (`rejectsTtlDays`, `rejectsPerMinute` in `config.ts`).
 *
 * @example
 * const refused = new RefusedRequests(this, 'RefusedRequests');
 * refused.bindRecorder(webhookApi.ingest);
 */
export class RefusedRequests extends Construct {
  public readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: RefusedRequestsProps = {}) {
    super(scope, id);
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    // Unnamed, like the payment tables: CloudFormation names it, and the CLI finds it by the stack output.
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: string(REJECTS_TABLE.partitionKey),
      sortKey: string(REJECTS_TABLE.sortKey),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: REJECTS_TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /**
   * Lets a function record refused requests and tells it where: `dynamodb:PutItem` on the table and nothing else (no
   * read; the table has no index), and the table's name in its environment.
   */
  public bindRecorder(fn: PayhookFunction): iam.Grant {
    fn.addEnvironment({ [REJECTS_TABLE_ENV.tableName]: this.table.tableName });
    return this.table.grant(fn, 'dynamodb:PutItem');
  }
}
