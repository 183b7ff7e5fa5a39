import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a UTF-8 string, hex. Session tokens and API key secrets are stored only in this form. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Generates a random token of `bytes` bytes in base64url (32 bytes give 43 characters). */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Compares two strings in time that depends only on their SHA-256 digests, not on where they differ. */
export function equalInConstantTime(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
