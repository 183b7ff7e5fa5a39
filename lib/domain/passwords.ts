import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt from Node's crypto module (OpenSSL), which is
 * memory-hard and needs no native npm module. Hashes are encoded as
 * `scrypt$N$r$p$salt$hash` (salt and hash in base64url), so the parameters can
 * be raised later: `needsRehash` tells when a stored hash uses older ones.
 */
export interface ScryptParameters {
  /** CPU and memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/**
 * N = 2^15, r = 8, p = 1: scrypt needs 128 · N · r bytes = 32 MiB per hash, and
 * one hash took about 70 ms on the 2-core development machine (Node.js 20.20).
 */
export const currentScryptParameters: ScryptParameters = { N: 2 ** 15, r: 8, p: 1 };

const saltBytes = 16;
const keyBytes = 32;

// Upper bounds for parameters read from a stored hash, so a corrupted or
// planted row cannot make one sign-in allocate gigabytes.
const maxN = 2 ** 20;
const maxR = 32;
const maxP = 16;

function scryptAsync(password: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  // OpenSSL refuses when the work area reaches maxmem, and 128 · N · r is
  // exactly Node's default of 32 MiB, so the limit is set to twice the need.
  const options: ScryptOptions = { ...parameters, maxmem: 2 * 128 * parameters.N * parameters.r * parameters.p };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Passwords are hashed in NFC, so the same Vietnamese text typed with another input method matches. */
function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

/** Hashes a password with the current parameters and a fresh 16-byte salt. */
export async function hashPassword(password: string, parameters: ScryptParameters = currentScryptParameters): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await scryptAsync(normalisePassword(password), salt, parameters);
  const { N, r, p } = parameters;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash {
  parameters: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

function parsePositiveInteger(text: string | undefined, max: number): number | null {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return null;
  const value = Number(text);
  return value <= max ? value : null;
}

function parseHash(encoded: string): ParsedHash | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const N = parsePositiveInteger(parts[1], maxN);
  const r = parsePositiveInteger(parts[2], maxR);
  const p = parsePositiveInteger(parts[3], maxP);
  if (N === null || r === null || p === null || N < 2 || (N & (N - 1)) !== 0) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length < 16) return null;
  return { parameters: { N, r, p }, salt, key };
}

/**
 * Checks a password against a stored hash in constant time with respect to the
 * hash bytes. Throws when the stored value is not a valid `scrypt$…` hash,
 * because that is damaged data, not a wrong password.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) throw new Error('stored password hash is not in the scrypt$N$r$p$salt$hash format');
  const key = await scryptAsync(normalisePassword(password), parsed.salt, parsed.parameters);
  if (key.length !== parsed.key.length) return false;
  return timingSafeEqual(key, parsed.key);
}

/** Returns true when the stored hash uses other parameters than `current` (or cannot be read), so it should be replaced at the next sign-in. */
export function needsRehash(encoded: string, current: ScryptParameters = currentScryptParameters): boolean {
  const parsed = parseHash(encoded);
  if (!parsed) return true;
  const { N, r, p } = parsed.parameters;
  return N !== current.N || r !== current.r || p !== current.p || parsed.key.length !== keyBytes;
}

let dummyHash: Promise<string> | null = null;

/**
 * Spends the same time as checking a real password, for sign-ins with an
 * unknown user name, so the response time does not reveal which names exist.
 */
export async function verifyDummyPassword(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('base64url'));
  await verifyPassword(password, await dummyHash);
}

export const minPasswordLength = 12;
export const maxPasswordLength = 1024;

/** A broken rule of the password policy, with its explanation in Vietnamese and English. */
export interface PasswordProblem {
  rule: 'too-short' | 'too-long' | 'equals-username';
  vi: string;
  en: string;
}

/**
 * Checks the minimum password policy: at least 12 characters (code points of
 * the NFC form), at most 1024, and not equal to the user name, ignoring case.
 * Returns the broken rules, an empty list when the password is acceptable.
 */
export function checkPasswordPolicy(password: string, username: string): PasswordProblem[] {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  const problems: PasswordProblem[] = [];
  if (length < minPasswordLength) {
    problems.push({
      rule: 'too-short',
      vi: `Mật khẩu phải có ít nhất ${minPasswordLength} ký tự (hiện có ${length}). Nên dùng một cụm từ dễ nhớ, ví dụ bốn từ cách nhau bằng dấu cách.`,
      en: `The password must have at least ${minPasswordLength} characters (it has ${length}).`,
    });
  }
  if (length > maxPasswordLength) {
    problems.push({
      rule: 'too-long',
      vi: `Mật khẩu không được dài quá ${maxPasswordLength} ký tự.`,
      en: `The password must have at most ${maxPasswordLength} characters.`,
    });
  }
  if (normalised.trim().toLowerCase() === username.normalize('NFC').trim().toLowerCase()) {
    problems.push({
      rule: 'equals-username',
      vi: 'Mật khẩu không được trùng với tên đăng nhập.',
      en: 'The password must not equal the user name.',
    });
  }
  return problems;
}
