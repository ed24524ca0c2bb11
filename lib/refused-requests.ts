import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INGEST_ENV, REJECTS_TABLE } from '../lambdas/definitions.js';
import type { PayhookFunction } from './payhook-function.js';

export interface RefusedRequestsProps {
  /**
   * Days a refused request is kept before DynamoDB's TTL deletes it.
   * @default REJECTS_TABLE.defaultTtlDays (7)
   */
  readonly ttlDays?: number;
  /**
   * Refused requests recorded per gateway per minute by one function instance; past it they are only logged, so a
   * flood of forged requests cannot run up the bill.
   * @default REJECTS_TABLE.defaultPerMinute (60)
   */
  readonly perMinute?: number;
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
 * Point-in-time recovery, encryption at rest and TTL, as on the payment tables.
 *
 * @example
 * const refused = new RefusedRequests(this, 'RefusedRequests', { ttlDays: 14 });
 * refused.grantRecord(webhookApi.ingest);
 */
export class RefusedRequests extends Construct {
  public readonly table: dynamodb.TableV2;
  public readonly ttlDays: number;
  public readonly perMinute: number;

  constructor(scope: Construct, id: string, props: RefusedRequestsProps = {}) {
    super(scope, id);
    this.ttlDays = props.ttlDays ?? REJECTS_TABLE.defaultTtlDays;
    this.perMinute = props.perMinute ?? REJECTS_TABLE.defaultPerMinute;
    for (const [name, value] of [
      ['ttlDays', this.ttlDays],
      ['perMinute', this.perMinute],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new Error(`RefusedRequests ${name} must be a positive whole number, got ${value}`);
    }
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
   * Lets a function record refused requests and tells it where and how: `dynamodb:PutItem` on the table and nothing
   * else (no read, no index), and the table name, TTL and per-minute cap in its environment.
   */
  public grantRecord(fn: PayhookFunction): iam.Grant {
    fn.function.addEnvironment(INGEST_ENV.rejectsTable, this.table.tableName);
    fn.function.addEnvironment(INGEST_ENV.rejectsTtlDays, String(this.ttlDays));
    fn.function.addEnvironment(INGEST_ENV.rejectsPerMinute, String(this.perMinute));
    return iam.Grant.addToPrincipal({
      grantee: fn.role,
      actions: ['dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
    });
  }
}
