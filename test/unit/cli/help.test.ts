import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/program.js';
import { listSamples } from '../../../events/index.js';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import { capturingIo, emptyDataDir } from './fake-stack.js';

async function help(...args: string[]) {
  const { dataDir, remove } = emptyDataDir();
  try {
    const io = capturingIo(dataDir);
    const code = await runCli(['node', 'payhook', ...args], io);
    return { code, out: io.out(), err: io.err() };
  } finally {
    remove();
  }
}

describe('payhook --help', () => {
  it.each([
    [
      ['--help'],
      ['Usage: payhook [options] [command]', 'send [options] <gateway> [sample]', 'payments', 'unmatched'],
    ],
    [
      ['send', '--help'],
      [
        'Usage: payhook send [options] <gateway> [sample]',
        '--count <n>',
        '--concurrency <c>',
        '--duplicate',
        '--url <url>',
      ],
    ],
    [
      ['payments', 'show', '--help'],
      ['Usage: payhook payments show [options] <gateway> <identifier>', '--json'],
    ],
    [
      ['dlq', '--help'],
      ['Usage: payhook dlq [options] [command]', 'list', 'show', 'redrive', 'renormalise', 'purge'],
    ],
    [
      ['dlq', 'renormalise', '--help'],
      [
        'Usage: payhook dlq renormalise [options]',
        '--queue <queue>',
        '--gateway <gateway>',
        '--error <class>',
        '--since <duration>',
        '--limit <n>',
        '--dry-run',
        '--json',
        '--stack <name>',
        'PAYHOOK_GATEWAY_SETTINGS',
      ],
    ],
    [
      ['deliveries', '--help'],
      [
        'Usage: payhook deliveries [options] [command]',
        'status',
        'list',
        'show',
        'redrive',
        'resume',
        'replay',
      ],
    ],
    [
      ['deliveries', 'replay', '--help'],
      [
        'Usage: payhook deliveries replay [options] <destination>',
        '--since <when>',
        '--until <when>',
        '--type <type>',
        '--gateway <gateway>',
        '--archive <name>',
        '--dry-run',
        '--wait',
        '--json',
        '--stack <name>',
      ],
    ],
    [
      ['deliveries', 'redrive', '--help'],
      [
        'Usage: payhook deliveries redrive [options] <destination>',
        '--gateway <gateway>',
        '--type <type>',
        '--error <class>',
        '--since <duration>',
        '--limit <n>',
        '--rate <n>',
        '--dry-run',
        '--json',
        '--stack <name>',
      ],
    ],
    [
      ['unmatched', 'list', '--help'],
      [
        'Usage: payhook unmatched list [options]',
        '--gateway <gateway>',
        '--since <when>',
        '--json',
        '--stack',
      ],
    ],
  ])('%j prints usage on stdout and exits 0', async (args, expected) => {
    const { code, out, err } = await help(...args);
    expect(code).toBe(0);
    expect(err).toBe('');
    for (const text of expected) expect(out).toContain(text);
  });

  it('send --help lists every gateway with its samples, marking the default', async () => {
    const { out } = await help('send', '--help');
    for (const gateway of GATEWAYS) {
      const line = out.split('\n').find((each) => each.trimStart().startsWith(`${gateway} `));
      expect(line, gateway).toBeDefined();
      for (const sample of listSamples(gateway)) expect(line).toContain(sample);
      expect(line).toMatch(/\*/);
    }
    expect(out).toMatch(/paystack\s+.*charge\.success\*/);
  });

  it('dlq renormalise takes no --type: a parked webhook has no event type until it normalises', async () => {
    expect((await help('dlq', 'renormalise', '--help')).out).not.toContain('--type');
    const { code, err } = await help('dlq', 'renormalise', '--type', 'charge.success');
    expect(code).toBe(1);
    expect(err).toContain("error: unknown option '--type'");
  });

  it('an unknown command is a usage error', async () => {
    const { code, err } = await help('sned');
    expect(code).toBe(1);
    expect(err).toContain("error: unknown command 'sned'");
    expect(err).toContain('(Did you mean send?)');
  });
});
