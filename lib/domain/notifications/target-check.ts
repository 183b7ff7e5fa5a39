import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { blockContains, bytesToIp, formatCidr, ipToBytes, parseCidr, unmapIpv4, type IpBlock } from './ip-address.ts';

/**
 * The check hop runs on a webhook URL when an admin saves it and again before
 * every request, so that webhooks cannot be aimed at hop's own network or the
 * cloud metadata service (server-side request forgery).
 *
 * A URL passes when it is http(s) without credentials and its host is an IP
 * literal or a name that resolves. No resolved address may be in
 * `refusedBlocks`. Every resolved address must be allowed by an allow-list
 * entry, either a CIDR entry that contains it or a host entry naming the URL's
 * host (the admin then trusts that name's DNS answers). An entry with a port
 * allows only that port.
 * The caller connects to `address`, the checked address, so a DNS answer that
 * changes after the check (DNS rebinding) is never used.
 */

/** Resolves a host name to every address, as `dns.promises.lookup(host, { all: true })` does. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/**
 * Addresses never called, even when an allow-list entry covers them. They are
 * the link-local blocks (with the AWS, GCP and Azure metadata address
 * 169.254.169.254), the AWS IPv6 and Alibaba Cloud metadata addresses, the
 * unspecified addresses (a connection to them reaches the local host),
 * broadcast and multicast.
 */
export const refusedBlocks: { block: IpBlock; reason: string }[] = [
  ['169.254.0.0/16', 'IPv4 link-local (contains the cloud metadata address 169.254.169.254)'],
  ['fe80::/10', 'IPv6 link-local'],
  ['fd00:ec2::254/128', 'AWS instance metadata (IPv6)'],
  ['100.100.100.200/32', 'Alibaba Cloud instance metadata'],
  ['0.0.0.0/8', 'IPv4 unspecified ("this network")'],
  ['::/128', 'IPv6 unspecified'],
  ['255.255.255.255/32', 'IPv4 broadcast'],
  ['224.0.0.0/4', 'IPv4 multicast'],
  ['ff00::/8', 'IPv6 multicast'],
].map(([cidr, reason]) => ({ block: parseCidr(cidr!)!, reason: reason! }));

export interface AllowListEntry {
  kind: 'host' | 'cidr';
  /** Lower-case host name, or `address/prefix`. */
  target: string;
  port: number | null;
}

export type TargetRejection = 'WEBHOOK_URL_INVALID' | 'WEBHOOK_TARGET_UNRESOLVED' | 'WEBHOOK_TARGET_FORBIDDEN' | 'WEBHOOK_TARGET_NOT_ALLOWED';

export type TargetCheck =
  | {
      ok: true;
      url: URL;
      /** Host name or IP literal without brackets. */
      hostname: string;
      port: number;
      /** The checked address to connect to. */
      address: string;
      family: 4 | 6;
    }
  | { ok: false; code: TargetRejection; reason: string };

export interface ParsedWebhookUrl {
  url: URL;
  hostname: string;
  port: number;
}

/** Parses a webhook URL; returns null with a reason when it is not an http(s) URL hop may store. */
export function parseWebhookUrl(raw: string): { ok: true; value: ParsedWebhookUrl } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol} is not http: or https:` };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'the URL contains a user name or password' };
  if (url.hash !== '') return { ok: false, reason: 'the URL contains a fragment (#…)' };
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, '');
  if (hostname === '') return { ok: false, reason: 'the URL has no host' };
  let port = url.protocol === 'https:' ? 443 : 80;
  if (url.port) port = Number(url.port);
  return { ok: true, value: { url, hostname, port } };
}

/**
 * Parses an allow-list entry as typed by an admin: a CIDR block, a bare IP
 * address (a block of one) or a host name. Returns null for any other text.
 */
export function parseAllowListTarget(text: string): { kind: 'host' | 'cidr'; target: string } | null {
  const trimmed = text.trim().replace(/^\[([^\]]*)\](\/[0-9]+)?$/, '$1$2');
  if (trimmed.includes('/') || isIP(trimmed) !== 0) {
    const block = parseCidr(trimmed);
    return block ? { kind: 'cidr', target: formatCidr(block) } : null;
  }
  const host = trimmed.toLowerCase().replace(/\.$/, '');
  // Host names as the WHATWG URL parser leaves them: letters, digits, hyphens, dots, punycode.
  if (host.length > 253 || !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(host)) return null;
  if (/^[0-9.]+$/.test(host)) return null;
  return { kind: 'host', target: host };
}

/** Returns why an address is always refused, or null when it is not in `refusedBlocks`. */
export function refusalReason(address: string): string | null {
  const parsed = ipToBytes(address);
  if (!parsed) return 'not an IP address';
  const bytes = unmapIpv4(parsed);
  return refusedBlocks.find((entry) => blockContains(entry.block, bytes))?.reason ?? null;
}

function portAllowed(entry: AllowListEntry, port: number): boolean {
  return entry.port === null || entry.port === port;
}

/**
 * Checks a webhook URL against the allow-list; see the module comment for the
 * rules. `resolver` is called once for a host name and never for an IP literal.
 */
export async function checkWebhookTarget(raw: string, entries: readonly AllowListEntry[], resolver: Resolver = systemResolver): Promise<TargetCheck> {
  const parsed = parseWebhookUrl(raw);
  if (!parsed.ok) return { ok: false, code: 'WEBHOOK_URL_INVALID', reason: parsed.reason };
  const { url, hostname, port } = parsed.value;

  let addresses: string[];
  const literal = isIP(hostname) !== 0;
  if (literal) {
    addresses = [hostname];
  } else {
    try {
      addresses = (await resolver(hostname)).map((entry) => entry.address);
    } catch (error) {
      return { ok: false, code: 'WEBHOOK_TARGET_UNRESOLVED', reason: `${hostname} did not resolve: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (addresses.length === 0) return { ok: false, code: 'WEBHOOK_TARGET_UNRESOLVED', reason: `${hostname} resolved to no address` };
  }

  for (const address of addresses) {
    const reason = refusalReason(address);
    if (reason) return { ok: false, code: 'WEBHOOK_TARGET_FORBIDDEN', reason: `${address} is refused: ${reason}` };
  }

  const nameAllowed = !literal && entries.some((entry) => entry.kind === 'host' && entry.target === hostname && portAllowed(entry, port));
  const blocks = entries.filter((entry) => entry.kind === 'cidr' && portAllowed(entry, port)).map((entry) => parseCidr(entry.target)!);
  for (const address of addresses) {
    const bytes = unmapIpv4(ipToBytes(address)!);
    if (!nameAllowed && !blocks.some((block) => blockContains(block, bytes))) {
      const shown = literal ? address : `${hostname} (${address})`;
      return { ok: false, code: 'WEBHOOK_TARGET_NOT_ALLOWED', reason: `${shown} port ${port} is not in the webhook allow-list` };
    }
  }

  const address = addresses[0]!;
  const bytes = unmapIpv4(ipToBytes(address)!);
  return { ok: true, url, hostname, port, address: bytesToIp(bytes), family: bytes.length === 4 ? 4 : 6 };
}
