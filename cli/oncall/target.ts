import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PRIORITIES, type Priority } from '../../lambdas/definitions.js';
import { readStackInfo } from '../../local/contract.js';
import { CliError } from '../io.js';
import type { QueuePair } from './types.js';

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
  if (!info?.sqs) {
    throw new CliError(
      `no local payhook stack is running for data dir ${dataDir}: start it with \`npm start\`, or name a deployed one with --stack`,
    );
  }
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
    // The emulator takes any credentials; these keep the SDK from looking for real ones.
    sqs: new SQSClient({
      endpoint: info.sqs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'payhook-local', secretAccessKey: 'payhook-local' },
      useQueueUrlAsEndpoint: false,
    }),
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

/**
 * The table one of a deployed stack's outputs names, with the client settings that reached the stack; a
 * {@link CliError} ending in `hint` when the stack has no such output.
 */
export async function stackTable(
  options: DeployedStackOptions,
  output: string,
  hint: string,
): Promise<{ readonly tableName: string; readonly config: StackOutputs['config'] }> {
  const { outputs, config } = await readStackOutputs(options);
  const tableName = outputs[output];
  if (!tableName) throw new CliError(`stack ${options.stack} has no ${output} output: ${hint}`);
  return { tableName, config };
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
    sqs: new SQSClient({ ...config, ...(options.endpoint && { useQueueUrlAsEndpoint: false }) }),
    queues,
  };
}
