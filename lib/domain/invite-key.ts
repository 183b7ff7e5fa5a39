import { createHash, randomBytes } from 'node:crypto';

/**
 * Invitation keys: 32 random bytes, base64url. Only the SHA-256 is stored, so a
 * database dump does not let anyone join a meeting.
 */
export function newInviteKey(): string {
  return randomBytes(32).toString('base64url');
}

export function hashInviteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function joinPath(meetingId: string, inviteKey: string): string {
  return `/join.html?m=${encodeURIComponent(meetingId)}&k=${encodeURIComponent(inviteKey)}`;
}
