import { z } from 'zod';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { lockMeeting } from '../../lib/domain/meeting-changes.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { recordMeetingChange } from '../../lib/domain/scheduling.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-start';

/** How long before an occurrence's start the chair may open it. */
const EARLY_START_MS = 60 * 60 * 1000;

/**
 * POST /api/v1/meetings/:id/start: the chair opens the meeting (status
 * `in_progress`) from an hour before an occurrence starts until it ends, and
 * `meeting.started` names that occurrence. Starting a meeting in progress
 * returns it unchanged. The sequence stays: the invitation has not changed.
 */
export const handler = httpFunction({
  name,
  body: z.object({}).strict(),
  handle: async ({ params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');

    await deps.db.transaction().execute(async (trx) => {
      const meeting = await lockMeeting(trx, meetingId, ['scheduled', 'in_progress'], 'start');
      if (meeting.status === 'in_progress') return;
      const now = deps.now();
      const occurrence = await trx
        .selectFrom('meeting_occurrence')
        .select(['id', 'starts_at', 'ends_at'])
        .where('meeting_id', '=', meetingId)
        .where('status', '!=', 'cancelled')
        .where('ends_at', '>', now)
        .where('starts_at', '<=', new Date(now.getTime() + EARLY_START_MS))
        .orderBy('starts_at')
        .executeTakeFirst();
      if (!occurrence) {
        throw new HopError('MEETING_STATUS_CONFLICT', { details: { meetingId, status: meeting.status, action: 'start', reason: 'no occurrence starts within the hour or is running' } });
      }

      await trx.updateTable('meeting').set({ status: 'in_progress', updated_at: now }).where('id', '=', meetingId).execute();
      const event = newEvent('vn.hop.meeting.started.v1', { meetingId, occurrenceId: occurrence.id, startedAt: now.toISOString() }, { source: eventSource(name), subject: meetingId, time: now });
      await appendToOutbox(trx, event, meetingId);
      const change = { before: { status: meeting.status }, after: { status: 'in_progress' } };
      await recordMeetingChange(trx, { meetingId, occurrenceId: occurrence.id, sequence: meeting.sequence, kind: 'started', principal, ...change, at: now });
      await recordAudit(trx, { principal, action: 'meeting.started', entityType: 'meeting', entityId: meetingId, ...change, ...requestMetadata(headers), at: now });
      deps.log.info({ fn: name, meetingId, occurrenceId: occurrence.id }, 'meeting started');
    });

    return { body: await loadMeeting(deps.db, meetingId) };
  },
});
