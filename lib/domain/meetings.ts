import type { Kysely, Transaction } from 'kysely';
import type { Meeting } from '../contract/meeting.ts';
import type { Database, MeetingRow, ParticipantRow } from '../adapters/db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function toMeeting(
  row: MeetingRow,
  participants: Pick<ParticipantRow, 'id' | 'name' | 'email' | 'phone' | 'role'>[],
  roomStatus: Meeting['roomStatus'],
): Meeting {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    startsAt: toIso(row.starts_at),
    endsAt: toIso(row.ends_at),
    timeZone: row.time_zone,
    status: row.status,
    unitId: row.unit_id,
    roomStatus,
    createdAt: toIso(row.created_at),
    participants: participants.map((p) => ({ id: p.id, name: p.name, email: p.email, phone: p.phone, role: p.role })),
  };
}

/** Loads a meeting with its participants and room status, or undefined. */
export async function loadMeeting(db: Db, meetingId: string): Promise<Meeting | undefined> {
  const row = await db.selectFrom('meeting').selectAll().where('id', '=', meetingId).executeTakeFirst();
  if (!row) return undefined;

  const participants = await db
    .selectFrom('participant')
    .select(['id', 'name', 'email', 'phone', 'role'])
    .where('meeting_id', '=', meetingId)
    .orderBy('position')
    .execute();
  const room = await db.selectFrom('room').select('status').where('meeting_id', '=', meetingId).executeTakeFirst();
  return toMeeting(row, participants, room?.status ?? 'pending');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID; ids from URLs are checked before they reach SQL. */
export function isUuid(value: string | undefined): value is string {
  return value !== undefined && uuidPattern.test(value);
}
