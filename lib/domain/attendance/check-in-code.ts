import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Rotating QR check-in codes for a physical meeting room. A code names the
 * room, the occurrence and a 30-second time step, and is signed with an HMAC
 * over those three. It is accepted during its own step and the next one, so a
 * scan started just before the code changed still passes, and refused after
 * that: a photographed or forwarded code is useless a minute later.
 *
 * Format: `c1.<room id>.<occurrence id>.<step>.<base64url HMAC-SHA256, 16 bytes>`.
 */
export const CHECK_IN_STEP_MS = 30_000;

/** Steps after its own in which a code is still accepted. */
const ACCEPTED_LATE_STEPS = 1;

export interface CheckInCodeClaims {
  meetingRoomId: string;
  occurrenceId: string;
  step: number;
}

/** The key derived for check-in codes from the installation's join-token secret, so no new secret needs distributing. */
function codeKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('hop check-in code v1').digest();
}

function mac(claims: CheckInCodeClaims, secret: string): string {
  return createHmac('sha256', codeKey(secret))
    .update(`${claims.meetingRoomId}.${claims.occurrenceId}.${claims.step}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

export function stepAt(at: Date): number {
  return Math.floor(at.getTime() / CHECK_IN_STEP_MS);
}

/** Returns the code for the step of `at` and when it stops being shown. */
export function issueCheckInCode(meetingRoomId: string, occurrenceId: string, at: Date, secret: string): { code: string; step: number; rotatesAt: Date } {
  const step = stepAt(at);
  const claims = { meetingRoomId, occurrenceId, step };
  return { code: `c1.${meetingRoomId}.${occurrenceId}.${step}.${mac(claims, secret)}`, step, rotatesAt: new Date((step + 1) * CHECK_IN_STEP_MS) };
}

export type CheckInCodeResult = { ok: true; claims: CheckInCodeClaims } | { ok: false; reason: 'invalid' | 'expired'; claims?: CheckInCodeClaims };

/** Checks a scanned code's signature and age at `at`. */
export function verifyCheckInCode(code: string, at: Date, secret: string): CheckInCodeResult {
  const parts = code.trim().split('.');
  if (parts.length !== 5 || parts[0] !== 'c1') return { ok: false, reason: 'invalid' };
  const [, meetingRoomId, occurrenceId, stepText, given] = parts as [string, string, string, string, string];
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!uuid.test(meetingRoomId) || !uuid.test(occurrenceId) || !/^[0-9]{1,12}$/.test(stepText)) return { ok: false, reason: 'invalid' };
  const claims = { meetingRoomId, occurrenceId, step: Number(stepText) };
  const expected = Buffer.from(mac(claims, secret));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: 'invalid' };
  const current = stepAt(at);
  // A step in the future means a forged clock or a code from another installation's skewed clock.
  if (claims.step > current || current - claims.step > ACCEPTED_LATE_STEPS) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}
