import type { Kysely, Transaction } from 'kysely';
import type { Meeting } from '../contract/meeting.ts';
import type { Database, MeetingOccurrenceRow, MeetingRow, ParticipantRow } from '../adapters/db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export type ParticipantSummary = Pick<ParticipantRow, 'id' | 'name' | 'email' | 'phone' | 'role' | 'user_id' | 'invited_unit_id'>;

export interface MeetingParts {
  participants: ParticipantSummary[];
  roomStatus: Meeting['roomStatus'];
  place: Meeting['place'];
  invitedUnitIds: string[];
  occurrences: Pick<MeetingOccurrenceRow, 'id' | 'recurrence_id' | 'starts_at' | 'ends_at' | 'status'>[];
}

export function toMeeting(row: MeetingRow, parts: MeetingParts): Meeting {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    startsAt: toIso(row.starts_at),
    endsAt: toIso(row.ends_at),
    timeZone: row.time_zone,
    status: row.status,
    unitId: row.unit_id,
    roomStatus: parts.roomStatus,
    createdAt: toIso(row.created_at),
    participants: parts.participants.map((p) => ({
      id: p.id,
      name: p.name,
      email: p.email,
      phone: p.phone,
      role: p.role,
      userId: p.user_id,
      invitedUnitId: p.invited_unit_id,
    })),
    agenda: row.agenda,
    mode: row.mode,
    place: parts.place,
    preparation: row.preparation,
    urgent: row.urgent,
    sequence: row.sequence,
    recurrenceRule: row.recurrence_rule,
    recurrenceCountCap: row.recurrence_count_cap,
    cancelReason: row.cancel_reason,
    postponeReason: row.postpone_reason,
    reminderOffsetsMinutes: row.reminder_offsets,
    invitedUnitIds: parts.invitedUnitIds,
    occurrences: parts.occurrences.map((o) => ({
      id: o.id,
      recurrenceId: toIso(o.recurrence_id),
      startsAt: toIso(o.starts_at),
      endsAt: toIso(o.ends_at),
      status: o.status,
    })),
  };
}

/** Loads a meeting with its participants, occurrences, place and room status, or undefined. */
export async function loadMeeting(db: Db, meetingId: string): Promise<Meeting | undefined> {
  const row = await db.selectFrom('meeting').selectAll().where('id', '=', meetingId).executeTakeFirst();
  if (!row) return undefined;

  const participants = await db
    .selectFrom('participant')
    .select(['id', 'name', 'email', 'phone', 'role', 'user_id', 'invited_unit_id'])
    .where('meeting_id', '=', meetingId)
    .orderBy('position')
    .execute();
  const occurrences = await db
    .selectFrom('meeting_occurrence')
    .select(['id', 'recurrence_id', 'starts_at', 'ends_at', 'status'])
    .where('meeting_id', '=', meetingId)
    .orderBy('recurrence_id')
    .execute();
  const invitedUnits = await db.selectFrom('meeting_invited_unit').select('unit_id').where('meeting_id', '=', meetingId).orderBy('invited_at').execute();
  const room = await db.selectFrom('room').select('status').where('meeting_id', '=', meetingId).executeTakeFirst();
  const place = row.meeting_room_id
    ? await db.selectFrom('meeting_room').select(['id', 'name', 'location']).where('id', '=', row.meeting_room_id).executeTakeFirst()
    : undefined;
  return toMeeting(row, {
    participants,
    roomStatus: room?.status ?? 'pending',
    place: place ? { meetingRoomId: place.id, name: place.name, location: place.location } : null,
    invitedUnitIds: invitedUnits.map((unit) => unit.unit_id),
    occurrences,
  });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID; ids from URLs are checked before they reach SQL. */
export function isUuid(value: string | undefined): value is string {
  return value !== undefined && uuidPattern.test(value);
}
