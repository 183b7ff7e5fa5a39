/** Refused joins as the chair's live board reads them; `recordRefusal` in media-capacity.ts writes them. */
import type { Kysely, Transaction } from 'kysely';
import type { Database, JoinRefusalReason } from '../adapters/db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** A refused join as the live board shows it. */
export interface JoinRefusal {
  participantId: string;
  participantName: string;
  reason: JoinRefusalReason;
  /** The cap reached and the participants connected at the latest refusal. */
  limit: number;
  connected: number;
  attempts: number;
  firstRefusedAt: string;
  lastRefusedAt: string;
  /**
   * When the participant got in after the latest refusal: the first media
   * session of theirs in the meeting recorded since then. Null while they
   * have not.
   */
  joinedAt: string | null;
}

/** Returns the refused joins of one occurrence, latest first, at most `limit`, each with whether the participant got in since. */
export async function loadJoinRefusals(db: Db, occurrenceId: string, limit = 50): Promise<JoinRefusal[]> {
  const rows = await db
    .selectFrom('media_join_refusal as refusal')
    .selectAll('refusal')
    .select((eb) =>
      eb
        .selectFrom('media_session')
        .select((session) => session.fn.min('media_session.opened_at').as('opened_at'))
        .whereRef('media_session.meeting_id', '=', 'refusal.meeting_id')
        .whereRef('media_session.participant_id', '=', 'refusal.participant_id')
        .whereRef('media_session.opened_at', '>=', 'refusal.last_refused_at')
        .as('joined_at'),
    )
    .where('refusal.occurrence_id', '=', occurrenceId)
    .orderBy('last_refused_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    participantId: row.participant_id,
    participantName: row.participant_name,
    reason: row.reason,
    limit: row.max_connections,
    connected: row.connected,
    attempts: row.attempts,
    firstRefusedAt: new Date(row.first_refused_at).toISOString(),
    lastRefusedAt: new Date(row.last_refused_at).toISOString(),
    joinedAt: row.joined_at === null ? null : new Date(row.joined_at).toISOString(),
  }));
}
