/**
 * The `payhook` command line: developer tools for the local stack. Built per run from the I/O it is given, so tests
 * run it in-process exactly as `npx payhook` does.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDeliveries } from './deliveries.js';
import { registerDlq } from './dlq.js';
import { CliError, type CliIo } from './io.js';
import { registerListen } from './listen.js';
import { registerPayments } from './payments.js';
import { registerReconcile } from './reconcile.js';
import { registerRejects } from './rejects.js';
import { registerSend } from './send.js';
import { registerStatus } from './status.js';
import { escapeField, terminalSafeIo } from './terminal-safe.js';
import { registerUnmatched } from './unmatched.js';

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '0.0.0';
}

/**
 * The program, writing through `io` and throwing instead of exiting (`exitOverride`), so the caller decides what
 * an error means: {@link runCli} turns it into an exit code. Everything it writes is made terminal-safe first
 * (see `terminal-safe.ts`): no command can print a control or bidi character raw.
 */
export function buildProgram(rawIo: CliIo): Command {
  const io = terminalSafeIo(rawIo);
  const program = new Command('payhook')
    .description(
      'Developer tools for payhook: send signed sample webhooks, inspect payments in the local stack.',
    )
    .version(packageVersion())
    // Set before the commands are added, which inherit them.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)');
  registerSend(program, io);
  registerPayments(program, io);
  registerReconcile(program, io);
  registerDlq(program, io);
  registerDeliveries(program, io);
  registerStatus(program, io);
  registerRejects(program, io);
  registerUnmatched(program, io);
  registerListen(program, io);
  return program;
}

/**
 * Runs the program on `argv` (`['node', 'payhook', ...args]`) and returns the exit code: 0 on success (and for
 * `--help`), commander's code for usage errors, which it has already printed, and 1 with one `error: ...` line on
 * stderr for anything else.
 */
export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Error messages quote what they could not find or read: a reference, an SDK's message, an answer's body.
  const io = terminalSafeIo(rawIo);
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      // One line, as promised: a newline in what the message quotes shows as `\n`.
      io.stderr(`error: ${escapeField(error.message)}\n`);
      return error.exitCode;
    }
    // A bug rather than a user error: keep the stack, it is what a report needs.
    io.stderr(
      `error: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
