import { z } from 'zod';
import { loadMeetingBoard } from '../../lib/domain/attendance/live-board.ts';
import { loadMeetingAttendance, resolveOccurrence } from '../../lib/domain/attendance/meeting-attendance.ts';
import { loadMeetingContext, requireAllowed } from '../../lib/domain/meeting-access.ts';
import { decide } from '../../lib/domain/policy.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/attendance[?occurrenceId=]: the attendance of one
 * occurrence (the current one by default). The chair, the secretary,
 * organisers of the unit and admins see everyone (`attendance.read-all`),
 * with the raised hands and the refused joins of the live board (`scope`
 * "all"); any other participant sees only their own row
 * (`attendance.read-own`, `scope` "own").
 */
export const handler = httpFunction({
  name: 'attendance-list',
  body: z.unknown(),
  handle: async ({ params, query, principal }, deps) => {
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    const meetingId = params.id;
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    const meeting = await loadMeetingContext(deps.db, meetingId, principal);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const now = deps.now();
    const occurrence = await resolveOccurrence(deps.db, meetingId, query.occurrenceId, now);
    if (decide(principal, 'attendance.read-all', { meeting }).allow) {
      return { body: await loadMeetingBoard(deps.db, meetingId, occurrence, now) };
    }

    requireAllowed(principal, 'attendance.read-own', { meetingId, meeting });
    const own = await deps.db
      .selectFrom('participant')
      .select('id')
      .where('meeting_id', '=', meetingId)
      .where('user_id', '=', principal.kind === 'user' ? principal.userId : '')
      .orderBy('position')
      .executeTakeFirstOrThrow();
    return { body: { scope: 'own', ...(await loadMeetingAttendance(deps.db, meetingId, occurrence, now, own.id)) } };
  },
});
