/**
 * What the commands need from the process, passed in rather than reached for, so the tests run the whole program
 * in-process and read exactly what a user would see.
 */
export interface CliIo {
  /** Writes to standard output; the text carries its own newlines. */
  readonly stdout: (text: string) => void;
  /** Writes to standard error; the text carries its own newlines. */
  readonly stderr: (text: string) => void;
  /** The environment (`PAYHOOK_DATA_DIR`, `PAYHOOK_GATEWAY_SETTINGS`). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether standard error is a terminal (progress bars are drawn only then). @default false */
  readonly interactive?: boolean;
}

/** The process's own streams and environment. */
export const PROCESS_IO: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  interactive: process.stderr.isTTY === true,
};

/**
 * A failure the user can act on: printed as one `error: <message>` line, with no stack trace, and the process exits
 * with `exitCode`. Anything else thrown is a bug in payhook and is reported as such.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
