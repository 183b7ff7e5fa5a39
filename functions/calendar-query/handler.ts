import { z } from 'zod';
import { DEFAULT_TIME_ZONE, isKnownTimeZone } from '../../lib/contract/meeting.ts';
import { calendarQuerySchema, type calendarItemSchema } from '../../lib/contract/scheduling.ts';
import { calendarRange, datesCovered } from '../../lib/domain/calendar.ts';
import { actions, decide } from '../../lib/domain/policy.ts';
import { MAX_DURATION_MS, readableMeetingIds } from '../../lib/domain/scheduling.ts';
import { isCalendarDate } from '../../lib/domain/working-days.ts';
import { localDateTime } from '../../lib/domain/zoned-time.ts';
import { HopError } from '../../lib/errors.ts';
import { parseOrThrow, httpFunction } from '../../lib/runtime/function.ts';

type CalendarItem = z.infer<typeof calendarItemSchema>;

/** Most occurrences one calendar response lists. */
const MAX_ITEMS = 2000;

/**
 * GET /api/v1/calendar?view=day|week|month&date=YYYY-MM-DD[&timeZone=…][&user=…|unit=…|room=…]:
 * the occurrences overlapping the range, in start order.
 * Meetings the caller may read come with their details, cancelled ones
 * included. For a room or another person, admins, organisers and keys with
 * meetings:read also see the other bookings as busy blocks without title or id;
 * everyone else sees only what they may read. Drafts appear only to their editors.
 */
export const handler = httpFunction({
  name: 'calendar-query',
  body: z.unknown(),
  handle: async ({ query, principal }, deps) => {
    const filter = parseOrThrow(calendarQuerySchema, query);
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    if (principal.kind === 'api-key' && !principal.scopes.includes(actions['meeting.read'].scope)) {
      throw new HopError('PERMISSION_DENIED', { details: { action: 'meeting.read' } });
    }
    if (!isCalendarDate(filter.date)) throw new HopError('VALIDATION_FAILED', { details: [{ path: 'date', message: 'must be an existing day' }] });
    const timeZone = filter.timeZone ?? DEFAULT_TIME_ZONE;
    if (!isKnownTimeZone(timeZone)) throw new HopError('UNKNOWN_TIME_ZONE', { details: { timeZone } });

    // Without user, unit or room, a person reads their own calendar.
    let userId = filter.user;
    if (!userId && !filter.unit && !filter.room && principal.kind === 'user') userId = principal.userId;
    if (!userId && !filter.unit && !filter.room) {
      throw new HopError('VALIDATION_FAILED', { details: [{ path: 'user', message: 'missing: an API key must give user, unit or room' }] });
    }
    const range = calendarRange(filter.view, filter.date, timeZone);

    let select = deps.db
      .selectFrom('meeting_occurrence as o')
      .innerJoin('meeting as m', 'm.id', 'o.meeting_id')
      .leftJoin('meeting_room as r', 'r.id', 'm.meeting_room_id')
      .select([
        'o.id as occurrence_id',
        'o.starts_at',
        'o.ends_at',
        'o.status as occurrence_status',
        'm.id',
        'm.title',
        'm.status',
        'm.unit_id',
        'm.mode',
        'm.urgent',
        'm.time_zone',
        'm.recurrence_rule',
        'm.starts_at as meeting_starts_at',
        'm.ends_at as meeting_ends_at',
        'r.id as room_id',
        'r.name as room_name',
        'r.location as room_location',
      ])
      .where('o.starts_at', '<', range.to)
      .where('o.ends_at', '>', range.from)
      // A meeting lasts at most MAX_DURATION_MS, so this lower bound lets the index range-scan starts_at.
      .where('o.starts_at', '>', new Date(range.from.getTime() - MAX_DURATION_MS))
      .orderBy('o.starts_at')
      .orderBy('o.id')
      .limit(MAX_ITEMS + 1);
    if (userId) {
      // A person's calendar: meetings they are invited to and meetings they scheduled.
      const personId = userId;
      select = select.where('m.id', 'in', (eb) =>
        eb
          .selectFrom('participant')
          .select('participant.meeting_id')
          .where('participant.user_id', '=', personId)
          .union(eb.selectFrom('meeting as own').select('own.id as meeting_id').where('own.created_by', '=', personId)),
      );
    }
    if (filter.unit) select = select.where('m.unit_id', '=', filter.unit);
    if (filter.room) select = select.where('m.meeting_room_id', '=', filter.room);
    const rows = await select.execute();
    const truncated = rows.length > MAX_ITEMS;
    const page = rows.slice(0, MAX_ITEMS);

    const readable = await readableMeetingIds(
      deps.db,
      principal,
      page.map((row) => ({ id: row.id, unit_id: row.unit_id, status: row.status, starts_at: row.meeting_starts_at, ends_at: row.meeting_ends_at })),
    );
    const othersCalendar = filter.room !== undefined || (userId !== undefined && !(principal.kind === 'user' && principal.userId === userId));
    const showsBusy = othersCalendar && decide(principal, 'meeting-room.read').allow;

    const items = page.flatMap((row): CalendarItem[] => {
      const startsAt = new Date(row.starts_at);
      const endsAt = new Date(row.ends_at);
      const common = {
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        localStart: localDateTime(startsAt, timeZone),
        localEnd: localDateTime(endsAt, timeZone),
        dates: datesCovered(startsAt, endsAt, timeZone, range),
        busy: true as const,
      };
      if (readable.has(row.id)) {
        return [{
          ...common,
          occurrenceId: row.occurrence_id,
          status: row.occurrence_status,
          meeting: {
            id: row.id,
            title: row.title,
            status: row.status,
            unitId: row.unit_id,
            mode: row.mode,
            urgent: row.urgent,
            timeZone: row.time_zone,
            place: row.room_id ? { meetingRoomId: row.room_id, name: row.room_name!, location: row.room_location } : null,
            recurring: row.recurrence_rule !== null,
          },
        }];
      }
      const holdsTime = row.occurrence_status !== 'cancelled' && ['scheduled', 'in_progress', 'ended'].includes(row.status);
      return showsBusy && holdsTime ? [{ ...common, occurrenceId: null, status: null, meeting: null }] : [];
    });

    return {
      body: {
        view: filter.view,
        timeZone,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        fromDate: range.fromDate,
        toDate: range.toDate,
        items,
        truncated,
      },
    };
  },
});
