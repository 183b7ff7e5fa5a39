import type { Kysely, Transaction } from 'kysely';
import type { Database, MeetingRoomRow } from '../adapters/db/schema.ts';
import type { MeetingRoom } from '../contract/scheduling.ts';
import { HopError } from '../errors.ts';
import { toIso } from './meetings.ts';

type Db = Kysely<Database> | Transaction<Database>;

export function toMeetingRoom(row: MeetingRoomRow): MeetingRoom {
  return {
    id: row.id,
    unitId: row.unit_id,
    name: row.name,
    location: row.location,
    capacity: row.capacity,
    equipment: row.equipment,
    disabledAt: row.disabled_at ? toIso(row.disabled_at) : null,
  };
}

/** Throws REFERENCED_UNIT_NOT_FOUND unless the owning unit exists (null means no owner). */
export async function checkRoomUnit(db: Db, unitId: string | null | undefined): Promise<void> {
  if (unitId === null || unitId === undefined) return;
  const unit = await db.selectFrom('unit').select('id').where('id', '=', unitId).executeTakeFirst();
  if (!unit) throw new HopError('REFERENCED_UNIT_NOT_FOUND', { details: { unitIds: [unitId] } });
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Loads a room for update in the caller's transaction; MEETING_ROOM_NOT_FOUND when there is none. */
export async function lockRoomRow(trx: Transaction<Database>, id: string | undefined): Promise<MeetingRoomRow> {
  if (id === undefined || !uuidPattern.test(id)) throw new HopError('MEETING_ROOM_NOT_FOUND', { details: { meetingRoomId: id } });
  const row = await trx.selectFrom('meeting_room').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new HopError('MEETING_ROOM_NOT_FOUND', { details: { meetingRoomId: id } });
  return row;
}
