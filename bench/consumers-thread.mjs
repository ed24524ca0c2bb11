// The consumers' thread (consumers-thread.ts) is TypeScript, and a worker thread does not inherit the main thread's tsx
// loader: register it here, then run the module.
import { register } from 'tsx/esm/api';

register();
await import('./consumers-thread.ts');
