import { z } from 'zod';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { lockMeeting } from '../../lib/domain/meeting-changes.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { recordMeetingChange } from '../../lib/domain/scheduling.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-finish';

/**
 * POST /api/v1/meetings/:id/end: the chair closes the meeting before the
 * `meeting-end` cron would. When later occurrences of a series remain, only the
 * running one is over and the meeting goes back to scheduled; otherwise it is
 * ended and `meeting.ended` destroys the video room.
 */
export const handler = httpFunction({
  name,
  body: z.object({}).strict(),
  handle: async ({ params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');

    await deps.db.transaction().execute(async (trx) => {
      const meeting = await lockMeeting(trx, meetingId, ['scheduled', 'in_progress', 'ended'], 'end');
      if (meeting.status === 'ended') return;
      const now = deps.now();
      const later = await trx
        .selectFrom('meeting_occurrence')
        .select('id')
        .where('meeting_id', '=', meetingId)
        .where('status', '!=', 'cancelled')
        .where('starts_at', '>', now)
        .executeTakeFirst();
      const current = await trx
        .selectFrom('meeting_occurrence')
        .select('id')
        .where('meeting_id', '=', meetingId)
        .where('status', '!=', 'cancelled')
        .where('starts_at', '<=', now)
        .orderBy('starts_at', 'desc')
        .executeTakeFirst();
      const status = later ? 'scheduled' : 'ended';
      if (status === meeting.status) return;

      await trx.updateTable('meeting').set({ status, updated_at: now }).where('id', '=', meetingId).execute();
      if (status === 'ended') {
        const event = newEvent('vn.hop.meeting.ended.v1', { meetingId, endedAt: now.toISOString() }, { source: eventSource(name), subject: meetingId, time: now });
        await appendToOutbox(trx, event, meetingId);
      }
      const change = { before: { status: meeting.status }, after: { status } };
      await recordMeetingChange(trx, { meetingId, occurrenceId: current?.id ?? null, sequence: meeting.sequence, kind: 'ended', principal, ...change, at: now });
      await recordAudit(trx, { principal, action: 'meeting.ended', entityType: 'meeting', entityId: meetingId, ...change, ...requestMetadata(headers), at: now });
      deps.log.info({ fn: name, meetingId, status }, 'meeting closed by its chair');
    });

    return { body: await loadMeeting(deps.db, meetingId) };
  },
});
