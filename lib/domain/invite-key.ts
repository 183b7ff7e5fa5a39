import { createHash, createHmac } from 'node:crypto';

/**
 * Derives a participant's invitation key (32 bytes, base64url) from the
 * installation's join-token key, so hop can put the same link into every later
 * notification without storing the key. Only its SHA-256 is stored, so a
 * database dump alone does not let anyone join. The `invite-key:v1:` prefix
 * keeps these MACs apart from the join tokens signed with the same key.
 * NOTE: rotating HOP_JOIN_TOKEN_SECRET invalidates every invitation link.
 */
export function deriveInviteKey(secret: string, participantId: string): string {
  return createHmac('sha256', secret).update(`invite-key:v1:${participantId}`).digest('base64url');
}

export function hashInviteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function joinPath(meetingId: string, inviteKey: string): string {
  return `/join.html?m=${encodeURIComponent(meetingId)}&k=${encodeURIComponent(inviteKey)}`;
}
