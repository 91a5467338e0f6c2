/**
 * SSRF guard for every URL a merchant configures and Paystep then calls (webhook endpoints, the
 * inventory-confirmation URL). Checked twice: when the merchant saves the URL (a clear 422
 * `unsafe_url`), and again at connect time through a custom `lookup` given to `http.request`, so
 * every address the name resolves to at that moment is checked (defeats DNS rebinding: a name
 * that was public at configuration time and now points at 169.254.169.254 is refused).
 *
 * Production mode (anything but `PAYSTEP_MODE=local`): https only, and only public unicast
 * addresses. Local mode additionally accepts http, and loopback only with an explicit
 * `ALLOW_LOOPBACK_URLS=true` (local/stack.ts sets it for the demo merchant on 127.0.0.1).
 */
import type * as Dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type * as Net from 'node:net';
import type { LookupFunction } from 'node:net';
import { UnsafeUrlError } from '../errors';
import type { MerchantUrlGuard } from '../ports/url-guard';

import { ALLOWED_URL_PORTS, withMerchantPorts, type UrlPolicy } from './url-policy';
import { load } from './node-http';

// Through require(), not an ESM import (as node:http in node-http.ts): on Node 24 an ESM import of a
// built-in module builds its ESM facade, which reads every export, at every cold start (ESM imports
// of node:net and node:dns together cost about 1.8 ms more than require(), issue 14 round 8).
const { lookup: dnsLookup } = load('node:dns') as typeof Dns;
const { BlockList, isIP } = load('node:net') as typeof Net;

// The policy's half lives in url-policy.ts; re-exported so url-guard.ts stays the guard's one import.
export {
  ALLOWED_URL_PORTS,
  LOCAL_URL_POLICY,
  MAX_MERCHANT_ALLOWED_PORTS,
  merchantPortRefusal,
  REFUSED_MERCHANT_PORTS,
  STRICT_URL_POLICY,
  urlPolicyFromEnv,
  withMerchantPorts,
  type UrlPolicy,
} from './url-policy';

function portAllowed(port: number, policy: UrlPolicy): boolean {
  return policy.allowAnyPort === true || ALLOWED_URL_PORTS.includes(port) || (policy.extraPorts?.includes(port) ?? false);
}

// ---- Address ranges ---------------------------------------------------------------------------

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Never reachable from Paystep, whatever the mode: [range, why]. */
const BLOCKED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network") address'],
  ['10.0.0.0', 8, 'private address (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'carrier-grade NAT address (100.64.0.0/10)'],
  ['169.254.0.0', 16, 'link-local address (169.254.0.0/16, cloud metadata)'],
  ['172.16.0.0', 12, 'private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'IETF protocol assignment (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, '6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast address (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'reserved address (240.0.0.0/4, broadcast)'],
];

const BLOCKED_V6: readonly [string, number, string][] = [
  ['::', 128, 'unspecified address (::)'],
  ['::', 96, 'IPv4-compatible address (::/96, deprecated)'],
  ['64:ff9b:1::', 48, 'local-use NAT64 address (64:ff9b:1::/48)'],
  ['100::', 64, 'discard-only address (100::/64)'],
  ['2001::', 32, 'Teredo address (2001::/32, tunnels to an IPv4 host)'],
  ['2001:db8::', 32, 'documentation address (2001:db8::/32)'],
  ['2002::', 16, '6to4 address (2002::/16)'],
  ['fc00::', 7, 'unique local address (fc00::/7)'],
  ['fe80::', 10, 'link-local address (fe80::/10)'],
  ['fec0::', 10, 'site-local address (fec0::/10, deprecated)'],
  ['ff00::', 8, 'multicast address (ff00::/8)'],
];

const blockedV4 = BLOCKED_V4.map(([network, prefix, why]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv4');
  return { list, why };
});
const blockedV6 = BLOCKED_V6.map(([network, prefix, why]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv6');
  return { list, why };
});

/** The 16 bytes of an IPv6 literal (any textual form: `::`, long form, trailing dotted quad). */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const tail: number[] = [];
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    tail.push(...dotted.slice(1).map(Number));
    if (tail.some((octet) => octet > 255)) return undefined;
    text = text.slice(0, dotted.index) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group) || group < 0 || group > 0xffff)) return undefined;
  const bytes = groups.flatMap((group) => [group >> 8, group & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** IPv6 prefixes whose last 32 bits are an IPv4 address the packet ends up at: [first 12 bytes, name]. */
const IPV4_CARRYING_PREFIXES: readonly [number[], string][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 'IPv4-mapped'], // ::ffff:0:0/96
  [[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 'SIIT IPv4-translated'], // ::ffff:0:0:0/96
  [[0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 'NAT64'], // 64:ff9b::/96, any textual form
];

/** `::ffff:a.b.c.d`, `::ffff:0:a.b.c.d` (SIIT), `64:ff9b::a.b.c.d` and their long forms -> `a.b.c.d`. */
function embeddedIpv4(address: string): { ipv4: string; kind: string } | undefined {
  const bytes = ipv6Bytes(address);
  if (bytes === undefined) return undefined;
  for (const [prefix, kind] of IPV4_CARRYING_PREFIXES) {
    if (prefix.every((byte, index) => bytes[index] === byte)) return { ipv4: bytes.slice(12).join('.'), kind };
  }
  return undefined;
}

/**
 * Why `address` (an IP literal) must not be called under `policy`, or undefined when it may be.
 * IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 */
export function unsafeAddressReason(address: string, policy: UrlPolicy): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const mapped = embeddedIpv4(bare);
    if (mapped !== undefined) {
      const reason = unsafeAddressReason(mapped.ipv4, policy);
      return reason === undefined ? undefined : `${mapped.kind} ${reason}`;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (LOOPBACK.check(bare, type)) return policy.allowLoopback ? undefined : 'loopback address';
  for (const { list, why } of family === 4 ? blockedV4 : blockedV6) {
    if (list.check(bare, type)) return why;
  }
  return undefined;
}

// ---- URLs -------------------------------------------------------------------------------------

/** `localhost` and `*.localhost` always mean loopback (RFC 6761), whatever DNS says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * The checks that need no DNS: scheme, credentials, IP-literal hosts and `localhost`. Returns the
 * reason the URL is unsafe, or undefined. Used by request validation (synchronous) and by the
 * full check below.
 */
export function unsafeUrlReasonWithoutDns(raw: string, policy: UrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    return policy.allowHttp ? 'must use http or https' : 'must use https';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  const host = url.hostname;
  if (host === '') return 'must have a host';
  if (isLocalhostName(host)) return policy.allowLoopback ? undefined : `points at a loopback host (${host})`;
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) {
    const reason = unsafeAddressReason(bare, policy);
    if (reason !== undefined) return `points at a ${reason} (${bare})`;
  }
  if (url.port !== '' && !portAllowed(Number(url.port), policy)) {
    const extra = policy.extraPorts !== undefined && policy.extraPorts.length > 0 ? `, ${policy.extraPorts.join(', ')}` : '';
    return `must use port 443 or 80${extra} (not ${url.port}; allowed_ports in the settings can add one)`;
  }
  return undefined;
}

/** A resolver: all addresses of a hostname (dns.lookup semantics, i.e. /etc/hosts included). */
export type ResolveAll = (hostname: string) => Promise<string[]>;

const systemResolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
      if (error) reject(error);
      else resolve(addresses.map((entry) => entry.address));
    });
  });

export interface AssertSafeUrlOptions {
  /** The API field the URL came from, reported as the error's `param`. */
  param: string;
  /** Injected in tests; defaults to dns.lookup (all addresses). */
  resolveAll?: ResolveAll;
  /** Give up resolving after this long and accept (the call-time check still applies). Default 3 s. */
  resolveTimeoutMs?: number;
}

/**
 * Configuration-time check: syntax, then every address the host resolves to now. Throws
 * UnsafeUrlError (422 `unsafe_url`, with `param`). A host that does not resolve (yet) is accepted:
 * it cannot be judged, and the connect-time lookup guard refuses it later if it turns bad.
 */
export async function assertSafeUrl(raw: string, policy: UrlPolicy, options: AssertSafeUrlOptions): Promise<void> {
  const syntaxReason = unsafeUrlReasonWithoutDns(raw, policy);
  if (syntaxReason !== undefined) throw new UnsafeUrlError(`${options.param} ${syntaxReason}`, { param: options.param });
  const host = new URL(raw).hostname;
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0 || isLocalhostName(host)) return;
  const resolveAll = options.resolveAll ?? systemResolveAll;
  let addresses: string[];
  try {
    addresses = await withTimeout(resolveAll(bare), options.resolveTimeoutMs ?? 3_000);
  } catch {
    return;
  }
  for (const address of addresses) {
    const reason = unsafeAddressReason(address, policy);
    if (reason !== undefined) {
      throw new UnsafeUrlError(`${options.param} resolves to a ${reason} (${host} -> ${address}), which Paystep never calls`, {
        param: options.param,
      });
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('resolve timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a guarded lookup fails the connection with (code `EUNSAFEADDRESS`). */
export class UnsafeAddressConnectError extends Error {
  override readonly name = 'UnsafeAddressConnectError';
  readonly code = 'EUNSAFEADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request`/`https.request`: resolves like dns.lookup, then refuses the
 * connection if any resolved address is unsafe under `policy`. This is the check that counts:
 * it runs for every connection, on the addresses actually used.
 */
export function createGuardedLookup(policy: UrlPolicy, base: typeof dnsLookup = dnsLookup): LookupFunction {
  const guarded = (hostname: string, options: object, callback: LookupCallback): void => {
    if (isLocalhostName(hostname) && !policy.allowLoopback) {
      callback(new UnsafeAddressConnectError(`refused: ${hostname} is a loopback host`), '', 4);
      return;
    }
    base(hostname, { ...(options as Record<string, unknown>), all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 4);
        return;
      }
      for (const entry of addresses) {
        const reason = unsafeAddressReason(entry.address, policy);
        if (reason !== undefined) {
          callback(new UnsafeAddressConnectError(`refused: ${hostname} resolves to a ${reason} (${entry.address})`), '', 4);
          return;
        }
      }
      if ((options as { all?: boolean }).all === true) callback(null, addresses);
      else if (addresses[0] === undefined)
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
  return guarded as unknown as LookupFunction;
}

/** The MerchantUrlGuard port over `policy`: assertSafeUrl with the merchant's allowed ports. */
export function createMerchantUrlGuard(policy: UrlPolicy): MerchantUrlGuard {
  return {
    assertSafe: (url, options) => assertSafeUrl(url, withMerchantPorts(policy, options.allowedPorts), { param: options.param }),
  };
}
