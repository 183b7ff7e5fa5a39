import { z } from 'zod';
import { toMeetingRoom } from '../../lib/domain/meeting-rooms.ts';
import { parseOrThrow, httpFunction } from '../../lib/runtime/function.ts';

const querySchema = z
  .object({
    unitId: z.uuid().optional(),
    includeDisabled: z.enum(['true', 'false']).default('false'),
  })
  .strict();

/**
 * GET /api/v1/meeting-rooms: the physical rooms by name, for organisers
 * choosing one (the gateway checks meeting-room.read). `unitId` keeps the
 * rooms of that unit and the shared ones; disabled rooms only on request.
 */
export const handler = httpFunction({
  name: 'meeting-room-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(querySchema, query);
    let select = deps.db.selectFrom('meeting_room').selectAll().orderBy('name').orderBy('id').limit(1000);
    if (filter.unitId) select = select.where((eb) => eb.or([eb('unit_id', '=', filter.unitId!), eb('unit_id', 'is', null)]));
    if (filter.includeDisabled === 'false') select = select.where('disabled_at', 'is', null);
    const rows = await select.execute();
    return { body: { meetingRooms: rows.map(toMeetingRoom) } };
  },
});
