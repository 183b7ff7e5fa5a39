import type { CloudEvent } from '../../lib/contract/cloudevent.ts';
import { eventSource } from '../../lib/contract/events.ts';
import { writeMeetingNotices, type NoticeRequest } from '../../lib/domain/meeting-notices.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';

const name = 'meeting-notify';

/**
 * Tells participants about changes to their meetings: the invitation when they
 * are added, a change notice when it is updated, moved or postponed, a
 * cancellation, and reminders. The invitations of a newly scheduled meeting
 * are written by meeting-create and meeting-schedule in their own transaction
 * (`writeInvitations`), and the notices to removed participants by the
 * meeting change that removes them. Each event becomes one
 * `vn.hop.notification.requested.v1` per recipient, written with the event's
 * claim in one transaction, so a redelivered event writes nothing twice.
 */
async function notify(
  event: CloudEvent<{ meetingId: string }>,
  deps: Dependencies,
  requests: NoticeRequest[],
): Promise<void> {
  const meetingId = event.data.meetingId;
  const written = await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, name, event.id))) return null;
    let count = 0;
    for (const request of requests) {
      count += await writeMeetingNotices(trx, meetingId, request, {
        eventId: `${event.id}:${request.kind}`,
        source: eventSource(name),
        now: deps.now(),
        joinTokenSecret: deps.joinTokenSecret,
        publicBaseUrl: deps.publicBaseUrl,
      });
    }
    return count;
  });
  if (written !== null) deps.log.info({ fn: name, meetingId, eventId: event.id, type: event.type, notifications: written }, 'notifications written');
}

export const handler = eventFunction({
  name,
  on: {
    'vn.hop.meeting.updated.v1': async (event, deps) => {
      const added = event.data.addedParticipantIds;
      const current = await deps.db.selectFrom('participant').select('id').where('meeting_id', '=', event.data.meetingId).execute();
      const others = current.map((row) => row.id).filter((id) => !added.includes(id));
      // A change of the participant list alone is news only to those added.
      const changedFields = event.data.changedFields.filter((field) => field !== 'participants');
      const requests: NoticeRequest[] = [];
      if (added.length > 0) requests.push({ kind: 'scheduled', participantIds: added });
      if (changedFields.length > 0 && others.length > 0) requests.push({ kind: 'updated', participantIds: others, changedFields });
      // Removed participants are no longer stored, so meeting-update wrote their removal notices in its own transaction.
      await notify(event, deps, requests);
    },
    'vn.hop.meeting.postponed.v1': (event, deps) =>
      notify(event, deps, [{ kind: 'postponed', cancelReason: event.data.reason, changedFields: event.data.rescheduled ? ['times'] : [] }]),
    'vn.hop.meeting.cancelled.v1': (event, deps) => notify(event, deps, [{ kind: 'cancelled', cancelReason: event.data.reason }]),
    'vn.hop.meeting.occurrence.changed.v1': (event, deps) =>
      notify(event, deps, [
        {
          kind: event.data.change === 'cancelled' ? 'cancelled' : 'updated',
          occurrenceId: event.data.occurrence.occurrenceId,
          cancelReason: event.data.reason,
          changedFields: event.data.change === 'moved' ? ['times'] : [],
        },
      ]),
    'vn.hop.reminder.due.v1': (event, deps) =>
      notify(event, deps, [{ kind: 'reminder', occurrenceId: event.data.occurrenceId, reminderMinutesBefore: event.data.offsetMinutes }]),
  },
});
