import { SQSClient } from '@aws-sdk/client-sqs';
import type { ClientSet } from './client-set.js';

/**
 * The role's SQS client. Against an emulator (`AWS_ENDPOINT_URL[_SQS]` set, or the local stack's endpoint) requests go
 * to that endpoint rather than to the host inside each queue URL, which emulators fill with names that do not resolve
 * (fauxqs: `sqs.us-east-1.localhost`). On AWS nothing is set and the SDK's defaults apply.
 */
export function sqsOf(clients: ClientSet): SQSClient {
  return clients.once('sqs', () => {
    const endpoint =
      clients.options.endpoints?.sqs ?? clients.env.AWS_ENDPOINT_URL_SQS ?? clients.env.AWS_ENDPOINT_URL;
    return new SQSClient({
      ...clients.common(),
      ...(endpoint && { endpoint, useQueueUrlAsEndpoint: false }),
    });
  });
}
