import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../adapters/db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** How long before an occurrence's start the room's kiosk shows its check-in code. */
export const CHECK_IN_OPENS_BEFORE_MS = 30 * 60 * 1000;

export interface RoomOccurrence {
  meetingId: string;
  occurrenceId: string;
  title: string;
  startsAt: Date;
  endsAt: Date;
}

/**
 * Returns the occurrence held in a meeting room at `now`: of a meeting booked
 * in the room that is scheduled or in progress, not cancelled, from 30 minutes
 * before its start until its end. With two overlapping, the earlier start wins.
 */
export async function currentRoomOccurrence(db: Db, meetingRoomId: string, now: Date): Promise<RoomOccurrence | undefined> {
  const row = await db
    .selectFrom('meeting_occurrence')
    .innerJoin('meeting', 'meeting.id', 'meeting_occurrence.meeting_id')
    .select(['meeting.id as meetingId', 'meeting_occurrence.id as occurrenceId', 'meeting.title', 'meeting_occurrence.starts_at', 'meeting_occurrence.ends_at'])
    .where('meeting.meeting_room_id', '=', meetingRoomId)
    .where('meeting.status', 'in', ['scheduled', 'in_progress'])
    .where('meeting_occurrence.status', '!=', 'cancelled')
    .where('meeting_occurrence.starts_at', '<=', new Date(now.getTime() + CHECK_IN_OPENS_BEFORE_MS))
    .where('meeting_occurrence.ends_at', '>', now)
    .orderBy('meeting_occurrence.starts_at')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  return { meetingId: row.meetingId, occurrenceId: row.occurrenceId, title: row.title, startsAt: new Date(row.starts_at), endsAt: new Date(row.ends_at) };
}
