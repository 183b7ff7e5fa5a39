import { markAttendanceRequestSchema } from '../../lib/contract/attendance.ts';
import type { MeetingStatus, OccurrenceStatus } from '../../lib/adapters/db/schema.ts';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { actorOf, recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { loadMeetingAttendance, resolveOccurrence } from '../../lib/domain/attendance/meeting-attendance.ts';
import { bumpAttendanceVersion } from '../../lib/domain/attendance/tracking.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { normalizeName } from '../../lib/domain/text-search.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'attendance-mark';

/**
 * PUT /api/v1/meetings/:id/attendance/:participantId: the chair or secretary
 * marks a participant present in person, present online, late, absent (with
 * a required reason) or represented by a delegate (name and position). The
 * mark replaces the previous one of that occurrence; it is audited and emits
 * `attendance.marked`. As for raised hands, a cancelled meeting or occurrence
 * is rejected with MEETING_CANCELLED, and a draft or a postponed meeting with
 * MEETING_STATUS_CONFLICT. An ended meeting may still be marked, so the
 * secretary can complete the list afterwards.
 */
export const handler = httpFunction({
  name,
  body: markAttendanceRequestSchema,
  handle: async ({ params, body, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'attendance.manage');
    const participantId = params.participantId;
    const participant = isUuid(participantId)
      ? await deps.db.selectFrom('participant').select(['id', 'name']).where('id', '=', participantId).where('meeting_id', '=', meetingId).executeTakeFirst()
      : undefined;
    if (!participant) throw new HopError('PARTICIPANT_NOT_FOUND', { details: { meetingId, participantId } });

    const now = deps.now();
    const occurrence = await resolveOccurrence(deps.db, meetingId, body.occurrenceId, now);
    const values = {
      status: body.status,
      absence_reason: body.status === 'absent' ? body.absenceReason! : null,
      delegate_name: body.status === 'delegated' ? normalizeName(body.delegateName!) : null,
      delegate_position: body.status === 'delegated' && body.delegatePosition ? normalizeName(body.delegatePosition) : null,
      note: body.note || null,
      marked_by: actorOf(principal).id,
      marked_at: now,
    };

    await deps.db.transaction().execute(async (trx) => {
      // The share lock keeps a cancellation from committing between this check and the mark.
      const meeting = await trx.selectFrom('meeting').select('status').where('id', '=', meetingId).forShare().executeTakeFirstOrThrow();
      const occurrenceStatus = await trx.selectFrom('meeting_occurrence').select('status').where('id', '=', occurrence.id).executeTakeFirstOrThrow();
      requireMarkable(meetingId, meeting.status, { id: occurrence.id, status: occurrenceStatus.status });

      const before = await trx
        .selectFrom('attendance_mark')
        .selectAll()
        .where('occurrence_id', '=', occurrence.id)
        .where('participant_id', '=', participant.id)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .insertInto('attendance_mark')
        .values({ occurrence_id: occurrence.id, participant_id: participant.id, meeting_id: meetingId, ...values })
        .onConflict((oc) => oc.columns(['occurrence_id', 'participant_id']).doUpdateSet(values))
        .execute();

      const snapshot = (row: typeof values | undefined) =>
        row ? { occurrenceId: occurrence.id, participantId: participant.id, status: row.status, absenceReason: row.absence_reason, delegateName: row.delegate_name, delegatePosition: row.delegate_position, note: row.note } : null;
      await recordAudit(trx, {
        principal,
        action: 'attendance.marked',
        entityType: 'attendance',
        entityId: `${occurrence.id}/${participant.id}`,
        before: snapshot(before),
        after: snapshot(values),
        ...requestMetadata(headers),
        at: now,
      });
      const event = newEvent(
        'vn.hop.attendance.marked.v1',
        {
          meetingId,
          occurrenceId: occurrence.id,
          participantId: participant.id,
          status: values.status,
          absenceReason: values.absence_reason,
          delegate: values.delegate_name ? { name: values.delegate_name, position: values.delegate_position } : null,
          markedAt: now.toISOString(),
        },
        { source: eventSource(name), subject: participant.id, time: now },
      );
      await appendToOutbox(trx, event, meetingId);
      await bumpAttendanceVersion(trx, meetingId);
    });
    deps.log.info({ fn: name, meetingId, participantId: participant.id, status: values.status }, 'attendance marked');

    const attendance = await loadMeetingAttendance(deps.db, meetingId, occurrence, now, participant.id);
    return { body: attendance.rows[0] };
  },
});

/** Throws unless attendance of the occurrence may be marked: the meeting is scheduled, in progress or ended, and the occurrence is not cancelled. */
function requireMarkable(meetingId: string, status: MeetingStatus, occurrence: { id: string; status: OccurrenceStatus }): void {
  if (status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId } });
  if (occurrence.status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId, occurrenceId: occurrence.id } });
  if (status === 'draft' || status === 'postponed') throw new HopError('MEETING_STATUS_CONFLICT', { details: { meetingId, status, action: 'attendance.mark' } });
}
