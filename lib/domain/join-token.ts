import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Janus join tokens: short-lived, signed, and bound to one meeting, one
 * participant and their role. Janus only compares a join's token with the
 * room's `allowed` list, so the signature and expiry are hop's own. They let
 * join-issue find and remove expired tokens from that list, and they let any
 * hop process tell who a token in a Janus event belongs to.
 *
 * Format: `v1.<base64url JSON claims>.<base64url HMAC-SHA256>`.
 */
const claimsSchema = z.object({
  m: z.string(),
  p: z.string(),
  r: z.enum(['chair', 'secretary', 'participant', 'observer', 'guest']),
  /** Expiry, Unix seconds. */
  exp: z.number().int(),
});

export interface JoinTokenClaims {
  meetingId: string;
  participantId: string;
  role: z.infer<typeof claimsSchema>['r'];
  expiresAt: Date;
}

/** How long a token may be used to enter the room; the join page requests a new one to reconnect. */
export const JOIN_TOKEN_TTL_MS = 10 * 60 * 1000;

function signature(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`v1.${payload}`).digest('base64url');
}

export function signJoinToken(claims: JoinTokenClaims, secret: string): string {
  const payload = Buffer.from(
    JSON.stringify({ m: claims.meetingId, p: claims.participantId, r: claims.role, exp: Math.floor(claims.expiresAt.getTime() / 1000) }),
  ).toString('base64url');
  return `v1.${payload}.${signature(payload, secret)}`;
}

/** Returns the claims of a token signed with `secret`, or null for any other string. Expiry is not checked here. */
export function readJoinToken(token: string, secret: string): JoinTokenClaims | null {
  const [version, payload, mac] = token.split('.');
  if (version !== 'v1' || !payload || !mac) return null;
  const expected = Buffer.from(signature(payload, secret));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (!parsed.success) return null;
    return { meetingId: parsed.data.m, participantId: parsed.data.p, role: parsed.data.r, expiresAt: new Date(parsed.data.exp * 1000) };
  } catch {
    return null;
  }
}
