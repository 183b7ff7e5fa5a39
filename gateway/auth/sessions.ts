import { sql, type Kysely } from 'kysely';
import type { Database, SystemRole } from '../../lib/adapters/db/schema.ts';
import { newToken, sha256Hex } from './tokens.ts';

/** Name of the HttpOnly cookie that carries the session token. */
export const sessionCookieName = 'hop_session';

/** Sessions that expired longer ago than this are deleted at the next sign-in of anyone. */
const expiredSessionRetentionMs = 7 * 24 * 60 * 60 * 1000;

/** last_seen_at is written at most this often per session, so reads stay reads. */
const lastSeenResolutionMs = 60_000;

export interface NewSession {
  /** The cookie value; only its SHA-256 is stored. */
  token: string;
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Stores a new session for `userId` and returns its token and CSRF token. */
export async function createSession(
  db: Kysely<Database>,
  input: { userId: string; ttlMs: number; ip: string | null; userAgent: string | null; now?: Date },
): Promise<NewSession> {
  const now = input.now ?? new Date();
  const token = newToken();
  const id = sha256Hex(token);
  const csrfToken = newToken();
  const expiresAt = new Date(now.getTime() + input.ttlMs);

  await db
    .deleteFrom('web_session')
    .where('expires_at', '<', new Date(now.getTime() - expiredSessionRetentionMs))
    .execute();
  await db
    .insertInto('web_session')
    .values({
      id,
      user_id: input.userId,
      csrf_token: csrfToken,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 512) ?? null,
      revoked_at: null,
    })
    .execute();
  return { token, id, csrfToken, expiresAt };
}

export interface ActiveSession {
  id: string;
  userId: string;
  systemRole: SystemRole;
  csrfToken: string;
  expiresAt: Date;
}

export type SessionLookup =
  | { status: 'active'; session: ActiveSession }
  | { status: 'invalid' }
  | { status: 'expired' };

/**
 * Finds the session of a cookie token. Unknown tokens, signed-out sessions
 * and sessions of disabled users are `invalid`. Refreshes last_seen_at at most
 * once a minute.
 */
export async function findSession(db: Kysely<Database>, token: string, now: Date = new Date()): Promise<SessionLookup> {
  if (token.length === 0 || token.length > 128) return { status: 'invalid' };
  const row = await db
    .selectFrom('web_session')
    .innerJoin('app_user', 'app_user.id', 'web_session.user_id')
    .select([
      'web_session.id',
      'web_session.user_id',
      'web_session.csrf_token',
      'web_session.expires_at',
      'web_session.revoked_at',
      'web_session.last_seen_at',
      'app_user.system_role',
      'app_user.disabled_at',
    ])
    .where('web_session.id', '=', sha256Hex(token))
    .executeTakeFirst();

  if (!row || row.revoked_at || row.disabled_at) return { status: 'invalid' };
  const expiresAt = new Date(row.expires_at);
  if (expiresAt <= now) return { status: 'expired' };

  if (now.getTime() - new Date(row.last_seen_at).getTime() >= lastSeenResolutionMs) {
    await db.updateTable('web_session').set({ last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return {
    status: 'active',
    session: { id: row.id, userId: row.user_id, systemRole: row.system_role, csrfToken: row.csrf_token, expiresAt },
  };
}

/** Marks a session signed out; signing out twice changes nothing. */
export async function revokeSession(db: Kysely<Database>, sessionId: string, now: Date = new Date()): Promise<void> {
  await db
    .updateTable('web_session')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, ${now}::timestamptz)` })
    .where('id', '=', sessionId)
    .execute();
}
