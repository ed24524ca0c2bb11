import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/**
 * One execution environment of a function: a child process running the bundle on the Lambda runtime's Node, with
 * nothing in its environment but what it is given. Invocations go one at a time, as Lambda sends them to one
 * environment; `stop` ends it (the next `start` is a cold start, as after a deploy or a scale-out).
 */

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.mjs', import.meta.url));

export interface FunctionProcessOptions {
  readonly nodeBinary: string;
  readonly taskRoot: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly accountId: string;
}

export interface InvokeError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: readonly string[];
}

export type InvokeResult =
  | { readonly ok: true; readonly value: unknown; readonly ms: number }
  | { readonly ok: false; readonly error: InvokeError };

interface Ready {
  readonly initMs: number;
  readonly node: string;
}

type ChildMessage =
  | { readonly type: 'ready'; readonly initMs: number; readonly node: string }
  | { readonly type: 'init-error'; readonly error: InvokeError; readonly node: string }
  | ({ readonly type: 'result'; readonly id: string } & InvokeResult);

export class FunctionProcess {
  private readonly pending = new Map<string, (result: InvokeResult) => void>();

  private constructor(
    /** Everything the function wrote to stdout and stderr (its logs), kept for a failed scenario's report. */
    readonly output: string[],
    private readonly child: ChildProcess,
    private readonly options: FunctionProcessOptions,
    readonly ready: Ready,
  ) {}

  static async start(options: FunctionProcessOptions): Promise<FunctionProcess> {
    const child = fork(RUNTIME, [], {
      execPath: options.nodeBinary,
      // Not the parent's flags (tsx's loader): the function runs with what its environment says (NODE_OPTIONS).
      execArgv: [],
      cwd: options.taskRoot,
      env: { ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const ready = await new Promise<Ready>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`the function exited (${code}) before it was ready:\n${output.join('')}`));
      child.once('exit', onExit);
      child.once('message', (message: ChildMessage) => {
        child.off('exit', onExit);
        if (message.type === 'ready') resolve({ initMs: message.initMs, node: message.node });
        else if (message.type === 'init-error') {
          reject(new Error(`init failed on Node ${message.node}: ${message.error.errorMessage}`));
        } else reject(new Error('the function answered before it was ready'));
      });
    });
    const process = new FunctionProcess(output, child, options, ready);
    child.on('message', (message: ChildMessage) => process.settle(message));
    child.on('exit', (code) => process.failAll(`the function's process exited (${code})`));
    return process;
  }

  private settle(message: ChildMessage): void {
    if (message.type !== 'result') return;
    const resolve = this.pending.get(message.id);
    this.pending.delete(message.id);
    resolve?.(message.ok ? { ok: true, value: message.value, ms: message.ms } : message);
  }

  private failAll(reason: string): void {
    for (const resolve of this.pending.values()) {
      resolve({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: reason } });
    }
    this.pending.clear();
  }

  /**
   * One invocation, answered within the function's timeout, or a `Sandbox.Timedout` error as Lambda reports it (and
   * the environment ends, as Lambda's does).
   */
  invoke(event: unknown): Promise<InvokeResult> {
    if (this.child.killed || this.child.exitCode !== null || !this.child.connected) {
      return Promise.resolve({
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: 'the execution environment has ended' },
      });
    }
    const id = randomUUID();
    const timeoutMs = this.options.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // As Lambda does: a timed-out environment is not reused; the next invocation needs a new one.
        this.child.kill();
        resolve({
          ok: false,
          error: { errorType: 'Sandbox.Timedout', errorMessage: `timed out after ${timeoutMs} ms` },
        });
      }, timeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.child.send({
        type: 'invoke',
        id,
        event,
        requestId: id,
        timeoutMs,
        accountId: this.options.accountId,
      });
    });
  }

  /** The function's JSON log lines (Powertools and the runtime's JSON format), parsed. */
  logLines(): Array<Record<string, unknown>> {
    return this.output
      .join('')
      .split('\n')
      .flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
  }
}
