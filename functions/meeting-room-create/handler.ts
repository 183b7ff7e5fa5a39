import { randomUUID } from 'node:crypto';
import { createMeetingRoomRequestSchema } from '../../lib/contract/scheduling.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { checkRoomUnit, toMeetingRoom } from '../../lib/domain/meeting-rooms.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** POST /api/v1/meeting-rooms: adds a physical meeting room (admins; the gateway checks meeting-room.manage). */
export const handler = httpFunction({
  name: 'meeting-room-create',
  body: createMeetingRoomRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    await checkRoomUnit(deps.db, body.unitId);
    const now = deps.now();
    const row = await deps.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('meeting_room')
        .values({ id: randomUUID(), unit_id: body.unitId, name: body.name, location: body.location, capacity: body.capacity, equipment: body.equipment, disabled_at: null, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, { principal, action: 'meeting-room.created', entityType: 'meeting-room', entityId: inserted.id, before: null, after: toMeetingRoom(inserted), ...requestMetadata(headers), at: now });
      return inserted;
    });
    return { status: 201, body: toMeetingRoom(row) };
  },
});
