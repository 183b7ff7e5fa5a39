import { z } from 'zod';
import { meetingStatusSchema } from '../../lib/contract/meeting.ts';
import { toIso } from '../../lib/domain/meetings.ts';
import { actions } from '../../lib/domain/policy.ts';
import { HopError } from '../../lib/errors.ts';
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
  handle: async ({ query, principal }, deps) => {
    const filter = parseOrThrow(querySchema, query);
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    if (principal.kind === 'api-key' && !principal.scopes.includes(actions['meeting.read'].scope)) {
      throw new HopError('PERMISSION_DENIED', { details: { action: 'meeting.read' } });
    }

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
        'meeting.unit_id',
        'meeting.mode',
        'meeting.urgent',
        'meeting.recurrence_rule',
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
    if (filter.from) select = select.where('meeting.last_ends_at', '>', new Date(filter.from));
    if (filter.to) select = select.where('meeting.starts_at', '<', new Date(filter.to));
    if (filter.status) select = select.where('meeting.status', '=', filter.status);

    // The same visibility as meeting.read. Admins and keys get every meeting; a person
    // gets the meetings they are invited to and, as an organiser, those of their units.
    if (principal.kind === 'user' && principal.systemRole !== 'admin') {
      const { userId, unitIds, systemRole } = principal;
      select = select.where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('participant as invited')
              .select('invited.id')
              .whereRef('invited.meeting_id', '=', 'meeting.id')
              .where('invited.user_id', '=', userId)
              // A draft is shown only to its chair and secretary among the invited.
              .where((inner) => inner.or([inner('meeting.status', '!=', 'draft'), inner('invited.role', 'in', ['chair', 'secretary'])])),
          ),
          ...(systemRole === 'organiser' && unitIds.length > 0 ? [eb('meeting.unit_id', 'in', [...unitIds])] : []),
        ]),
      );
    }

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
          unitId: row.unit_id,
          mode: row.mode,
          urgent: row.urgent,
          recurrenceRule: row.recurrence_rule,
          roomStatus: row.room_status ?? 'pending',
          participantCount: Number(row.participant_count ?? 0),
        })),
      },
    };
  },
});
