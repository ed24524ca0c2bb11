import { describe, expect, it } from 'vitest';
import { parseGatewaySettings } from '../../../lambdas/gateways/settings.js';
import { isAllowedSource, sourceNotAllowed } from '../../../lambdas/intake/source-allow-list.js';

// Issue #15, point 11: matching a request's source address against a gateway's `sourceIps`, IPv4 and IPv6, with the
// IPv4-mapped IPv6 form (`::ffff:192.0.2.1`, what a dual-stack Node socket reports for an IPv4 peer) matching IPv4.

const list = (cidrs: string[], mode: 'log' | 'enforce' = 'enforce') => {
  const settings = parseGatewaySettings(JSON.stringify({ standard: { sourceIps: { mode, cidrs } } }));
  const sourceIps = settings.standard.sourceIps;
  if (!sourceIps) throw new Error('no list parsed');
  return { settings: settings.standard, sourceIps };
};

describe('Source allow-list matching', () => {
  const { sourceIps } = list([
    '198.51.100.0/24',
    '192.0.2.7',
    '2001:db8:abcd::/48',
    '2001:db8:1::5',
    '::ffff:203.0.113.0/120',
  ]);

  it.each([
    ['an IPv4 address inside a block', '198.51.100.200'],
    ['a listed single IPv4 address', '192.0.2.7'],
    ['an IPv6 address inside a block', '2001:db8:abcd:12::1'],
    ['a listed single IPv6 address', '2001:db8:1::5'],
    ['the same IPv6 address written out in full', '2001:0db8:0001:0000:0000:0000:0000:0005'],
    ['an IPv4-mapped IPv6 address inside an IPv4 block', '::ffff:198.51.100.9'],
    ['an IPv4-mapped single address', '::FFFF:192.0.2.7'],
    ['an IPv4 address inside a block written in the mapped form', '203.0.113.10'],
  ])('allows %s', (_name, address) => {
    expect(isAllowedSource(sourceIps, address)).toBe(true);
  });

  it.each([
    ['an IPv4 address outside every block', '198.51.101.1'],
    ['the neighbour of a single address', '192.0.2.8'],
    ['an IPv6 address outside every block', '2001:db8:abce::1'],
    ['an IPv4-mapped IPv6 address outside every IPv4 block', '::ffff:198.51.101.1'],
    ['an IPv6 address whose last 32 bits look like a listed IPv4 address, not mapped', '2001:db9::c633:6401'],
    ['no address at all', undefined],
    ['an empty address', ''],
    ['something that is not an address', 'localhost'],
    ['an address with a port', '198.51.100.1:443'],
    ['an address with a zone index', 'fe80::1%eth0'],
  ])('refuses %s', (_name, address) => {
    expect(isAllowedSource(sourceIps, address)).toBe(false);
  });

  it('tells the front door nothing for a gateway without a list, and the mode and address for one outside it', () => {
    const none = parseGatewaySettings(undefined).stripe;
    expect(sourceNotAllowed(none, '198.51.101.1')).toBeUndefined();
    expect(sourceNotAllowed(undefined, '198.51.101.1')).toBeUndefined();
    const { settings } = list(['198.51.100.0/24'], 'log');
    expect(sourceNotAllowed(settings, '198.51.100.1')).toBeUndefined();
    expect(sourceNotAllowed(settings, '198.51.101.1')).toEqual({ mode: 'log', sourceIp: '198.51.101.1' });
    expect(sourceNotAllowed(settings, undefined)).toEqual({ mode: 'log', sourceIp: '' });
    expect(sourceNotAllowed(list(['198.51.100.0/24']).settings, '::1')).toEqual({
      mode: 'enforce',
      sourceIp: '::1',
    });
  });
});
