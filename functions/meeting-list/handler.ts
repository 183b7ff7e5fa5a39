import { z } from 'zod';
import { meetingStatusSchema } from '../../lib/contract/meeting.ts';
import { toIso } from '../../lib/domain/meetings.ts';
import { parseOrThrow, httpFunction } from '../../lib/runtime/function.ts';

const querySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  status: meetingStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * GET /api/v1/meetings: meetings ordered by start time, optionally those that
 * overlap [from, to) and have a given status.
 */
export const handler = httpFunction({
  name: 'meeting-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(querySchema, query);

    let select = deps.db
      .selectFrom('meeting')
      .leftJoin('room', 'room.meeting_id', 'meeting.id')
      .select((eb) => [
        'meeting.id',
        'meeting.title',
        'meeting.starts_at',
        'meeting.ends_at',
        'meeting.time_zone',
        'meeting.status',
        'room.status as room_status',
        eb
          .selectFrom('participant')
          .whereRef('participant.meeting_id', '=', 'meeting.id')
          .select((inner) => inner.fn.countAll<number>().as('n'))
          .as('participant_count'),
      ])
      .orderBy('meeting.starts_at')
      .orderBy('meeting.id')
      .limit(filter.limit);
    if (filter.from) select = select.where('meeting.ends_at', '>', new Date(filter.from));
    if (filter.to) select = select.where('meeting.starts_at', '<', new Date(filter.to));
    if (filter.status) select = select.where('meeting.status', '=', filter.status);

    const rows = await select.execute();
    return {
      body: {
        meetings: rows.map((row) => ({
          id: row.id,
          title: row.title,
          startsAt: toIso(row.starts_at),
          endsAt: toIso(row.ends_at),
          timeZone: row.time_zone,
          status: row.status,
          roomStatus: row.room_status ?? 'pending',
          participantCount: Number(row.participant_count ?? 0),
        })),
      },
    };
  },
});
