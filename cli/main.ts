/**
 * Entry point of `npx payhook` (see bin/payhook.mjs): runs the program on the process's arguments and leaves the
 * exit code to the process, so pending output is flushed before it ends.
 */
import { PROCESS_IO } from './io.js';
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv, PROCESS_IO);
