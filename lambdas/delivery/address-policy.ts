import { BlockList, isIP } from 'node:net';

/**
 * Which IP addresses payhook may connect to when it POSTs an event to a merchant's endpoint. The URL is the
 * merchant's to choose, so without this check it could point payhook's function at anything the function can reach:
 * its own runtime on loopback, the cloud's metadata and credential services, or hosts inside a VPC (SSRF).
 *
 * Every address falls in one of four classes (the ranges are listed below):
 *
 * | class    | for example                                             | allowed when                              |
 * | -------- | ------------------------------------------------------- | ----------------------------------------- |
 * | public   | 8.8.8.8, 2606:4700::1111                                | always                                    |
 * | private  | 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7        | `allowPrivateNetwork`                     |
 * | loopback | 127/8, ::1, ::ffff:127.0.0.1                            | `allowLoopback` (`allowPrivateNetwork` is not enough) |
 * | never    | 0/8, ::, 169.254/16, fe80::/10, fd00:ec2::/64, 224/4, 240/4, ff00::/8 | never, whatever the options |
 *
 * Loopback has its own switch because it is not "a private network a merchant might live in": it is this very
 * function's host (in Lambda, the runtime API and any extension listen there), and only tests and local runs deliver
 * to it. A deployment in a VPC that delivers to internal endpoints sets `allowPrivateNetwork` and still cannot reach
 * loopback.
 *
 * An IPv6 address that embeds an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, also written `::ffff:7f00:1`; IPv4-compatible
 * `::a.b.c.d`; IPv4-translated `::ffff:0:a.b.c.d`; NAT64 `64:ff9b::/96`; 6to4 `2002::/16`) is judged by the IPv4
 * address inside it, since that is where the packets end up.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AddressOptions {
  readonly allowPrivateNetwork: boolean;
  readonly allowLoopback: boolean;
}

type AddressClass = 'private' | 'loopback' | 'never';

interface Range {
  readonly cidr: string;
  readonly class: AddressClass;
  readonly name: string;
  readonly blocks: BlockList;
}

/**
 * One range of a family the table already knows: asking `isIP` here would compile Node's IPv6 pattern at module load
 * (about 5 ms of every cold start), which an IPv4 endpoint then never needs.
 */
function rangeOf(family: 'ipv4' | 'ipv6') {
  return (cidr: string, addressClass: AddressClass, name: string): Range => {
    const [network = '', prefix = ''] = cidr.split('/');
    const blocks = new BlockList();
    blocks.addSubnet(network, Number(prefix), family);
    return { cidr, class: addressClass, name, blocks };
  };
}

const ipv4 = rangeOf('ipv4');
const ipv6 = rangeOf('ipv6');

const IPV4_RANGES: readonly Range[] = [
  // Not "private" but never: connecting to 0.0.0.0 reaches the local host on Linux, so it would be a way round
  // `allowLoopback`; no merchant endpoint lives in 0/8.
  ipv4('0.0.0.0/8', 'never', '"this network"'),
  ipv4('10.0.0.0/8', 'private', 'private network'),
  ipv4('100.64.0.0/10', 'private', 'carrier-grade NAT'),
  ipv4('127.0.0.0/8', 'loopback', 'loopback'),
  // Never, even with `allowPrivateNetwork`: link-local is not routed beyond the host's own link, so no merchant lives
  // there, and in AWS the whole block is the platform's: the instance metadata service at 169.254.169.254 (which
  // hands out the role's credentials), the container credentials endpoint at 169.254.170.2, the VPC DNS resolver at
  // 169.254.169.253. A VPC deployment that allows private networks must still not let a merchant's URL read them.
  ipv4('169.254.0.0/16', 'never', 'link-local, the cloud metadata and credentials services'),
  ipv4('172.16.0.0/12', 'private', 'private network'),
  ipv4('192.0.0.0/24', 'private', 'IETF protocol assignments'),
  ipv4('192.168.0.0/16', 'private', 'private network'),
  ipv4('198.18.0.0/15', 'private', 'benchmarking network'),
  // Never: not unicast destinations, so no endpoint can be there whatever the deployment allows.
  ipv4('224.0.0.0/4', 'never', 'multicast'),
  ipv4('240.0.0.0/4', 'never', 'reserved and broadcast'),
];

const IPV6_RANGES: readonly Range[] = [
  // `::` reaches the local host as 0.0.0.0 does.
  ipv6('::/128', 'never', 'the unspecified address'),
  ipv6('::1/128', 'loopback', 'loopback'),
  // Before fc00::/7, which contains it: AWS's IPv6 metadata (fd00:ec2::254), DNS (::253) and time (::123)
  // services, refused for the reason 169.254/16 is.
  ipv6('fd00:ec2::/64', 'never', 'the cloud metadata and credentials services'),
  ipv6('fe80::/10', 'never', 'link-local'),
  ipv6('ff00::/8', 'never', 'multicast'),
  ipv6('fc00::/7', 'private', 'unique local'),
  // Deprecated (RFC 3879) but still the local networks of whoever kept using it.
  ipv6('fec0::/10', 'private', 'site-local'),
  // The local-use NAT64 prefix (RFC 8215): where the IPv4 address sits depends on the network's own prefix length,
  // so it cannot be judged by the address inside; it is private as the network that defines it.
  ipv6('64:ff9b:1::/48', 'private', 'local-use NAT64'),
];

const ALLOWED: AddressVerdict = { allowed: true };

function judge(ip: string, found: Range, options: AddressOptions): AddressVerdict {
  const allowed =
    (found.class === 'private' && options.allowPrivateNetwork) ||
    (found.class === 'loopback' && options.allowLoopback);
  return allowed ? ALLOWED : { allowed: false, reason: `${ip} is in ${found.cidr} (${found.name})` };
}

function ipv4Verdict(ip: string, options: AddressOptions): AddressVerdict {
  const found = IPV4_RANGES.find((candidate) => candidate.blocks.check(ip, 'ipv4'));
  return found ? judge(ip, found, options) : ALLOWED;
}

/** The eight 16-bit groups of an address `isIP` already accepted as IPv6 (without a zone index). */
function ipv6Groups(ip: string): number[] {
  const groupsOf = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((piece) => {
          if (!piece.includes('.')) return [Number.parseInt(piece, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const first = groupsOf(head);
  if (tail === undefined) return first;
  const last = groupsOf(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

function dotted(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The IPv4 address an IPv6 one carries, and the name of the form it is carried in; `undefined` when none. */
function embeddedIpv4(groups: readonly number[]): { ipv4: string; form: string } | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const ipv4 = dotted(g6, g7);
  const zeroTo3 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroTo3 && g4 === 0 && g5 === 0xffff) return { ipv4, form: 'an IPv4-mapped address' };
  if (zeroTo3 && g4 === 0xffff && g5 === 0) return { ipv4, form: 'an IPv4-translated address' };
  // `::` and `::1` are in this block too; the ranges above judge them first.
  if (zeroTo3 && g4 === 0 && g5 === 0) return { ipv4, form: 'an IPv4-compatible address' };
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return { ipv4, form: 'a NAT64 address' };
  }
  if (g0 === 0x2002) return { ipv4: dotted(g1, g2), form: 'a 6to4 address' };
  return undefined;
}

function ipv6Verdict(ip: string, options: AddressOptions): AddressVerdict {
  const found = IPV6_RANGES.find((candidate) => candidate.blocks.check(ip, 'ipv6'));
  if (found) return judge(ip, found, options);
  const embedded = embeddedIpv4(ipv6Groups(ip));
  if (!embedded) return ALLOWED;
  const inner = ipv4Verdict(embedded.ipv4, options);
  return inner.allowed ? inner : { allowed: false, reason: `${ip} is ${embedded.form}: ${inner.reason}` };
}

/**
 * Whether payhook may connect to `ip` (an address as `dns.lookup` returns it, or an IP literal from a URL with its
 * brackets removed). Anything else, including an IPv6 address with a zone index (`fe80::1%eth0`), is refused.
 */
export function addressVerdict(ip: string, options: AddressOptions): AddressVerdict {
  const family = ip.includes('%') ? 0 : isIP(ip);
  if (family === 4) return ipv4Verdict(ip, options);
  if (family === 6) return ipv6Verdict(ip.toLowerCase(), options);
  return { allowed: false, reason: `${JSON.stringify(ip.slice(0, 64))} is not an IP address` };
}
