import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { scheduleMeetingRequestSchema } from '../../lib/contract/meeting.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { directoryParticipants, lockMeeting } from '../../lib/domain/meeting-changes.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import {
  checkNotice,
  checkRoomClashes,
  eventDetails,
  findPeopleClashes,
  lockMeetingRoom,
  peopleClashWarnings,
  type SchedulingWarning,
} from '../../lib/domain/scheduling.ts';
import { httpFunction } from '../../lib/runtime/function.ts';
import { writeInvitations } from '../../lib/domain/meeting-notices.ts';

const name = 'meeting-schedule';

/**
 * POST /api/v1/meetings/:id/schedule: publishes a draft. The checks a new
 * meeting gets (room clash, people clashes, minimum notice unless urgent) run
 * now, and `meeting.scheduled` is emitted with sequence 0, which provisions the
 * video room. Scheduling a meeting that is already scheduled returns it unchanged.
 */
export const handler = httpFunction({
  name,
  body: scheduleMeetingRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const warnings: SchedulingWarning[] = [];

    await deps.db.transaction().execute(async (trx) => {
      const meeting = await lockMeeting(trx, meetingId, ['draft', 'scheduled'], 'schedule');
      if (meeting.status === 'scheduled') return;
      const now = deps.now();
      const urgent = body.urgent ?? meeting.urgent;

      const occurrences = await trx
        .selectFrom('meeting_occurrence')
        .select(['starts_at', 'ends_at'])
        .where('meeting_id', '=', meetingId)
        .where('status', '!=', 'cancelled')
        .orderBy('starts_at')
        .execute();
      const ranges = occurrences.map((row) => ({ startsAt: new Date(row.starts_at), endsAt: new Date(row.ends_at) }));
      if (meeting.meeting_room_id) {
        await lockMeetingRoom(trx, meeting.meeting_room_id);
        await checkRoomClashes(trx, principal, meeting.meeting_room_id, ranges, meetingId);
      }
      const clashes = await findPeopleClashes(trx, principal, await directoryParticipants(trx, meetingId), ranges, meetingId);
      warnings.push(...peopleClashWarnings(clashes, body.onPeopleConflict));
      const first = ranges.find((range) => range.endsAt.getTime() > now.getTime());
      if (first) await checkNotice(trx, deps, { startsAt: first.startsAt, timeZone: meeting.time_zone, urgent, now });

      await trx.updateTable('meeting').set({ status: 'scheduled', urgent, updated_at: now }).where('id', '=', meetingId).execute();
      const scheduled = await loadMeeting(trx, meetingId);
      if (!scheduled) throw new Error(`meeting ${meetingId} is missing inside the transaction that scheduled it`);
      const event = newEvent('vn.hop.meeting.scheduled.v1', eventDetails(scheduled), { source: eventSource(name), subject: meetingId, time: now });
      await appendToOutbox(trx, event, meetingId);
      await writeInvitations(trx, meetingId, event.id, {
        source: eventSource(name),
        now,
        joinTokenSecret: deps.joinTokenSecret,
        publicBaseUrl: deps.publicBaseUrl,
      }, scheduled);
      await recordAudit(trx, {
        principal,
        action: 'meeting.scheduled',
        entityType: 'meeting',
        entityId: meetingId,
        before: { status: 'draft', urgent: meeting.urgent },
        after: { status: 'scheduled', urgent },
        ...requestMetadata(headers),
        at: now,
      });
      deps.log.info({ fn: name, meetingId }, 'draft scheduled');
    });

    const meeting = await loadMeeting(deps.db, meetingId);
    return { body: { ...meeting, warnings } };
  },
});
