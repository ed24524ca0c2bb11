/** Every reason ingest can give, as the `error` code of the JSON answer and the `reason` of the log line. */
export type RefusalReason =
  | 'unknown_gateway'
  | 'gateway_disabled'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'empty_body'
  | 'missing_signature'
  | 'malformed_signature'
  | 'invalid_signature'
  | 'timestamp_out_of_tolerance'
  | 'test_mode_not_accepted'
  | 'source_not_allowed';

/**
 * A refused webhook, as kept for diagnosis: enough to see who was refused, why and when, and to recognise the same
 * body again (its hash), never the secret, a signature value or the body itself.
 */
export interface RefusedRequest {
  /** A gateway's name, or `unknown` when the route named none. */
  readonly gateway: string;
  /** What the route named, when it is not a gateway (cut to 40 characters). */
  readonly requestedGateway?: string;
  readonly reason: RefusalReason;
  readonly status: number;
  /** ISO time the request arrived. */
  readonly at: string;
  readonly requestId: string;
  readonly sourceIp?: string;
  /** SHA-256 of the body as API Gateway delivered it (base64 text for a binary body), hex. */
  readonly bodySha256: string;
  readonly bodyBytes: number;
  /** Header names only, lower case, sorted: which signature headers came, not what they said. */
  readonly headerNames: readonly string[];
}

/** Where refused requests are kept (DynamoDB on AWS and locally). */
export interface RefusedRequestStore {
  put(refused: RefusedRequest): Promise<void>;
}
