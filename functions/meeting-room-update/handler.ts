import { updateMeetingRoomRequestSchema } from '../../lib/contract/scheduling.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { checkRoomUnit, lockRoomRow, toMeetingRoom } from '../../lib/domain/meeting-rooms.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * PATCH /api/v1/meeting-rooms/:id: changes a room's name, unit, location,
 * capacity or equipment (admins). A smaller capacity does not touch meetings
 * already booked; it applies to the next booking or change.
 */
export const handler = httpFunction({
  name: 'meeting-room-update',
  body: updateMeetingRoomRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    await checkRoomUnit(deps.db, body.unitId);
    const now = deps.now();
    const row = await deps.db.transaction().execute(async (trx) => {
      const before = await lockRoomRow(trx, params.id);
      const after = await trx
        .updateTable('meeting_room')
        .set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.unitId !== undefined ? { unit_id: body.unitId } : {}),
          ...(body.location !== undefined ? { location: body.location } : {}),
          ...(body.capacity !== undefined ? { capacity: body.capacity } : {}),
          ...(body.equipment !== undefined ? { equipment: body.equipment } : {}),
          updated_at: now,
        })
        .where('id', '=', before.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, { principal, action: 'meeting-room.updated', entityType: 'meeting-room', entityId: before.id, before: toMeetingRoom(before), after: toMeetingRoom(after), ...requestMetadata(headers), at: now });
      return after;
    });
    return { body: toMeetingRoom(row) };
  },
});
