import { describe, expect, it } from 'vitest';
import { addressVerdict } from '../../../lambdas/delivery/address-policy.js';

// payhook POSTs to URLs merchants choose: this policy is what stops such a URL from reaching the function's own host,
// the cloud's metadata service (the role's credentials) or a VPC's insides. Each row is an address and whether it
// may be connected to under each combination of options; a wrong cell is a hole (or a merchant wrongly refused).

const NONE = { allowPrivateNetwork: false, allowLoopback: false };
const PRIVATE = { allowPrivateNetwork: true, allowLoopback: false };
const LOOPBACK = { allowPrivateNetwork: false, allowLoopback: true };
const BOTH = { allowPrivateNetwork: true, allowLoopback: true };

type Row = readonly [
  address: string,
  none: boolean,
  privateOnly: boolean,
  loopbackOnly: boolean,
  both: boolean,
];

const PUBLIC: Row = ['', true, true, true, true];
const PRIVATE_CLASS: Row = ['', false, true, false, true];
const LOOPBACK_CLASS: Row = ['', false, false, true, true];
const NEVER: Row = ['', false, false, false, false];

function rows(addresses: readonly string[], verdicts: Row): Row[] {
  return addresses.map((address) => [address, verdicts[1], verdicts[2], verdicts[3], verdicts[4]]);
}

const TABLE: readonly Row[] = [
  ...rows(
    [
      '8.8.8.8',
      '1.1.1.1',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.1.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '::8.8.8.8',
      '::ffff:8.8.8.8',
      '::ffff:808:808',
      '64:ff9b::8.8.8.8',
      '2002:808:808::1',
      '1::',
      'fbff:ffff::1',
      'fe00::1',
    ],
    PUBLIC,
  ),
  ...rows(
    [
      '10.0.0.0',
      '10.255.255.255',
      '100.64.0.1',
      '100.127.255.255',
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.1',
      '192.168.1.1',
      '198.18.0.1',
      '198.19.255.255',
      'fc00::1',
      'fd12:3456::1',
      'fec0::1',
      'FD12:3456::1',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '::ffff:192.168.0.1',
      '64:ff9b::10.1.2.3',
      '64:ff9b:1::1',
      '::ffff:0:10.0.0.1',
      '2002:a00:1::',
      '::172.16.0.1',
    ],
    PRIVATE_CLASS,
  ),
  ...rows(
    [
      '127.0.0.1',
      '127.255.255.254',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::0.0.0.1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::FFFF:7F00:1',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
    ],
    LOOPBACK_CLASS,
  ),
  ...rows(
    [
      '0.0.0.0',
      '0.1.2.3',
      '169.254.169.254',
      '169.254.170.2',
      '169.254.0.1',
      '224.0.0.1',
      '239.255.255.250',
      '240.0.0.1',
      '255.255.255.255',
      '::',
      '::0.0.0.0',
      'fd00:ec2::254',
      'fd00:ec2::253',
      'fe80::1',
      'febf::1',
      'ff02::1',
      'ff0e::1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '::ffff:0.0.0.0',
      '64:ff9b::169.254.169.254',
      '::ffff:255.255.255.255',
      '::ffff:224.0.0.1',
    ],
    NEVER,
  ),
  // Not addresses at all: a resolver or a URL handing over anything else is refused, never waved through.
  ...rows(
    [
      '',
      'localhost',
      'example.com',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3.4 ',
      '[::1]',
      'fe80::1%eth0',
      '::1%lo',
      ':::1',
      '1::2::3',
    ],
    NEVER,
  ),
];

describe('addressVerdict: which addresses a delivery may connect to, under each option', () => {
  it.each(TABLE)('%s: neither=%s privateNetwork=%s loopback=%s both=%s', (address, ...expected) => {
    const verdicts = [NONE, PRIVATE, LOOPBACK, BOTH].map(
      (options) => addressVerdict(address, options).allowed,
    );
    expect(verdicts).toEqual(expected);
  });
});

describe('addressVerdict: the reasons it gives', () => {
  it('says which range refused an address, so a merchant can be told why its endpoint is never called', () => {
    expect(addressVerdict('10.1.2.3', NONE)).toEqual({
      allowed: false,
      reason: '10.1.2.3 is in 10.0.0.0/8 (private network)',
    });
  });

  it('names the IPv4 address hidden inside an IPv6 one, so a disguised loopback is recognisable in the log', () => {
    const verdict = addressVerdict('::ffff:7f00:1', NONE);
    expect(verdict.allowed).toBe(false);
    expect(verdict).toHaveProperty('reason', expect.stringContaining('IPv4-mapped'));
    expect(verdict).toHaveProperty('reason', expect.stringContaining('127.0.0.1'));
  });

  it('refuses the metadata addresses even with every option on, so credentials are never one URL away', () => {
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      expect(addressVerdict(address, BOTH)).toMatchObject({
        allowed: false,
        reason: expect.stringContaining('metadata'),
      });
    }
  });

  it('quotes and cuts a non-address, so a garbage hostname cannot flood or forge a log line', () => {
    const verdict = addressVerdict(`evil\n${'x'.repeat(500)}`, BOTH);
    expect(verdict.allowed).toBe(false);
    expect(verdict).toHaveProperty('reason', expect.not.stringContaining('\n'));
    expect(verdict).toHaveProperty('reason', expect.stringMatching(/^"evil\\nx+" is not an IP address$/));
    expect(verdict.allowed === false && verdict.reason.length).toBeLessThan(100);
  });
});
