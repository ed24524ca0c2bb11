import { type Command, InvalidArgumentError } from 'commander';
import { PRIORITIES, type Priority } from '../../lambdas/definitions.js';
import { dataDirFromEnv } from '../../local/contract.js';
import type { CliIo } from '../io.js';
import {
  type DeployedStackOptions,
  deployedTable,
  deployedTarget,
  localTable,
  localTarget,
  type OncallTarget,
  type StackTable,
  type TableSource,
} from './target.js';
import type { DeadLetterFilter } from './types.js';

/** Options every on-call command takes: where to act, and which dead letters. */
export interface TargetOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
}

export interface FilterOptions {
  readonly queue?: string;
  readonly gateway?: string;
  readonly type?: string;
  readonly error?: string;
  readonly since?: Date;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--since 90m`: a moment that long ago. */
export function parseDuration(text: string): Date {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError('a duration such as 30m, 2h or 7d');
  return new Date(Date.now() - Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1) * 1000);
}

export function parseQueue(text: string): string {
  if (text !== 'all' && !(PRIORITIES as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`one of ${PRIORITIES.join(', ')}, all`);
  }
  return text;
}

export function filterOf(options: FilterOptions): DeadLetterFilter {
  return {
    ...(options.queue && options.queue !== 'all' && { queues: [options.queue as Priority] }),
    ...(options.gateway && { gateway: options.gateway }),
    ...(options.type && { eventType: options.type }),
    ...(options.error && { errorClass: options.error }),
    ...(options.since && { since: options.since }),
  };
}

/** The deployed stack `--stack`, `--region` and `--profile` name, reached at PAYHOOK_AWS_ENDPOINT_URL when set. */
export function deployedStackOf(
  io: CliIo,
  options: TargetOptions & { readonly stack: string },
): DeployedStackOptions {
  const env = io.env ?? process.env;
  return {
    stack: options.stack,
    ...(options.region && { region: options.region }),
    ...(options.profile && { profile: options.profile }),
    ...(env.PAYHOOK_AWS_ENDPOINT_URL && { endpoint: env.PAYHOOK_AWS_ENDPOINT_URL }),
  };
}

/** The local stack (found through PAYHOOK_DATA_DIR), or the deployed stack named by --stack. */
export async function targetOf(io: CliIo, options: TargetOptions): Promise<OncallTarget> {
  if (options.stack) return deployedTarget(deployedStackOf(io, { ...options, stack: options.stack }));
  return localTarget(dataDirFromEnv(io.env ?? process.env));
}

/** One of the stack's tables: the local stack's (found through PAYHOOK_DATA_DIR), or the one --stack names. */
export async function tableOf(io: CliIo, options: TargetOptions, table: StackTable): Promise<TableSource> {
  if (options.stack) return deployedTable(deployedStackOf(io, { ...options, stack: options.stack }), table);
  return localTable(dataDirFromEnv(io.env ?? process.env), table);
}

/** Adds `--stack`, `--region` and `--profile`, the options of every command that works on a deployed stack too. */
export function withStackOptions(
  command: Command,
  stackHelp = 'a deployed payhook stack (default: the local stack)',
): Command {
  return command
    .option('--stack <name>', stackHelp)
    .option('--region <region>', "the deployed stack's region")
    .option('--profile <profile>', 'the AWS profile to use');
}
