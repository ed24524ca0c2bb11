import { describe, expect, it } from 'vitest';
import { GATEWAYS } from '../../../lambdas/domain/webhook-event.js';
import { InvalidSettingsError, parseGatewaySettings } from '../../../lambdas/gateways/settings.js';
import { PUBLISHED_SOURCE_IPS, parseCidr } from '../../../lambdas/gateways/source-ips.js';

// Issue #15, point 11: an optional source-address allow-list per gateway, `"sourceIps": {"mode", "cidrs"}`, with the
// gateway's published list as the default `cidrs` where it publishes one.

const settingsWith = (gateway: string, sourceIps: unknown) =>
  parseGatewaySettings(JSON.stringify({ [gateway]: { sourceIps } }));

function refusal(json: string): string {
  try {
    parseGatewaySettings(json);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    return (error as Error).message;
  }
  throw new Error(`settings were accepted: ${json}`);
}

describe('Gateway settings: sourceIps', () => {
  it('checks no source address for any gateway unless configured', () => {
    const settings = parseGatewaySettings('{"stripe":{"toleranceSeconds":600}}');
    for (const gateway of GATEWAYS) expect(settings[gateway].sourceIps).toBeUndefined();
  });

  it.each([
    ['paystack', ['52.31.139.75', '52.49.173.169', '52.214.14.220']],
    ['razorpay', ['52.66.75.174', '13.232.194.134', '18.96.225.0/26', '18.99.161.0/26']],
    ['stripe', ['3.18.12.63', '54.187.216.72']],
  ] as const)('defaults %s to its shipped published list, in log mode', (gateway, some) => {
    const settings = settingsWith(gateway, {});
    expect(settings[gateway].sourceIps?.mode).toBe('log');
    expect(settings[gateway].sourceIps?.cidrs).toEqual(PUBLISHED_SOURCE_IPS[gateway]?.cidrs);
    expect(settings[gateway].sourceIps?.cidrs).toEqual(expect.arrayContaining([...some]));
    // Only the gateway that asked for a list gets one.
    for (const other of GATEWAYS.filter((name) => name !== gateway)) {
      expect(settings[other].sourceIps).toBeUndefined();
    }
    expect(settingsWith(gateway, { mode: 'enforce' })[gateway].sourceIps).toEqual({
      mode: 'enforce',
      cidrs: PUBLISHED_SOURCE_IPS[gateway]?.cidrs,
    });
  });

  it('ships each list with its source, the date it was taken, and whether it is confirmed, every entry valid', () => {
    expect(Object.keys(PUBLISHED_SOURCE_IPS).sort()).toEqual(['paystack', 'razorpay', 'stripe']);
    for (const list of Object.values(PUBLISHED_SOURCE_IPS)) {
      expect(list.source).toMatch(/^https:\/\//);
      expect(list.taken).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(list.evidence.length).toBeGreaterThan(0);
      for (const entry of list.cidrs) expect(typeof parseCidr(entry), entry).toBe('object');
    }
    // Neither Paystack's page nor Stripe's file could be read first-hand: both are marked UNCONFIRMED.
    expect(PUBLISHED_SOURCE_IPS.paystack?.confirmed).toBe(false);
    expect(PUBLISHED_SOURCE_IPS.stripe?.confirmed).toBe(false);
    expect(PUBLISHED_SOURCE_IPS.razorpay?.confirmed).toBe(true);
  });

  it('refuses a list without cidrs for Adyen, which publishes a DNS name rather than addresses, and names it', () => {
    const message = refusal('{"adyen":{"sourceIps":{"mode":"enforce"}}}');
    expect(message).toContain('adyen.sourceIps.cidrs');
    expect(message).toContain('out.adyen.com');
    expect(message).toContain('give "cidrs"');
  });

  it.each(['flutterwave', 'oxapay', 'standard'])(
    'refuses a list without cidrs for %s, which publishes none',
    (gateway) => {
      expect(refusal(JSON.stringify({ [gateway]: { sourceIps: {} } }))).toContain(
        `${gateway}.sourceIps.cidrs`,
      );
    },
  );

  it('takes custom IPv4 and IPv6 addresses and blocks, for every gateway, Adyen included', () => {
    const cidrs = [
      '198.51.100.0/24',
      '192.0.2.7',
      '2001:db8::/32',
      '2001:db8:1::5',
      '::ffff:203.0.113.0/120',
    ];
    const settings = parseGatewaySettings(
      JSON.stringify({
        adyen: { sourceIps: { mode: 'enforce', cidrs } },
        stripe: { sourceIps: { cidrs: ['0.0.0.0/0', '::/0'] } },
      }),
    );
    expect(settings.adyen.sourceIps).toEqual({ mode: 'enforce', cidrs });
    expect(settings.stripe.sourceIps).toEqual({ mode: 'log', cidrs: ['0.0.0.0/0', '::/0'] });
  });

  it.each([
    ['10.0.0.0/33', 'from 0 to 32'],
    ['2001:db8::/129', 'from 0 to 128'],
    ['10.0.0.0/', 'from 0 to 32'],
    ['10.0.0.0/-1', 'from 0 to 32'],
    ['10.0.0.0/ 8', 'from 0 to 32'],
    ['10.0.0.0/8/8', 'from 0 to 32'],
    ['10.0.0.0/0x8', 'from 0 to 32'],
    ['10.0.0.256', 'not an IPv4 or IPv6 address'],
    ['1.2.3.4.5/32', 'not an IPv4 or IPv6 address'],
    ['stripe.com', 'not an IPv4 or IPv6 address'],
    ['out.adyen.com', 'not an IPv4 or IPv6 address'],
    [' 10.0.0.1', 'not an IPv4 or IPv6 address'],
    ['fe80::1%eth0', 'not an IPv4 or IPv6 address'],
    ['2001:db8:::1/64', 'not an IPv4 or IPv6 address'],
    ['', 'not an IPv4 or IPv6 address'],
  ])('refuses the bad entry %j, naming the gateway, its index and the entry', (bad, why) => {
    const message = refusal(
      JSON.stringify({ stripe: { sourceIps: { mode: 'enforce', cidrs: ['192.0.2.0/24', bad] } } }),
    );
    expect(message).toContain('stripe.sourceIps.cidrs[1]');
    expect(message).toContain(JSON.stringify(bad));
    expect(message).toContain(why);
  });

  it.each([['block'], ['Enforce'], ['LOG'], [true], [null], [1]])('refuses the mode %j', (mode) => {
    const message = refusal(JSON.stringify({ paystack: { sourceIps: { mode } } }));
    expect(message).toContain('paystack.sourceIps.mode');
    expect(message).toContain('expected log or enforce');
  });

  it.each([
    ['not an object', '"52.31.139.75"', 'paystack.sourceIps'],
    ['a list', '["52.31.139.75"]', 'paystack.sourceIps'],
    ['an unknown key', '{"cidr":["52.31.139.75"]}', 'unknown key "cidr"'],
    ['an empty list', '{"cidrs":[]}', 'paystack.sourceIps.cidrs: expected at least one'],
    ['a list of non-strings', '{"cidrs":[52]}', 'paystack.sourceIps.cidrs: expected a list of strings'],
    [
      'one string for a list',
      '{"cidrs":"52.31.139.75"}',
      'paystack.sourceIps.cidrs: expected a list of strings',
    ],
  ])('refuses %s', (_name, sourceIps, expected) => {
    expect(refusal(`{"paystack":{"sourceIps":${sourceIps}}}`)).toContain(expected);
  });
});
