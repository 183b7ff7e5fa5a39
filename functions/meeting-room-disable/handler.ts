import { z } from 'zod';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { lockRoomRow, toMeetingRoom } from '../../lib/domain/meeting-rooms.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * POST /api/v1/meeting-rooms/:id/disable: takes a room out of use (admins).
 * New bookings and changes can no longer choose it; meetings already booked
 * keep it. Disabling a disabled room returns it unchanged.
 */
export const handler = httpFunction({
  name: 'meeting-room-disable',
  body: z.object({}).strict(),
  handle: async ({ params, principal, headers }, deps) => {
    const now = deps.now();
    const row = await deps.db.transaction().execute(async (trx) => {
      const before = await lockRoomRow(trx, params.id);
      if (before.disabled_at) return before;
      const after = await trx.updateTable('meeting_room').set({ disabled_at: now, updated_at: now }).where('id', '=', before.id).returningAll().executeTakeFirstOrThrow();
      await recordAudit(trx, { principal, action: 'meeting-room.disabled', entityType: 'meeting-room', entityId: before.id, before: toMeetingRoom(before), after: toMeetingRoom(after), ...requestMetadata(headers), at: now });
      return after;
    });
    return { body: toMeetingRoom(row) };
  },
});
