/**
 * TRUST_PROXY: which proxies may tell the server a client's address (X-Forwarded-For), and so
 * which address practice 3 counts a client under. Express and Fastify compile the accepted
 * value with proxy-addr; this module decides what may reach it.
 *
 * A hop count is bounded; an address list may name IPs, CIDR ranges and proxy-addr's named
 * ranges, and a range is refused when it covers more public address space than one proxy
 * network needs (a /24 of IPv4, a /48 of IPv6): a client anywhere in a trusted range can write
 * its own X-Forwarded-For. Node's isIP validates each address; the range arithmetic is here
 * because neither node:net's BlockList nor ipaddr.js counts how much public space a range
 * covers (docs/choosing-libraries.md in Rampart says why this stays hand-written).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export type TrustProxy = false | number | string[];

const NAMED_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Address blocks a client of this server never comes from across the internet: a proxy there
 * is on your own network, so a trusted range inside them may be as wide as you like. Anything
 * else counts as public (multicast and reserved blocks too: nobody connects from them).
 */
const NON_PUBLIC_IPV4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16'];
const NON_PUBLIC_IPV6 = ['::1/128', 'fe80::/10', 'fc00::/7'];
/** proxy-addr compares an IPv4 client with an IPv6 range as ::ffff:a.b.c.d: these are IPv4. */
const IPV4_MAPPED = { start: 0xffffn << 32n, prefix: 96 };
/** The widest public space one may trust: a /24 (IPv4) or a /48 (IPv6) of addresses. */
const MAX_PUBLIC_IPV4_ADDRESSES = 1n << 8n;
const MAX_PUBLIC_IPV6_ADDRESSES = 1n << 80n;
/** More hops than any real chain of proxies; a bigger count would believe a forged header. */
const MAX_PROXY_HOPS = 10;
const PREFIX_PATTERN = /^(0|[1-9]\d*)$/;

interface AddressBlock {
  start: bigint;
  prefix: number;
}

function ipv4ToNumber(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

/** A valid IPv6 address (node:net isIP said so, no zone id) as a 128-bit number. */
function ipv6ToNumber(address: string): bigint {
  let text = address;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const embedded = ipv4ToNumber(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(embedded >> 16n).toString(16)}:${(embedded & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function block(cidr: string, bits: 32 | 128): AddressBlock {
  const [address = '', prefix = String(bits)] = cidr.split('/');
  const start = bits === 32 ? ipv4ToNumber(address) : ipv6ToNumber(address);
  return { start: start & ~((1n << BigInt(bits - Number(prefix))) - 1n), prefix: Number(prefix) };
}

const size = (range: AddressBlock, bits: number) => 1n << BigInt(bits - range.prefix);

/** How many addresses two CIDR blocks share: one holds the other, or they are disjoint. */
function overlap(a: AddressBlock, b: AddressBlock, bits: number): bigint {
  const [wide, narrow] = a.prefix <= b.prefix ? [a, b] : [b, a];
  const mask = ~((1n << BigInt(bits - wide.prefix)) - 1n);
  return (narrow.start & mask) === wide.start ? size(narrow, bits) : 0n;
}

function publicIpv4Addresses(range: AddressBlock): bigint {
  return NON_PUBLIC_IPV4.reduce((count, cidr) => count - overlap(range, block(cidr, 32), 32), size(range, 32));
}

/**
 * Why one TRUST_PROXY entry must not be trusted, or undefined when it may. Only the strict
 * forms are accepted (dotted decimal without leading zeros, a prefix length in digits), so
 * that what is checked here is exactly what Express and Fastify (proxy-addr) will compile.
 */
function trustedRangeProblem(entry: string): string | undefined {
  if (NAMED_PROXY_RANGES.has(entry)) return undefined;
  const parts = entry.split('/');
  const [address = '', prefix] = parts;
  const family = isIP(address);
  if (parts.length > 2 || family === 0 || address.includes('%')) {
    return `'${entry}' is not an IP address, CIDR range (address/prefix length), loopback, linklocal or uniquelocal`;
  }
  const bits = family === 4 ? 32 : 128;
  if (prefix !== undefined && (!PREFIX_PATTERN.test(prefix) || Number(prefix) > bits)) {
    return `'${entry}' has an invalid prefix length: use /1 to /${bits}`;
  }
  const range = block(entry, bits);
  const tooWide = `'${entry}' trusts public addresses beyond a ${family === 4 ? '/24' : '/48'}, so any client there could forge X-Forwarded-For: list your proxies' own addresses or ranges`;
  if (family === 4) return publicIpv4Addresses(range) > MAX_PUBLIC_IPV4_ADDRESSES ? tooWide : undefined;

  // IPv6: the part inside ::ffff:0:0/96 is IPv4 space and is judged as IPv4.
  const mapped = overlap(range, IPV4_MAPPED, 128);
  const mappedIpv4 = mapped === 0n ? undefined : range.prefix >= IPV4_MAPPED.prefix ? { start: range.start & 0xffffffffn, prefix: range.prefix - 96 } : { start: 0n, prefix: 0 };
  if (mappedIpv4 && publicIpv4Addresses(mappedIpv4) > MAX_PUBLIC_IPV4_ADDRESSES) {
    return `'${entry}' covers IPv4-mapped addresses (::ffff:a.b.c.d) of public IPv4 space beyond a /24, so any IPv4 client could forge X-Forwarded-For`;
  }
  const publicIpv6 = NON_PUBLIC_IPV6.reduce((count, cidr) => count - overlap(range, block(cidr, 128), 128), size(range, 128) - mapped);
  return publicIpv6 > MAX_PUBLIC_IPV6_ADDRESSES ? tooWide : undefined;
}

/** The TRUST_PROXY setting: unset or false trusts no proxy. */
export const trustProxy = z
  .string()
  .optional()
  .transform((value, context): TrustProxy => {
    const text = (value ?? '').trim().toLowerCase();
    if (text === '' || text === 'false') return false;
    if (text === 'true') {
      context.addIssue({
        code: 'custom',
        message:
          'must not be true: that trusts any client-supplied X-Forwarded-For. Set the number of proxy hops (e.g. 1) or the proxy addresses',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(text)) {
      const hops = Number(text);
      if (hops === 0) return false;
      if (hops > MAX_PROXY_HOPS) {
        context.addIssue({
          code: 'custom',
          message: `must be at most ${MAX_PROXY_HOPS} proxy hops: more would believe hops a client added to X-Forwarded-For itself`,
        });
        return z.NEVER;
      }
      return hops;
    }
    const entries = text.split(',').map((entry) => entry.trim());
    if (entries.includes('')) context.addIssue({ code: 'custom', message: 'has an empty entry (two commas, or a trailing comma)' });
    for (const entry of entries.filter((entry) => entry !== '')) {
      const problem = trustedRangeProblem(entry);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }
    return entries;
  });
