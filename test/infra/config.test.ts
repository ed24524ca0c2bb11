import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../lambdas/definitions.js';
import {
  defaultsTableRows,
  type FunctionRole,
  type PayhookConfig,
  parsePayhookConfig,
  SETTING_DEFAULTS,
  SETTINGS,
  type Setting,
  type SettingKey,
} from '../../lib/config.js';
import { synthesise } from './support.js';

const KEYS = Object.keys(SETTINGS) as SettingKey[];

type FunctionResource = { Type: string; Properties: { Environment: { Variables: Record<string, unknown> } } };
const setting = (key: SettingKey) => SETTINGS[key] as Setting<unknown, unknown>;

/** The rows of the README's "Default settings" table: `[setting, default, context keys]`. */
function readmeDefaultsTable(): string[][] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n### Default settings\n')[1];
  if (!section) throw new Error('README has no "### Default settings" section');
  const lines = section.trimStart().split('\n');
  const table = lines.slice(
    0,
    lines.findIndex((line) => !line.startsWith('|')),
  );
  expect(table.slice(0, 2)).toEqual(['| setting | default | context key |', '|---|---|---|']);
  return table.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim()),
  );
}

describe('Settings table: the README', () => {
  it("lists every setting in the defaults table exactly as the settings table reads (rows of fixed facts, '—', aside)", () => {
    const rows = readmeDefaultsTable().filter(([, , keys]) => keys !== '—');
    // On failure, paste the expected rows into README.md's "Default settings" table.
    expect(rows.map((row) => `| ${row.join(' | ')} |`)).toEqual(
      defaultsTableRows().map((row) => `| ${row.join(' | ')} |`),
    );
  });

  it('names every key once', () => {
    const named = defaultsTableRows().flatMap(([, , keys]) => [...keys.matchAll(/^`(\w+)`|, `(\w+)`/g)]);
    expect(named.map((match) => match[1] ?? match[2]).sort()).toEqual([...KEYS].sort());
  });
});

describe('Settings table: validation', () => {
  it('allows exactly the keys of the table, and lists them when refusing another', () => {
    expect(() => parsePayhookConfig({ gateway: ['stripe'] })).toThrow(`(allowed: ${KEYS.join(', ')})`);
    expect(() => parsePayhookConfig({ toString: 1 })).toThrow(/payhook.toString: unknown key/);
  });

  it.each(KEYS)('%s: refuses a value of the wrong shape, naming the key', (key) => {
    expect(() => parsePayhookConfig({ [key]: 'not valid' })).toThrow(new RegExp(`payhook\\.${key}\\b`));
  });

  it('accepts every default as a configured value', () => {
    const defaults = Object.fromEntries(
      Object.entries(SETTING_DEFAULTS).filter(([, value]) => value !== undefined),
    ) as PayhookConfig;
    expect(parsePayhookConfig(defaults)).toEqual(defaults);
  });

  it('refuses gateway settings ingest would refuse, at parse time, naming the gateway key', () => {
    expect(() => parsePayhookConfig({ gatewaySettings: { stripe: { tolerence: 60 } } })).toThrow(
      /payhook.gatewaySettings: stripe: unknown key "tolerence"/,
    );
    // `enabled` comes from `gateways`, whatever gatewaySettings says.
    expect(parsePayhookConfig({ gatewaySettings: { enabled: ['paypal'] } })).toEqual({
      gatewaySettings: { enabled: ['paypal'] },
    });
  });
});

describe('Settings table: the functions’ environment', () => {
  const FUNCTIONS: Readonly<Record<FunctionRole, readonly string[]>> = {
    ingest: ['payhook: verifies, normalises and queues gateway webhooks'],
    consumers: PRIORITIES.map(
      (priority) => `payhook: applies ${priority}-priority gateway events to payments`,
    ),
    reconciler: ['payhook: asks the gateways about payments still pending'],
    register: ['payhook: registers payments the checkout expects'],
  };
  /** Every function's environment variables, by role. */
  const environments = (config: PayhookConfig) => {
    const functions = Object.values(synthesise(config).template.findResources('AWS::Lambda::Function'));
    const variablesOf = (description: string) => {
      const fn = functions.find((resource) => resource.Properties.Description === description);
      if (!fn) throw new Error(`no function described "${description}"`);
      return fn.Properties.Environment.Variables as Record<string, unknown>;
    };
    return Object.fromEntries(
      Object.entries(FUNCTIONS).map(([role, descriptions]) => [role, descriptions.map(variablesOf)]),
    ) as Record<FunctionRole, Record<string, unknown>[]>;
  };
  const configured: PayhookConfig = {
    gateways: ['stripe', 'adyen'],
    acceptTestMode: false,
    gatewaySettings: { adyen: { captureMode: 'manual' } },
    historyRetentionDays: 100,
    historyKeepsPayload: true,
    dedupeWindows: { stripe: 3600 },
    reconcileGraceSeconds: 120,
    pendingExpirySeconds: 3600,
    rejectsTtlDays: 30,
    rejectsPerMinute: 10,
  };
  /** What each variable holds under `configured`, written out by hand rather than by the table's encoders. */
  const expected: Readonly<Record<string, string>> = {
    PAYHOOK_ACCEPT_TEST_MODE: 'false',
    PAYHOOK_GATEWAY_SETTINGS: '{"adyen":{"captureMode":"manual"},"enabled":["stripe","adyen"]}',
    PAYHOOK_HISTORY_RETENTION_DAYS: '100',
    PAYHOOK_HISTORY_KEEPS_PAYLOAD: 'true',
    PAYHOOK_DEDUPE_WINDOWS: '{"stripe":3600}',
    PAYHOOK_RECONCILE_GRACE: '120',
    PAYHOOK_PENDING_EXPIRY: '3600',
    PAYHOOK_REJECTS_TTL_DAYS: '30',
    PAYHOOK_REJECTS_PER_MINUTE: '10',
  };
  const withVariable = KEYS.filter((key) => setting(key).env);

  it('has a variable for exactly the settings a handler reads', () => {
    expect(withVariable.map((key) => setting(key).env?.variable).sort()).toEqual(
      Object.keys(expected).sort(),
    );
  });

  it('writes each configured setting to the functions that read it, and to no other', () => {
    const environment = environments(configured);
    for (const key of withVariable) {
      const env = setting(key).env;
      if (!env) continue;
      for (const role of Object.keys(FUNCTIONS) as FunctionRole[]) {
        for (const variables of environment[role]) {
          expect(variables[env.variable], `${env.variable} on ${role}`).toBe(
            env.functions.includes(role) ? expected[env.variable] : undefined,
          );
        }
      }
    }
  });

  it('gives the registration function the history retention as the consumers: both write payment history', () => {
    const environment = environments({ historyRetentionDays: 100 });
    const retention = (role: FunctionRole) =>
      environment[role].map((variables) => variables.PAYHOOK_HISTORY_RETENTION_DAYS);
    expect(retention('register')).toEqual(['100']);
    expect(retention('consumers')).toEqual(['100', '100', '100']);
    // The reconciler only reads payments.
    expect(retention('reconciler')).toEqual([undefined]);
    expect(retention('ingest')).toEqual([undefined]);
  });

  it('writes a setting marked "when configured" only when configured: unset, the handler has the same default', () => {
    for (const config of [{}, { historyKeepsPayload: false }] as PayhookConfig[]) {
      const environment = environments(config);
      for (const key of withVariable) {
        const env = setting(key).env;
        if (!env) continue;
        for (const role of env.functions) {
          for (const variables of environment[role]) {
            if (env.written === 'always')
              expect(variables[env.variable], env.variable).toEqual(expect.any(String));
            else expect(variables[env.variable], env.variable).toBeUndefined();
          }
        }
      }
    }
  });

  it('builds the same stack from the defaults configured explicitly, but for the variables then written', () => {
    const whenConfigured = new Set(
      withVariable
        .map((key) => setting(key).env)
        .flatMap((env) => (env?.written === 'when configured' ? [env.variable] : [])),
    );
    const withoutThose = (config: PayhookConfig) => {
      const template = synthesise(config).template.toJSON();
      for (const resource of Object.values(template.Resources) as FunctionResource[]) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        for (const name of whenConfigured) delete resource.Properties.Environment.Variables[name];
      }
      return template;
    };
    const defaults = Object.fromEntries(
      Object.entries(SETTING_DEFAULTS).filter(([, value]) => value !== undefined),
    ) as PayhookConfig;
    expect(withoutThose(defaults)).toEqual(withoutThose({}));
  });
});
