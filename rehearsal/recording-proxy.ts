import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import {
  type Account,
  type DescribedRequest,
  describeRequest,
  type RequiredPermission,
  UnrecognisedRequestError,
} from './aws-requests.js';
import type { Upstreams } from './emulated-account.js';
import { type Decision, evaluate, type Statement } from './iam.js';

/**
 * The rehearsal's view of the AWS API: every function's SDK calls come here (through `AWS_ENDPOINT_URL_<SERVICE>`),
 * are recorded with the IAM actions and resources they need, checked against the calling function's synthesised
 * policy, and only then forwarded to the emulator. A call the role would deny is answered `AccessDeniedException`,
 * as AWS would, so the function meets the failure a deployed stack would meet. The caller is told by the access key
 * in the request's SigV4 credential: each function runs with its own.
 */

export interface Caller {
  readonly functionId: string;
  readonly statements: readonly Statement[];
}

export interface CheckedPermission extends RequiredPermission {
  readonly decision: Decision;
}

export interface RecordedCall {
  readonly functionId: string;
  readonly service: string;
  readonly operation: string;
  readonly permissions: readonly CheckedPermission[];
  /** The emulator's HTTP status, or 403 when the rehearsal refused the call. */
  readonly status: number;
  /** Why the call could not be identified, when it could not (that fails the rehearsal too). */
  readonly unrecognised?: string;
}

export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  stop(): Promise<void>;
}

export interface RecordingProxyOptions {
  readonly upstreams: Upstreams;
  readonly account: Account;
  readonly callerOf: (accessKeyId: string) => Caller | undefined;
  /** The resource policy of what a call acts on, if it has one: its Deny statements apply too. */
  readonly resourcePolicyOf?: (arn: string) => readonly Statement[] | undefined;
}

function accessKeyOf(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization ?? '';
  return /Credential=([^/]+)\//.exec(authorization)?.[1];
}

function upstreamFor(service: string, upstreams: Upstreams): string {
  if (service === 'dynamodb') return upstreams.dynamodb;
  if (service === 'sqs') return upstreams.sqs;
  return upstreams.moto;
}

/** AWS's JSON-protocol error shape; every client the functions use reads it (SQS's JSON protocol included). */
function refuse(response: ServerResponse, message: string): void {
  response.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-errortype': 'AccessDeniedException',
    'x-amzn-requestid': 'rehearsal-denied',
  });
  response.end(JSON.stringify({ __type: 'AccessDeniedException', message }));
}

function forward(
  incoming: IncomingMessage,
  body: Buffer,
  upstream: string,
  response: ServerResponse,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(incoming.url ?? '/', upstream);
    const outgoing = request(
      target,
      { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => resolve(answer.statusCode ?? 502));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * The identity policy must allow the call, and no Deny of the resource's own policy may match it. Every SDK call to
 * AWS goes over TLS, so `aws:SecureTransport` is true (the queue policies deny anything else).
 */
function check(
  described: DescribedRequest,
  caller: Caller,
  options: RecordingProxyOptions,
): CheckedPermission[] {
  return described.permissions.map((permission) => {
    const call = { ...permission, context: { 'aws:SecureTransport': ['true'], ...permission.context } };
    const identity = evaluate(caller.statements, call);
    if (identity.kind !== 'allowed') return { ...permission, decision: identity };
    const denies = (options.resourcePolicyOf?.(permission.resource) ?? []).filter((s) => s.Effect === 'Deny');
    const resource = evaluate(denies, call);
    const deniedByResource =
      resource.kind === 'undecidable' || (resource.kind === 'denied' && resource.reason === 'explicit');
    return { ...permission, decision: deniedByResource ? resource : identity };
  });
}

async function handle(
  options: RecordingProxyOptions,
  calls: RecordedCall[],
  incoming: IncomingMessage,
  response: ServerResponse,
) {
  const body = await buffer(incoming);
  const accessKey = accessKeyOf(incoming) ?? '(unsigned)';
  const caller = options.callerOf(accessKey);
  const functionId = caller?.functionId ?? `unknown caller ${accessKey}`;
  let described: DescribedRequest;
  try {
    described = describeRequest(
      { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers, body },
      options.account,
    );
  } catch (error) {
    if (!(error instanceof UnrecognisedRequestError)) throw error;
    calls.push({
      functionId,
      service: '?',
      operation: '?',
      permissions: [],
      status: 403,
      unrecognised: error.message,
    });
    return refuse(response, `rehearsal: unrecognised request: ${error.message}`);
  }
  const permissions = caller ? check(described, caller, options) : [];
  const denied = !caller || permissions.some((permission) => permission.decision.kind !== 'allowed');
  const record = { functionId, service: described.service, operation: described.operation, permissions };
  if (denied) {
    calls.push({ ...record, status: 403 });
    const what = permissions.find((permission) => permission.decision.kind !== 'allowed');
    return refuse(
      response,
      `rehearsal: ${functionId} is not authorized to perform ${what?.action} on ${what?.resource}`,
    );
  }
  const status = await forward(incoming, body, upstreamFor(described.service, options.upstreams), response);
  calls.push({ ...record, status });
}

export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const calls: RecordedCall[] = [];
  const server = createServer((incoming, response) => {
    handle(options, calls, incoming, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
