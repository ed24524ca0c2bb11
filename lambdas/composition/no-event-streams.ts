/**
 * Put in place of `@smithy/core/event-streams` by the functions' bundling only (`lib/payhook-function.ts`, an esbuild
 * alias, as `lambda-credentials.ts` is for the credential chain). The SDK's protocol code imports it lazily for
 * operations whose input or output is an event stream; no operation payhook calls (SQS, DynamoDB, Secrets Manager,
 * EventBridge) has one, yet the import bundled it: about 15 KB of every function (issue #20: ingest's bundle). Should
 * one ever be called, it fails here, loudly, instead of sending anything.
 */
function unused(): never {
  throw new Error('payhook bundles no event-stream support: no operation it calls streams events');
}

export class EventStreamSerde {
  constructor() {
    unused();
  }
}

export const eventStreamSerdeProvider = unused;
