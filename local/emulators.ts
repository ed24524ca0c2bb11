/**
 * The embedded DynamoDB and SQS emulators, run on a worker thread of their own.
 *
 * On AWS, DynamoDB and SQS are services on other machines: their work never takes CPU from the functions. In one
 * Node process they would share the functions' event loop, and under load the emulators' own work (dynalite parsing
 * every condition expression, LevelDB encoding, fauxqs's HTTP server) took about a quarter of it, in front of the
 * ingest handler and the consumers. On their own thread they take a core of their own when there is one, as the
 * services would; the calls still go over HTTP through the same SDK clients, to the same emulators.
 */
import { Worker } from 'node:worker_threads';

export interface Emulators {
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string };
  stop(): Promise<void>;
}

interface Ready {
  readonly dynamodbPort: number;
  readonly sqsPort: number;
}

/** Starts dynalite (in memory, or on LevelDB files under `databasePath`) and fauxqs on loopback, on a worker thread. */
export function startEmulators(options: { readonly databasePath?: string }): Promise<Emulators> {
  const worker = new Worker(new URL('./emulator-thread.mjs', import.meta.url), {
    workerData: { databasePath: options.databasePath },
    // The functions' log lines are written by the main thread; the emulators write none (fauxqs's logger is off).
    stdout: false,
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`the emulators did not start: ${error.message}`));
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new Error(`their thread exited with code ${code}`)));
    worker.once('message', ({ dynamodbPort, sqsPort }: Ready) => {
      worker.off('error', failed);
      // Once running, an error on their thread (a failed shutdown) is reported, not thrown at the whole process: the
      // stack's calls to the emulators then fail, as calls to an unreachable service would.
      worker.on('error', (error) =>
        process.stderr.write(`payhook local: the emulators' thread failed: ${error.message}\n`),
      );
      resolve({
        endpoints: { sqs: `http://127.0.0.1:${sqsPort}`, dynamodb: `http://127.0.0.1:${dynamodbPort}` },
        stop: async () => {
          worker.postMessage('stop');
          await exited;
        },
      });
    });
  });
}
