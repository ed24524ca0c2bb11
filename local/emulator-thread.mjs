// The embedded emulators (dynalite for DynamoDB, fauxqs for SQS) on a worker thread of their own: see emulators.ts.
// Plain JavaScript, so it starts under any loader (tsx, vitest, plain node) without compiling anything.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';

const database = dynalite({
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
  ...(workerData.databasePath && { path: workerData.databasePath }),
});
await new Promise((resolve, reject) => {
  database.once('error', reject);
  database.listen(0, '127.0.0.1', resolve);
});
const queues = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });

parentPort.once('message', async () => {
  await queues.stop();
  await new Promise((resolve) => database.close(() => resolve()));
  // Closing the port lets the thread end by itself: nothing else keeps its event loop alive.
  parentPort.close();
});
parentPort.postMessage({ dynamodbPort: database.address().port, sqsPort: queues.port });
