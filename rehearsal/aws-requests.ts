/**
 * What IAM must allow for one AWS API request, read off the wire: the recording proxy of the deploy rehearsal sees
 * the HTTP requests the Lambda bundles' AWS SDK v3 clients send to the emulators, and checks every permission
 * described here against the function's policy before it lets the request through.
 *
 * The mapping follows the Service Authorization Reference, including where one API operation is authorised as other
 * actions (a transaction's items, SQS batches) or on several resources (one per table, bus or secret). Anything not
 * understood is refused with UnrecognisedRequestError rather than guessed at: a request the rehearsal cannot check is a
 * request it must not wave through.
 */

export interface HttpRequestSeen {
  readonly method: string;
  /** The request target, query string included. */
  readonly path: string;
  /** Lower-case names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface Account {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** The partition-key attribute name of a table, for dynamodb:LeadingKeys; undefined if unknown. */
  readonly partitionKeyOf: (tableName: string) => string | undefined;
  /** The full ARN of a Secrets Manager secret given by name or by (partial or full) ARN; undefined if unknown. */
  readonly secretArnOf: (secretId: string) => string | undefined;
}

export interface RequiredPermission {
  /** For example 'dynamodb:PutItem'. */
  readonly action: string;
  /** An ARN, or '*' for actions that take no resource. */
  readonly resource: string;
  /** Request condition keys and their values; a key is absent when its value cannot be read from the request. */
  readonly context: Readonly<Record<string, readonly string[]>>;
}

export interface DescribedRequest {
  /** The IAM service prefix: dynamodb, sqs, secretsmanager, events, cloudwatch or sts. */
  readonly service: string;
  /** The API operation name, for example 'TransactWriteItems'. */
  readonly operation: string;
  /** Every permission the request needs; all of them must be allowed. */
  readonly permissions: readonly RequiredPermission[];
}

export class UnrecognisedRequestError extends Error {
  override readonly name = 'UnrecognisedRequestError';
}

type Service = 'dynamodb' | 'sqs' | 'secretsmanager' | 'events' | 'cloudwatch' | 'sts';
type JsonObject = Readonly<Record<string, unknown>>;

/** One API call decoded from the wire, before any IAM mapping. */
interface ApiCall {
  readonly service: Service;
  readonly operation: string;
  readonly protocol: 'json' | 'query' | 'cbor';
  /**
   * The request's members: the JSON body, or the query protocol's top-level parameters as strings, or nothing for
   * CBOR (never decoded: the only CBOR operation understood, PutMetricData, needs no member to find its resource).
   */
  readonly input: JsonObject;
  /** The path without its query string: the query protocol may address an SQS queue by its URL's path. */
  readonly pathname: string;
}

/** The x-amz-target prefixes (and smithy-rpc-v2-cbor service names) of the JSON protocols, by service. */
const TARGET_PREFIXES: ReadonlyMap<string, Service> = new Map([
  ['DynamoDB_20120810', 'dynamodb'],
  ['AmazonSQS', 'sqs'],
  ['secretsmanager', 'secretsmanager'],
  ['AWSEvents', 'events'],
  ['GraniteServiceVersion20100801', 'cloudwatch'],
  ['AWSSecurityTokenServiceV20110615', 'sts'],
]);

/** SigV4 signing names, by service: CloudWatch signs as 'monitoring'. */
const SIGNING_NAMES: ReadonlyMap<string, Service> = new Map([
  ['dynamodb', 'dynamodb'],
  ['sqs', 'sqs'],
  ['secretsmanager', 'secretsmanager'],
  ['events', 'events'],
  ['monitoring', 'cloudwatch'],
  ['sts', 'sts'],
]);

const CBOR_PATH = /^\/service\/([^/]+)\/operation\/([^/]+)$/;

export function describeRequest(request: HttpRequestSeen, account: Account): DescribedRequest {
  const call = decodeCall(request);
  const permissions = permissionsFor(call, account);
  if (permissions === undefined) {
    throw new UnrecognisedRequestError(
      `unrecognised ${call.service} operation ${call.operation} (${seen(request)})`,
    );
  }
  return { service: call.service, operation: call.operation, permissions };
}

function permissionsFor(call: ApiCall, account: Account): readonly RequiredPermission[] | undefined {
  switch (call.service) {
    case 'dynamodb':
      return dynamoDbPermissions(call, account);
    case 'sqs':
      return sqsPermissions(call, account);
    case 'secretsmanager':
      return secretsManagerPermissions(call, account);
    case 'events':
      return eventBridgePermissions(call, account);
    case 'cloudwatch':
      return cloudWatchPermissions(call);
    case 'sts':
      return call.operation === 'GetCallerIdentity' ? [anywhere('sts:GetCallerIdentity')] : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding the wire protocols

function decodeCall(request: HttpRequestSeen): ApiCall {
  const [pathname = '', query = ''] = splitOnce(request.path, '?');
  const target = header(request, 'x-amz-target');
  if (target !== undefined) {
    const [prefix = '', operation = ''] = splitOnce(target, '.');
    const service = TARGET_PREFIXES.get(prefix);
    if (service === undefined || operation === '') {
      throw new UnrecognisedRequestError(`unrecognised x-amz-target ${target} (${seen(request)})`);
    }
    return { service, operation, protocol: 'json', input: jsonBody(request), pathname };
  }

  const cbor = CBOR_PATH.exec(pathname);
  if (cbor !== null) {
    const service = TARGET_PREFIXES.get(decodeURIComponent(cbor[1] ?? ''));
    const operation = decodeURIComponent(cbor[2] ?? '');
    if (service === undefined) {
      throw new UnrecognisedRequestError(`unrecognised smithy-rpc-v2-cbor service (${seen(request)})`);
    }
    return { service, operation, protocol: 'cbor', input: {}, pathname };
  }

  // The query protocol: Action and its parameters in the query string, a form-encoded body, or both.
  const params = new URLSearchParams(query);
  if (request.body.length > 0 && isFormEncoded(request)) {
    for (const [name, value] of new URLSearchParams(request.body.toString('utf8')))
      params.append(name, value);
  }
  const operation = params.get('Action');
  const signingName = credentialScopeService(request, params);
  const service = signingName === undefined ? undefined : SIGNING_NAMES.get(signingName);
  if (operation === null || service === undefined) {
    throw new UnrecognisedRequestError(
      `no x-amz-target, smithy-rpc-v2-cbor path, or query-protocol Action of a known service (${seen(request)})`,
    );
  }
  // Only top-level members: the describers need none of the query protocol's flattened lists ('Entry.1.Id').
  const input: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!name.includes('.') && !(name in input)) input[name] = value;
  }
  return { service, operation, protocol: 'query', input, pathname };
}

/** The service of the SigV4 credential scope, from the authorization header or a presigned URL's X-Amz-Credential. */
function credentialScopeService(request: HttpRequestSeen, params: URLSearchParams): string | undefined {
  const authorization = header(request, 'authorization');
  const credential =
    (authorization === undefined ? undefined : /Credential=([^,\s]+)/.exec(authorization)?.[1]) ??
    params.get('X-Amz-Credential') ??
    undefined;
  // AKID/date/region/service/aws4_request
  const parts = credential?.split('/');
  return parts !== undefined && parts.length === 5 ? parts[3] : undefined;
}

function jsonBody(request: HttpRequestSeen): JsonObject {
  if (request.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new UnrecognisedRequestError(`body is not JSON (${seen(request)})`);
  }
  if (!isObject(parsed)) throw new UnrecognisedRequestError(`body is not a JSON object (${seen(request)})`);
  return parsed;
}

function isFormEncoded(request: HttpRequestSeen): boolean {
  const contentType = header(request, 'content-type');
  // Without a content type, a query-protocol body is still form-encoded; JSON bodies come with x-amz-target.
  return (
    contentType === undefined || contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')
  );
}

function header(request: HttpRequestSeen, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What the request looked like, for error messages: enough to find it in the proxy's recording. */
/** What was seen, for an error: never the body, which can hold a secret's value or a payment item. */
function seen(request: HttpRequestSeen): string {
  const target = header(request, 'x-amz-target');
  return `${request.method} ${request.path}${target === undefined ? '' : ` x-amz-target: ${target}`} (${request.body.length}-byte body)`;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB

/** Item operations and the member holding the item's key attributes. */
const DYNAMODB_ITEM_OPERATIONS: ReadonlyMap<string, 'Key' | 'Item'> = new Map([
  ['GetItem', 'Key'],
  ['PutItem', 'Item'],
  ['UpdateItem', 'Key'],
  ['DeleteItem', 'Key'],
]);

/** Transaction item kinds, the action IAM authorises each as, and the member holding its key attributes. */
const TRANSACTION_ITEMS: ReadonlyMap<
  string,
  { readonly action: string; readonly keyMember: 'Key' | 'Item' }
> = new Map([
  ['Put', { action: 'dynamodb:PutItem', keyMember: 'Item' }],
  ['Update', { action: 'dynamodb:UpdateItem', keyMember: 'Key' }],
  ['Delete', { action: 'dynamodb:DeleteItem', keyMember: 'Key' }],
  ['ConditionCheck', { action: 'dynamodb:ConditionCheckItem', keyMember: 'Key' }],
  ['Get', { action: 'dynamodb:GetItem', keyMember: 'Key' }],
]);

function dynamoDbPermissions(call: ApiCall, account: Account): readonly RequiredPermission[] | undefined {
  const { operation, input } = call;
  const keyMember = DYNAMODB_ITEM_OPERATIONS.get(operation);
  if (keyMember !== undefined) {
    const table = requiredString(input, 'TableName', call);
    const leadingKey = partitionKeyValue(account, table, objectMember(input, keyMember));
    return [
      {
        action: `dynamodb:${operation}`,
        resource: tableArn(account, table),
        context: leadingKeys(leadingKey === undefined ? [] : [leadingKey]),
      },
    ];
  }
  switch (operation) {
    case 'Query': {
      const table = requiredString(input, 'TableName', call);
      const leadingKey = queriedPartitionKey(account, table, input);
      return [
        {
          action: 'dynamodb:Query',
          resource: tableArn(account, table, stringMember(input, 'IndexName')),
          context: leadingKeys(leadingKey === undefined ? [] : [leadingKey]),
        },
      ];
    }
    case 'Scan': {
      const table = requiredString(input, 'TableName', call);
      const resource = tableArn(account, table, stringMember(input, 'IndexName'));
      return [{ action: 'dynamodb:Scan', resource, context: {} }];
    }
    case 'DescribeTable':
      return [
        {
          action: 'dynamodb:DescribeTable',
          resource: tableArn(account, requiredString(input, 'TableName', call)),
          context: {},
        },
      ];
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return transactionPermissions(call, account);
    case 'BatchWriteItem':
      return batchPermissions(call, account, (request) => {
        // Each entry is { PutRequest: { Item } } or { DeleteRequest: { Key } }.
        const entry = isObject(request) ? request : {};
        const put = objectMember(entry, 'PutRequest');
        return put !== undefined
          ? objectMember(put, 'Item')
          : objectMember(objectMember(entry, 'DeleteRequest') ?? {}, 'Key');
      });
    case 'BatchGetItem':
      return batchPermissions(call, account, (key) => (isObject(key) ? key : undefined));
    default:
      return undefined;
  }
}

/**
 * IAM has no TransactWriteItems or TransactGetItems action: each item is authorised as the item operation it is, on
 * its own table, with dynamodb:EnclosingOperation naming the transaction.
 */
function transactionPermissions(call: ApiCall, account: Account): readonly RequiredPermission[] {
  return arrayMember(call.input, 'TransactItems').map((item, index) => {
    const [kind, body] = isObject(item) ? (Object.entries(item)[0] ?? []) : [];
    const meaning = kind === undefined ? undefined : TRANSACTION_ITEMS.get(kind);
    if (meaning === undefined || !isObject(body)) {
      throw new UnrecognisedRequestError(
        `DynamoDB ${call.operation} item ${index} is neither of the known kinds`,
      );
    }
    const table = requiredString(body, 'TableName', call);
    const leadingKey = partitionKeyValue(account, table, objectMember(body, meaning.keyMember));
    return {
      action: meaning.action,
      resource: tableArn(account, table),
      context: {
        ...leadingKeys(leadingKey === undefined ? [] : [leadingKey]),
        'dynamodb:EnclosingOperation': [call.operation],
      },
    };
  });
}

/**
 * BatchWriteItem and BatchGetItem are authorised as themselves, once per table; dynamodb:LeadingKeys carries every
 * partition key of that table's items (policies on it use ForAllValues, so each must match).
 */
function batchPermissions(
  call: ApiCall,
  account: Account,
  keyOf: (entry: unknown) => JsonObject | undefined,
): readonly RequiredPermission[] {
  const requestItems = objectMember(call.input, 'RequestItems') ?? {};
  return Object.entries(requestItems).map(([table, requests]) => {
    // BatchWriteItem: a list of write requests per table; BatchGetItem: { Keys: [...] } per table.
    const entries = Array.isArray(requests)
      ? requests
      : isObject(requests)
        ? arrayMember(requests, 'Keys')
        : [];
    const values = entries.map((entry) => partitionKeyValue(account, table, keyOf(entry)));
    const known = values.filter((value): value is string => value !== undefined);
    return {
      action: `dynamodb:${call.operation}`,
      resource: tableArn(account, table),
      // An item whose partition key cannot be read makes the whole set unknown, rather than a set that hides it.
      context: leadingKeys(known.length === values.length ? distinct(known) : []),
    };
  });
}

function tableArn(account: Account, table: string, index?: string): string {
  // TableName may itself be a table ARN.
  const base = table.startsWith('arn:') ? table : arn(account, 'dynamodb', `table/${table}`);
  return index === undefined ? base : `${base}/index/${index}`;
}

function tableNameOf(table: string): string {
  return table.startsWith('arn:') ? (table.split(':table/')[1] ?? table) : table;
}

function leadingKeys(values: readonly string[]): Record<string, readonly string[]> {
  return values.length === 0 ? {} : { 'dynamodb:LeadingKeys': values };
}

/** The partition key's value among an item's attributes (S or N, as the string IAM compares), if known. */
function partitionKeyValue(
  account: Account,
  table: string,
  attributes: JsonObject | undefined,
): string | undefined {
  const partitionKey = account.partitionKeyOf(tableNameOf(table));
  if (partitionKey === undefined || attributes === undefined) return undefined;
  return scalarValue(attributes[partitionKey]);
}

/** A DynamoDB-JSON attribute value as a string when it is a string or a number ({ S } or { N }). */
function scalarValue(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  return stringMember(value, 'S') ?? stringMember(value, 'N');
}

/**
 * The partition key value a Query names: `pk = :v` (either way round, the name possibly a #placeholder) among the
 * KeyConditionExpression's AND-ed conditions, or the legacy KeyConditions' EQ on the partition key. A query on a
 * global secondary index keyed on another attribute names no table partition key, so gets none.
 */
function queriedPartitionKey(account: Account, table: string, input: JsonObject): string | undefined {
  const partitionKey = account.partitionKeyOf(tableNameOf(table));
  if (partitionKey === undefined) return undefined;

  const legacy = objectMember(objectMember(input, 'KeyConditions') ?? {}, partitionKey);
  if (legacy !== undefined) {
    const values = arrayMember(legacy, 'AttributeValueList');
    return stringMember(legacy, 'ComparisonOperator') === 'EQ' && values.length === 1
      ? scalarValue(values[0])
      : undefined;
  }

  const expression = stringMember(input, 'KeyConditionExpression');
  if (expression === undefined) return undefined;
  const names = objectMember(input, 'ExpressionAttributeNames') ?? {};
  const values = objectMember(input, 'ExpressionAttributeValues') ?? {};
  const nameOf = (operand: string) => (operand.startsWith('#') ? stringMember(names, operand) : operand);
  for (const condition of expression.split(/\s+AND\s+/i)) {
    const equality = /^\(*\s*([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)\s*\)*$/.exec(condition.trim());
    if (equality === null) continue;
    const [left = '', right = ''] = [equality[1], equality[2]];
    const [attribute, placeholder] = right.startsWith(':') ? [left, right] : [right, left];
    if (placeholder.startsWith(':') && nameOf(attribute) === partitionKey)
      return scalarValue(values[placeholder]);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// SQS

/** Operations on one queue, and the action IAM authorises each as: batches are authorised as their single form. */
const SQS_QUEUE_ACTIONS: ReadonlyMap<string, string> = new Map([
  ['SendMessage', 'sqs:SendMessage'],
  ['SendMessageBatch', 'sqs:SendMessage'],
  ['ReceiveMessage', 'sqs:ReceiveMessage'],
  ['DeleteMessage', 'sqs:DeleteMessage'],
  ['DeleteMessageBatch', 'sqs:DeleteMessage'],
  ['ChangeMessageVisibility', 'sqs:ChangeMessageVisibility'],
  ['ChangeMessageVisibilityBatch', 'sqs:ChangeMessageVisibility'],
  ['GetQueueAttributes', 'sqs:GetQueueAttributes'],
  ['SetQueueAttributes', 'sqs:SetQueueAttributes'],
  ['PurgeQueue', 'sqs:PurgeQueue'],
  ['ListQueueTags', 'sqs:ListQueueTags'],
  ['ListDeadLetterSourceQueues', 'sqs:ListDeadLetterSourceQueues'],
]);

function sqsPermissions(call: ApiCall, account: Account): readonly RequiredPermission[] | undefined {
  const { operation, input } = call;
  const action = SQS_QUEUE_ACTIONS.get(operation);
  if (action !== undefined) {
    // The old query protocol could post to the queue URL itself instead of naming it in QueueUrl.
    const queueUrl =
      stringMember(input, 'QueueUrl') ?? (call.protocol === 'query' ? call.pathname : undefined);
    const queueName = queueUrl === undefined ? undefined : lastPathSegment(queueUrl);
    if (queueName === undefined) throw new UnrecognisedRequestError(`SQS ${operation} names no queue`);
    return [{ action, resource: arn(account, 'sqs', queueName), context: {} }];
  }
  switch (operation) {
    case 'GetQueueUrl': {
      const queueName = requiredString(input, 'QueueName', call);
      const owner = stringMember(input, 'QueueOwnerAWSAccountId') ?? account.accountId;
      return [
        {
          action: 'sqs:GetQueueUrl',
          resource: arn({ ...account, accountId: owner }, 'sqs', queueName),
          context: {},
        },
      ];
    }
    case 'ListQueues':
      return [anywhere('sqs:ListQueues')];
    default:
      return undefined;
  }
}

/** The queue name in a queue URL, whatever its host and port (the emulators' URLs are not AWS's). */
function lastPathSegment(url: string): string | undefined {
  const path = URL.canParse(url) ? new URL(url).pathname : splitOnce(url, '?')[0];
  const segments = path.split('/').filter((segment) => segment !== '');
  return segments.at(-1);
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets Manager

/** Operations on one secret named by SecretId. */
const SECRET_OPERATIONS: ReadonlySet<string> = new Set([
  'GetSecretValue',
  'DescribeSecret',
  'PutSecretValue',
  'UpdateSecret',
  'DeleteSecret',
  'RestoreSecret',
  'RotateSecret',
  'CancelRotateSecret',
  'ListSecretVersionIds',
  'UpdateSecretVersionStage',
  'GetResourcePolicy',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'TagResource',
  'UntagResource',
]);

function secretsManagerPermissions(
  call: ApiCall,
  account: Account,
): readonly RequiredPermission[] | undefined {
  const { operation, input } = call;
  if (SECRET_OPERATIONS.has(operation)) {
    const resource = secretArn(account, requiredString(input, 'SecretId', call));
    return [{ action: `secretsmanager:${operation}`, resource, context: {} }];
  }
  switch (operation) {
    case 'BatchGetSecretValue': {
      // BatchGetSecretValue itself, then GetSecretValue on each secret, and ListSecrets when chosen by filters.
      const listed = arrayMember(input, 'SecretIdList').filter((id): id is string => typeof id === 'string');
      return [
        anywhere('secretsmanager:BatchGetSecretValue'),
        ...(input.Filters === undefined ? [] : [anywhere('secretsmanager:ListSecrets')]),
        ...listed.map((id) => ({
          action: 'secretsmanager:GetSecretValue',
          resource: secretArn(account, id),
          context: {},
        })),
      ];
    }
    case 'ListSecrets':
    case 'GetRandomPassword':
      return [anywhere(`secretsmanager:${operation}`)];
    default:
      return undefined;
  }
}

function secretArn(account: Account, secretId: string): string {
  // A name alone cannot give the random suffix AWS appends to secret ARNs; account.secretArnOf knows it when it can.
  return (
    account.secretArnOf(secretId) ??
    (secretId.startsWith('arn:') ? secretId : arn(account, 'secretsmanager', `secret:${secretId}`))
  );
}

// ---------------------------------------------------------------------------------------------------------------
// EventBridge

/** PutEvents is authorised once per bus its entries go to, each with the sources and detail types sent there. */
function eventBridgePermissions(call: ApiCall, account: Account): readonly RequiredPermission[] | undefined {
  if (call.operation !== 'PutEvents') return undefined;
  const buses = new Map<string, { sources: string[]; detailTypes: string[] }>();
  for (const entry of arrayMember(call.input, 'Entries')) {
    const fields = isObject(entry) ? entry : {};
    const bus = stringMember(fields, 'EventBusName') ?? 'default';
    const resource = bus.startsWith('arn:') ? bus : arn(account, 'events', `event-bus/${bus}`);
    const seenOnBus = buses.get(resource) ?? { sources: [], detailTypes: [] };
    buses.set(resource, seenOnBus);
    addDistinct(seenOnBus.sources, stringMember(fields, 'Source'));
    addDistinct(seenOnBus.detailTypes, stringMember(fields, 'DetailType'));
  }
  return [...buses].map(([resource, { sources, detailTypes }]) => ({
    action: 'events:PutEvents',
    resource,
    context: {
      ...(sources.length === 0 ? {} : { 'events:source': sources }),
      ...(detailTypes.length === 0 ? {} : { 'events:detail-type': detailTypes }),
    },
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// CloudWatch

function cloudWatchPermissions(call: ApiCall): readonly RequiredPermission[] | undefined {
  if (call.operation !== 'PutMetricData') return undefined;
  // A CBOR body is not decoded, so its namespace stays unknown.
  const namespace = stringMember(call.input, 'Namespace');
  return [
    {
      action: 'cloudwatch:PutMetricData',
      resource: '*',
      context: namespace === undefined ? {} : { 'cloudwatch:namespace': [namespace] },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

function arn(account: Account, service: string, resource: string): string {
  return `arn:${account.partition}:${service}:${account.region}:${account.accountId}:${resource}`;
}

function anywhere(action: string): RequiredPermission {
  return { action, resource: '*', context: {} };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMember(object: JsonObject, name: string): string | undefined {
  const value = Object.hasOwn(object, name) ? object[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function objectMember(object: JsonObject, name: string): JsonObject | undefined {
  const value = Object.hasOwn(object, name) ? object[name] : undefined;
  return isObject(value) ? value : undefined;
}

function arrayMember(object: JsonObject, name: string): readonly unknown[] {
  const value = Object.hasOwn(object, name) ? object[name] : undefined;
  return Array.isArray(value) ? value : [];
}

function requiredString(object: JsonObject, name: string, call: ApiCall): string {
  const value = stringMember(object, name);
  if (value === undefined) {
    throw new UnrecognisedRequestError(`${call.service} ${call.operation} without a ${name} string`);
  }
  return value;
}

function addDistinct(values: string[], value: string | undefined): void {
  if (value !== undefined && !values.includes(value)) values.push(value);
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
