import { isIP } from 'node:net';

/**
 * IP address and CIDR arithmetic for the webhook target check. Addresses are
 * compared as bytes, so every textual form of one address (`::ffff:a9fe:a9fe`,
 * `::ffff:169.254.169.254`, `169.254.169.254`) matches the same blocks.
 */

export interface IpBlock {
  /** 4 bytes for IPv4, 16 for IPv6: the network address, host bits zero. */
  bytes: Uint8Array;
  prefix: number;
}

/** Parses an IPv4 or IPv6 address (without brackets or zone) into bytes; null when it is not one. */
export function ipToBytes(address: string): Uint8Array | null {
  const version = isIP(address);
  if (version === 4) return Uint8Array.from(address.split('.').map(Number));
  if (version === 6) return ipv6ToBytes(address);
  return null;
}

function ipv6ToBytes(address: string): Uint8Array | null {
  let text = address;
  const bytes = new Uint8Array(16);
  // An embedded dotted IPv4 tail (`::ffff:1.2.3.4`) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  for (const [index, group] of groups.entries()) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  }
  return bytes;
}

/** Turns an IPv4-mapped IPv6 address (`::ffff:0:0/96`) into its IPv4 bytes; other addresses are returned unchanged. */
export function unmapIpv4(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let index = 0; index < 10; index++) if (bytes[index] !== 0) return bytes;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  return bytes.slice(12);
}

/** Writes bytes as the canonical text of the address (`10.0.0.0`, `fd12::`). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(((bytes[index]! << 8) | bytes[index + 1]!).toString(16));
  // The WHATWG URL parser writes IPv6 hosts in the RFC 5952 compressed form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * Parses `address/prefix` or a bare address (a block of one address). Returns
 * the block with the host bits cleared, or null when the text is not one.
 */
export function parseCidr(text: string): IpBlock | null {
  const [address, prefixText, ...rest] = text.split('/');
  if (address === undefined || rest.length > 0) return null;
  const parsed = ipToBytes(address);
  if (!parsed) return null;
  const bytes = unmapIpv4(parsed);
  const bits = bytes.length * 8;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (bytes.length !== parsed.length) prefix -= 96;
    if (prefix < 0 || prefix > bits) return null;
  }
  const network = bytes.slice();
  for (let bit = prefix; bit < bits; bit++) network[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { bytes: network, prefix };
}

/** Writes a block as `address/prefix`. */
export function formatCidr(block: IpBlock): string {
  return `${bytesToIp(block.bytes)}/${block.prefix}`;
}

/** Whether the address bytes (IPv4-mapped addresses already unmapped) fall inside the block. */
export function blockContains(block: IpBlock, address: Uint8Array): boolean {
  if (block.bytes.length !== address.length) return false;
  const fullBytes = block.prefix >> 3;
  for (let index = 0; index < fullBytes; index++) if (block.bytes[index] !== address[index]) return false;
  const remainder = block.prefix & 7;
  if (remainder === 0) return true;
  const mask = (0xff << (8 - remainder)) & 0xff;
  return (block.bytes[fullBytes]! & mask) === (address[fullBytes]! & mask);
}
