import { randomUUID } from 'node:crypto';

/**
 * Returns a version 7 UUID (RFC 9562, section 5.7): 48 bits of Unix time in
 * milliseconds followed by 74 random bits. Ids made later sort after earlier
 * ones (within a millisecond the order is random), so a B-tree index on them
 * grows at its right edge. Rows inserted in bulk then touch a few index pages
 * instead of one random page each, which keeps PostgreSQL's WAL small.
 * The id reveals when it was made, so use it only where that is not secret.
 */
export function uuidV7(now: number = Date.now()): string {
  // The random bits come from a version 4 UUID, whose generator draws from a buffered pool: its
  // 12 bits after the version digit and its variant and 62 bits after them are kept.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
