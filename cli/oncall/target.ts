import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { PRIORITIES, type Priority } from '../../lambdas/definitions.js';
import { readStackInfo, type StackInfo } from '../../local/contract.js';
import { CliError } from '../io.js';
import type { QueuePair } from './types.js';

/** The CloudFormation outputs that name the stack's tables (see `lib/payhook-stack.ts`). */
export const TABLE_OUTPUTS = { payments: 'PaymentsTableName', rejects: 'RejectsTableName' } as const;
export type StackTable = keyof typeof TABLE_OUTPUTS;

/** Client settings for one of the local stack's emulators, which take any credentials. */
export function localClientConfig(endpoint: string) {
  // Fixed credentials keep the SDK from looking for real ones on a laptop that has none.
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'payhook-local', secretAccessKey: 'payhook-local' },
  };
}

/** The local stack recorded in `dataDir` (its `stack.json`); a {@link CliError} saying how to start one if none is. */
export function runningLocalStack(dataDir: string): StackInfo {
  const info = readStackInfo(dataDir);
  if (!info) throw noLocalStack(dataDir);
  return info;
}

function noLocalStack(dataDir: string): CliError {
  return new CliError(
    `no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`, or name a deployed one with --stack`,
  );
}

/** An SQS client for the local stack's emulator: it is reached at its endpoint, whatever the queue URLs say. */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ ...localClientConfig(endpoint), useQueueUrlAsEndpoint: false });
}

/** An SQS client for a deployed stack's queues; with a test endpoint (moto), that endpoint rather than the URLs. */
export function deployedSqsClient(config: StackOutputs['config']): SQSClient {
  return new SQSClient({ ...config, ...(config.endpoint && { useQueueUrlAsEndpoint: false }) });
}

/** One of the stack's DynamoDB tables, with a document client for it; `close` ends the client. */
export interface TableSource {
  readonly label: string;
  readonly tableName: string;
  readonly documents: DynamoDBDocumentClient;
  close(): void;
}

function tableSource(label: string, tableName: string, client: DynamoDBClient): TableSource {
  return { label, tableName, documents: createDocumentClient(client), close: () => client.destroy() };
}

/** A table of the running local stack, through the DynamoDB endpoint its `stack.json` names. */
export function localTable(dataDir: string, table: StackTable): TableSource {
  const info = readStackInfo(dataDir);
  if (!info?.dynamodb) throw noLocalStack(dataDir);
  const tableName = table === 'payments' ? info.dynamodb.paymentsTable : info.dynamodb.rejectsTable;
  if (!tableName) {
    throw new CliError(`the local stack's stack.json names no ${table} table: restart it with \`npm start\``);
  }
  return tableSource(
    `local stack at ${info.url}`,
    tableName,
    new DynamoDBClient(localClientConfig(info.dynamodb.endpoint)),
  );
}

/** A table a deployed stack's outputs name, reached with the operator's credentials. */
export function tableFromOutputs(
  options: DeployedStackOptions,
  { outputs, config }: StackOutputs,
  table: StackTable,
): TableSource {
  const output = TABLE_OUTPUTS[table];
  const tableName = outputs[output];
  if (!tableName) {
    const hint = table === 'payments' ? 'is it a payhook stack?' : 'deploy a newer payhook';
    throw new CliError(`stack ${options.stack} has no ${output} output: ${hint}`);
  }
  return tableSource(`stack ${options.stack}`, tableName, new DynamoDBClient(config));
}

/** A table of a deployed stack, named by the stack's output. */
export async function deployedTable(options: DeployedStackOptions, table: StackTable): Promise<TableSource> {
  return tableFromOutputs(options, await readStackOutputs(options), table);
}

/** What the on-call commands act on: an SQS client and the three queue pairs, with a name for messages. */
export interface OncallTarget {
  readonly label: string;
  readonly sqs: SQSClient;
  readonly queues: readonly QueuePair[];
}

export interface DeployedStackOptions {
  readonly stack: string;
  readonly region?: string;
  readonly profile?: string;
  /** For tests and LocalStack/moto: the AWS endpoint. @default - AWS */
  readonly endpoint?: string;
}

/** The running local stack, found through `<data dir>/stack.json` (as `payhook send` finds it). */
export function localTarget(dataDir: string): OncallTarget {
  const info = readStackInfo(dataDir);
  if (!info?.sqs) throw noLocalStack(dataDir);
  const queues = PRIORITIES.map((priority) => {
    const pair = info.sqs?.queues[priority];
    if (!pair)
      throw new CliError(
        `the local stack's stack.json has no ${priority} queue: restart it with \`npm start\``,
      );
    return { priority, ...pair };
  });
  return {
    label: `local stack at ${info.url}`,
    sqs: localSqsClient(info.sqs.endpoint),
    queues,
  };
}

/** The output keys the CDK stack writes (`QueueUrl-high` becomes `QueueUrlhigh` in CloudFormation). */
export function outputKeys(priority: Priority): { readonly queue: string; readonly deadLetter: string } {
  return { queue: `QueueUrl${priority}`, deadLetter: `DeadLetterQueueUrl${priority}` };
}

/** What a deployed stack's outputs say, and the client settings (region, endpoint) that reached it. */
export interface StackOutputs {
  readonly outputs: Readonly<Record<string, string>>;
  readonly config: { readonly region?: string; readonly endpoint?: string };
}

/** Reads a deployed stack's CloudFormation outputs (`--stack`, `--region`, `--profile`). */
export async function readStackOutputs(options: DeployedStackOptions): Promise<StackOutputs> {
  // The SDK's default credential chain honours AWS_PROFILE; setting it here is what `--profile` means.
  if (options.profile) process.env.AWS_PROFILE = options.profile;
  const config = {
    ...(options.region && { region: options.region }),
    ...(options.endpoint && { endpoint: options.endpoint }),
  };
  const cloudformation = new CloudFormationClient(config);
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cloudformation.send(
      new DescribeStacksCommand({ StackName: options.stack }),
    );
    const [stack] = Stacks;
    if (!stack) throw new CliError(`no CloudFormation stack named ${options.stack}`);
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = (error as Error).message;
    throw new CliError(
      `cannot read stack ${options.stack}${options.region ? ` in ${options.region}` : ''}: ${message}`,
    );
  } finally {
    cloudformation.destroy();
  }
  return { outputs, config };
}

/** A deployed payhook stack, its queue URLs read from the stack's CloudFormation outputs. */
export async function deployedTarget(options: DeployedStackOptions): Promise<OncallTarget> {
  const { outputs, config } = await readStackOutputs(options);
  const queues = PRIORITIES.map((priority) => {
    const keys = outputKeys(priority);
    const queueUrl = outputs[keys.queue];
    const deadLetterQueueUrl = outputs[keys.deadLetter];
    if (!queueUrl || !deadLetterQueueUrl) {
      throw new CliError(
        `stack ${options.stack} has no ${keys.queue}/${keys.deadLetter} outputs: is it a payhook stack?`,
      );
    }
    return { priority, queueUrl, deadLetterQueueUrl };
  });
  return {
    label: `stack ${options.stack}${options.region ? ` (${options.region})` : ''}`,
    sqs: deployedSqsClient(config),
    queues,
  };
}
