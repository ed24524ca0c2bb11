import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { GatewaySettings, SourceIpAllowList, SourceIpMode } from '../gateways/settings.js';
import { parseCidr } from '../gateways/source-ips.js';

/** A request from outside its gateway's `sourceIps`: what the log line and the metric say about it. */
export interface SourceNotAllowed {
  readonly mode: SourceIpMode;
  /** As the front door reported it, cut to a length fit for a log line; `''` when it reported none. */
  readonly sourceIp: string;
}

// Built once per list: settings are parsed once per container, so this is once per container too.
const compiled = new WeakMap<SourceIpAllowList, BlockList>();

function blockListOf(allowList: SourceIpAllowList): BlockList {
  let blocks = compiled.get(allowList);
  if (!blocks) {
    blocks = new BlockList();
    for (const entry of allowList.cidrs) {
      const cidr = parseCidr(entry);
      // Settings refuse a bad entry when they are parsed; a list built by hand skips it rather than failing a request.
      if (typeof cidr !== 'string') blocks.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    compiled.set(allowList, blocks);
  }
  return blocks;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * Whether `address` is inside the list. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket
 * reports an IPv4 peer) matches the IPv4 blocks, and an IPv4 address matches blocks written in the mapped form.
 * Anything that is not an address (absent, empty, garbage) is outside.
 */
export function isAllowedSource(allowList: SourceIpAllowList, address: string | undefined): boolean {
  if (address === undefined) return false;
  const blocks = blockListOf(allowList);
  if (isIPv4(address)) return blocks.check(address, 'ipv4') || blocks.check(`::ffff:${address}`, 'ipv6');
  if (!isIPv6(address) || address.includes('%')) return false;
  if (blocks.check(address, 'ipv6')) return true;
  const mapped = IPV4_MAPPED.exec(address)?.[1];
  return mapped !== undefined && isIPv4(mapped) && blocks.check(mapped, 'ipv4');
}

/**
 * The front door's check of a request's source address against its gateway's `sourceIps`: `undefined` when the
 * address is allowed, or when the gateway has no list (nothing is checked, nothing counted).
 */
export function sourceNotAllowed(
  settings: GatewaySettings | undefined,
  sourceIp: string | undefined,
): SourceNotAllowed | undefined {
  const allowList = settings?.sourceIps;
  if (!allowList || isAllowedSource(allowList, sourceIp)) return undefined;
  return { mode: allowList.mode, sourceIp: (sourceIp ?? '').slice(0, 64) };
}
