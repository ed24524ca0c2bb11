import { createHash, randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from 'aws-lambda';
import { REHEARSAL_ACCOUNT, REHEARSAL_REGION } from './emulated-account.js';

/**
 * The events AWS hands the functions, built as the services build them: API Gateway HTTP API payload 2.0 for the
 * routes the template declares (a literal route key, no path parameters), SQS event-source records made from
 * messages really received from the queue, and the Scheduler target's input.
 */

export interface HttpRequest {
  /** The template's route key, `POST /webhooks/paystack`. */
  readonly routeKey: string;
  readonly body?: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** API Gateway base64-encodes bodies it does not take for text; both arrive at the function. */
  readonly base64?: boolean;
  /** The IAM caller API Gateway puts in the context of an `AWS_IAM` route. */
  readonly iamCaller?: string;
}

function iamAuthorizer(userArn: string) {
  return {
    iam: {
      accessKey: 'ASIAREHEARSALCALLER',
      accountId: REHEARSAL_ACCOUNT,
      callerId: 'AROAREHEARSAL:checkout',
      cognitoIdentity: null,
      principalOrgId: null,
      userArn,
      userId: 'AROAREHEARSAL:checkout',
    },
  };
}

export function httpApiEvent(request: HttpRequest): APIGatewayProxyEventV2 {
  const [method = 'POST', path = '/'] = request.routeKey.split(' ');
  const bytes = request.body === undefined ? undefined : Buffer.from(request.body);
  const now = new Date();
  const event = {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: path,
    rawQueryString: '',
    // API Gateway lower-cases header names and adds its own.
    headers: {
      ...Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
      ),
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-proto': 'https',
      'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      ...(bytes !== undefined && { 'content-length': String(bytes.length) }),
    },
    requestContext: {
      accountId: REHEARSAL_ACCOUNT,
      apiId: 'rehearsal',
      domainName: 'rehearsal.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'rehearsal',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'rehearsal' },
      requestId: randomUUID(),
      routeKey: request.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(request.iamCaller !== undefined && { authorizer: iamAuthorizer(request.iamCaller) }),
    },
    isBase64Encoded: request.base64 === true,
    ...(bytes !== undefined && { body: request.base64 ? bytes.toString('base64') : bytes.toString('utf8') }),
  };
  return event as APIGatewayProxyEventV2;
}

function lambdaAttributes(message: Message) {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? 'String',
        stringValue: value.StringValue,
        binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );
}

/** What the event source mapping delivers for received messages: one record each, in the Lambda shape. */
export function sqsEvent(messages: readonly Message[], queueArn: string): SQSEvent {
  const records = messages.map((message): SQSRecord => {
    const body = message.Body ?? '';
    const system = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? randomUUID(),
      receiptHandle: message.ReceiptHandle ?? '',
      body,
      attributes: {
        ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
        SentTimestamp: system.SentTimestamp ?? String(Date.now()),
        SenderId: system.SenderId ?? 'AROAREHEARSAL:ingest',
        ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: lambdaAttributes(message) as SQSRecord['messageAttributes'],
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REHEARSAL_REGION,
    };
  });
  return { Records: records };
}

/**
 * A schedule with `Input` passes exactly that JSON. Without one, Scheduler "delivers a default notification to the
 * target" (Target.Input in the Scheduler API reference), whose shape is not documented: the rehearsal sends `{}`, and
 * the reconciler treats anything but the confirmations scope as a full run.
 */
export function schedulerEvent(input: unknown): unknown {
  return typeof input === 'string' ? JSON.parse(input) : {};
}
