import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { startMotoServer } from '../test/support/moto.js';
import type { ResolvedResource } from './intrinsics.js';
import { resourcesOfType, type Template } from './template.js';

/**
 * The AWS account the rehearsal deploys into: dynalite (DynamoDB), fauxqs (SQS) and moto_server (Secrets Manager,
 * EventBridge, anything else), with the template's tables, queues, secrets and buses created under the template's
 * names, or under their logical ids where the template leaves the name to CloudFormation. What CloudFormation would
 * answer for `Ref` and `Fn::GetAtt` is kept per logical id, so the functions' environments and policies resolve to
 * the resources that exist.
 */

export const REHEARSAL_REGION = 'us-east-1';
/** moto's default account, so the ARNs moto makes (secrets) and the ones built here agree. */
export const REHEARSAL_ACCOUNT = '123456789012';

const CREDENTIALS = { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' };

export interface Upstreams {
  readonly dynamodb: string;
  readonly sqs: string;
  /** moto_server: Secrets Manager, EventBridge, CloudWatch, STS. */
  readonly moto: string;
}

export interface EmulatedAccount {
  readonly upstreams: Upstreams;
  /** Clients straight to the emulators, for the rehearsal's own setup and checks (never recorded). */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly secrets: SecretsManagerClient;
  readonly events: EventBridgeClient;
  stop(): Promise<void>;
}

export async function startEmulatedAccount(): Promise<EmulatedAccount> {
  const database = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
  const queues = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const moto = await startMotoServer();
  const upstreams: Upstreams = {
    dynamodb: `http://127.0.0.1:${(database.address() as AddressInfo).port}`,
    sqs: `http://127.0.0.1:${queues.port}`,
    moto: moto.endpoint,
  };
  const common = { region: REHEARSAL_REGION, credentials: CREDENTIALS };
  const clients = {
    dynamodb: new DynamoDBClient({ ...common, endpoint: upstreams.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: upstreams.sqs }),
    secrets: new SecretsManagerClient({ ...common, endpoint: upstreams.moto }),
    events: new EventBridgeClient({ ...common, endpoint: upstreams.moto }),
  };
  return {
    upstreams,
    ...clients,
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await Promise.all([
        new Promise<void>((resolve) => database.close(() => resolve())),
        queues.stop(),
        moto.stop(),
      ]);
    },
  };
}

function arn(service: string, resource: string, region = REHEARSAL_REGION): string {
  return `arn:aws:${service}:${region}:${REHEARSAL_ACCOUNT}:${resource}`;
}

function nameOf(properties: Record<string, unknown> | undefined, key: string, logicalId: string): string {
  const name = properties?.[key];
  return typeof name === 'string' ? name : logicalId;
}

async function createTables(
  account: EmulatedAccount,
  template: Template,
  into: Map<string, ResolvedResource>,
) {
  const tables = [
    ...resourcesOfType(template, 'AWS::DynamoDB::GlobalTable'),
    ...resourcesOfType(template, 'AWS::DynamoDB::Table'),
  ];
  for (const [logicalId, resource] of tables) {
    const props = resource.Properties ?? {};
    const name = nameOf(props, 'TableName', logicalId);
    const indexes = (props.GlobalSecondaryIndexes as GlobalSecondaryIndex[] | undefined) ?? [];
    await account.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[],
        KeySchema: props.KeySchema as KeySchemaElement[],
        BillingMode: 'PAY_PER_REQUEST',
        ...(indexes.length > 0 && {
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
          })),
        }),
      }),
    );
    const tableArn = arn('dynamodb', `table/${name}`);
    into.set(logicalId, {
      ref: name,
      attributes: { Arn: tableArn, StreamArn: `${tableArn}/stream/rehearsal` },
    });
  }
}

/** Dead-letter queues first: a queue's redrive policy names its DLQ by the ARN the emulator gave it. */
async function createQueues(
  account: EmulatedAccount,
  template: Template,
  into: Map<string, ResolvedResource>,
) {
  const queues = resourcesOfType(template, 'AWS::SQS::Queue').sort(
    ([, a], [, b]) =>
      Number(a.Properties?.RedrivePolicy !== undefined) - Number(b.Properties?.RedrivePolicy !== undefined),
  );
  const emulatorArns = new Map<string, string>();
  for (const [logicalId, resource] of queues) {
    const props = resource.Properties ?? {};
    const name = nameOf(props, 'QueueName', logicalId);
    const attributes: Record<string, string> = {};
    for (const key of ['VisibilityTimeout', 'MaximumMessageSize', 'MessageRetentionPeriod', 'DelaySeconds']) {
      if (props[key] !== undefined) attributes[key] = String(props[key]);
    }
    const redrive = props.RedrivePolicy as
      | { deadLetterTargetArn?: unknown; maxReceiveCount?: number }
      | undefined;
    if (redrive) {
      const target = (redrive.deadLetterTargetArn as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
      const targetArn = target === undefined ? undefined : emulatorArns.get(target);
      if (targetArn === undefined) throw new Error(`${logicalId}: cannot resolve its dead-letter queue`);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: targetArn,
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    const { QueueUrl } = await account.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (!QueueUrl) throw new Error(`the SQS emulator created ${name} without a URL`);
    const { Attributes } = await account.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    emulatorArns.set(logicalId, Attributes?.QueueArn ?? '');
    // The URL the functions see goes through the recording proxy, whichever way the SDK picks its endpoint.
    // The URL as the emulator gave it (fauxqs finds a queue by its whole URL): the functions send it in the request
    // body, to the endpoint `AWS_ENDPOINT_URL_SQS` names, the recording proxy. (fauxqs's host, like
    // `sqs.us-east-1.127.0.0.1`, resolves nowhere, so a client that went to it instead would fail loudly.)
    into.set(logicalId, { ref: QueueUrl, attributes: { Arn: arn('sqs', name), QueueName: name, QueueUrl } });
  }
}

/** `AWS::SecretsManager::Secret`'s `GenerateSecretString`, as the template writes it. */
interface GenerateSecretString {
  readonly SecretStringTemplate?: string;
  readonly GenerateStringKey?: string;
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeLowercase?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
}

/** Secrets Manager's punctuation, as `GetRandomPassword` documents it. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * The value CloudFormation has Secrets Manager generate for `GenerateSecretString` (GetRandomPassword's rules: 32
 * characters unless told, each kind of character included unless excluded, at least one of each by default), in the
 * template's JSON under its key when it names both. Random like the real one: nothing may depend on the value.
 */
export function generatedSecretString(spec: GenerateSecretString): string {
  const kinds = [
    spec.ExcludeLowercase ? '' : 'abcdefghijklmnopqrstuvwxyz',
    spec.ExcludeUppercase ? '' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    spec.ExcludeNumbers ? '' : '0123456789',
    spec.ExcludePunctuation ? '' : PUNCTUATION,
    spec.IncludeSpace ? ' ' : '',
  ]
    .map((kind) => [...kind].filter((char) => !(spec.ExcludeCharacters ?? '').includes(char)).join(''))
    .filter((kind) => kind !== '');
  const alphabet = kinds.join('');
  const length = spec.PasswordLength ?? 32;
  if (alphabet === '' || length < 1) throw new Error('GenerateSecretString leaves no character to use');
  let password = '';
  do {
    password = Array.from({ length }, () => alphabet.charAt(randomInt(alphabet.length))).join('');
  } while (
    spec.RequireEachIncludedType !== false &&
    length >= kinds.length &&
    !kinds.every((kind) => [...password].some((char) => kind.includes(char)))
  );
  if (spec.SecretStringTemplate === undefined || spec.GenerateStringKey === undefined) return password;
  const template = JSON.parse(spec.SecretStringTemplate) as Record<string, unknown>;
  return JSON.stringify({ ...template, [spec.GenerateStringKey]: password });
}

/** The secret's value at creation: the template's own string, or one generated as its spec says. */
function initialValue(props: Record<string, unknown>): string | undefined {
  if (typeof props.SecretString === 'string') return props.SecretString;
  const spec = props.GenerateSecretString;
  return typeof spec === 'object' && spec !== null
    ? generatedSecretString(spec as GenerateSecretString)
    : undefined;
}

async function createSecrets(
  account: EmulatedAccount,
  template: Template,
  into: Map<string, ResolvedResource>,
) {
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::SecretsManager::Secret')) {
    const props = resource.Properties ?? {};
    const value = initialValue(props);
    const created = await account.secrets.send(
      new CreateSecretCommand({
        Name: nameOf(props, 'Name', logicalId),
        ...(typeof props.Description === 'string' && { Description: props.Description }),
        // Exactly the value the stack creates (or generates): the rehearsal runs with it before any is filled in.
        ...(value !== undefined && { SecretString: value }),
      }),
    );
    if (!created.ARN) throw new Error(`moto created ${logicalId} without an ARN`);
    into.set(logicalId, { ref: created.ARN, attributes: { Id: created.ARN } });
  }
}

async function createBuses(
  account: EmulatedAccount,
  template: Template,
  into: Map<string, ResolvedResource>,
) {
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::Events::EventBus')) {
    const name = nameOf(resource.Properties, 'Name', logicalId);
    const created = await account.events.send(new CreateEventBusCommand({ Name: name }));
    const busArn = created.EventBusArn ?? arn('events', `event-bus/${name}`);
    into.set(logicalId, { ref: name, attributes: { Arn: busArn, Name: name } });
  }
}

/** What `Ref` and `Fn::GetAtt` give for the resources the rehearsal does not create, named as CloudFormation would. */
function placeholderFor(logicalId: string, type: string, properties: Record<string, unknown> | undefined) {
  switch (type) {
    case 'AWS::IAM::Role':
      return { ref: logicalId, attributes: { Arn: `arn:aws:iam::${REHEARSAL_ACCOUNT}:role/${logicalId}` } };
    case 'AWS::Logs::LogGroup': {
      const name = nameOf(properties, 'LogGroupName', `/aws/rehearsal/${logicalId}`);
      return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
    }
    case 'AWS::Lambda::Function': {
      const name = nameOf(properties, 'FunctionName', logicalId);
      return { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
    }
    default:
      return { ref: logicalId, attributes: { Arn: arn('cloudformation', `rehearsal/${logicalId}`) } };
  }
}

/** Creates the template's data resources in the emulated account; returns every logical id's `Ref`/`GetAtt`. */
export async function deployResources(
  account: EmulatedAccount,
  template: Template,
): Promise<Map<string, ResolvedResource>> {
  const resolved = new Map<string, ResolvedResource>();
  await createTables(account, template, resolved);
  await createQueues(account, template, resolved);
  await createSecrets(account, template, resolved);
  await createBuses(account, template, resolved);
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!resolved.has(logicalId)) {
      resolved.set(logicalId, placeholderFor(logicalId, resource.Type, resource.Properties));
    }
  }
  return resolved;
}
