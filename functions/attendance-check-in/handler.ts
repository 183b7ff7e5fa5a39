import { randomUUID } from 'node:crypto';
import { checkInRequestSchema } from '../../lib/contract/attendance.ts';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { verifyCheckInCode } from '../../lib/domain/attendance/check-in-code.ts';
import { bumpAttendanceVersion } from '../../lib/domain/attendance/tracking.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';

const name = 'attendance-check-in';

/**
 * POST /api/v1/attendance/check-in: a signed-in person checks in with the code
 * from the meeting room's QR code. Refused: an altered code or one of another
 * installation (CHECK_IN_CODE_INVALID), a code older than one rotation
 * (CHECK_IN_CODE_EXPIRED), a person not among the participants
 * (CHECK_IN_NOT_INVITED). Expired and uninvited attempts are stored so the
 * secretary sees them on the board. Checking in twice returns the first
 * check-in.
 */
export const handler = httpFunction({
  name,
  body: checkInRequestSchema,
  handle: async ({ body, principal, headers }, deps) => {
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    if (principal.kind !== 'user') throw new HopError('PERMISSION_DENIED', { details: { reason: 'only a signed-in person checks in' } });
    const now = deps.now();

    const verdict = verifyCheckInCode(body.code, now, deps.joinTokenSecret);
    if (!verdict.ok && verdict.reason === 'invalid') throw new HopError('CHECK_IN_CODE_INVALID');
    const claims = verdict.claims!;
    const occurrence = await deps.db
      .selectFrom('meeting_occurrence')
      .innerJoin('meeting', 'meeting.id', 'meeting_occurrence.meeting_id')
      .select(['meeting_occurrence.id', 'meeting.id as meetingId', 'meeting.title', 'meeting.meeting_room_id', 'meeting_occurrence.status'])
      .where('meeting_occurrence.id', '=', claims.occurrenceId)
      .executeTakeFirst();
    // A signed code names an occurrence booked in that room; a later move to another room invalidates it.
    if (!occurrence || occurrence.meeting_room_id !== claims.meetingRoomId || occurrence.status === 'cancelled') throw new HopError('CHECK_IN_CODE_INVALID');

    const user = await deps.db.selectFrom('app_user').select('display_name').where('id', '=', principal.userId).executeTakeFirst();
    const attempt = { meetingId: occurrence.meetingId, occurrenceId: occurrence.id, meetingRoomId: claims.meetingRoomId, userId: principal.userId, userName: user?.display_name ?? principal.userId };
    if (!verdict.ok) {
      await recordRefusal(deps, attempt, 'CHECK_IN_CODE_EXPIRED', now);
      throw new HopError('CHECK_IN_CODE_EXPIRED', { details: { meetingRoomId: claims.meetingRoomId } });
    }

    const participant = await deps.db
      .selectFrom('participant')
      .select('id')
      .where('meeting_id', '=', occurrence.meetingId)
      .where('user_id', '=', principal.userId)
      .orderBy('position')
      .executeTakeFirst();
    if (!participant) {
      await recordRefusal(deps, attempt, 'CHECK_IN_NOT_INVITED', now);
      deps.log.info({ fn: name, meetingId: occurrence.meetingId, userId: principal.userId }, 'check-in rejected: not invited');
      throw new HopError('CHECK_IN_NOT_INVITED', { details: { meetingId: occurrence.meetingId } });
    }

    const checkedInAt = await deps.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('attendance_check_in')
        .values({ occurrence_id: occurrence.id, participant_id: participant.id, meeting_id: occurrence.meetingId, meeting_room_id: claims.meetingRoomId, user_id: principal.userId, checked_in_at: now })
        .onConflict((oc) => oc.columns(['occurrence_id', 'participant_id']).doNothing())
        .returning('checked_in_at')
        .executeTakeFirst();
      if (!inserted) {
        const first = await trx.selectFrom('attendance_check_in').select('checked_in_at').where('occurrence_id', '=', occurrence.id).where('participant_id', '=', participant.id).executeTakeFirstOrThrow();
        return { at: new Date(first.checked_in_at), already: true };
      }
      const snapshot = { occurrenceId: occurrence.id, participantId: participant.id, meetingRoomId: claims.meetingRoomId, checkedInAt: now.toISOString() };
      await recordAudit(trx, { principal, action: 'attendance.checked-in', entityType: 'attendance', entityId: `${occurrence.id}/${participant.id}`, before: null, after: snapshot, ...requestMetadata(headers), at: now });
      const event = newEvent(
        'vn.hop.attendance.checked-in.v1',
        { meetingId: occurrence.meetingId, occurrenceId: occurrence.id, participantId: participant.id, meetingRoomId: claims.meetingRoomId, checkedInAt: now.toISOString() },
        { source: eventSource(name), subject: participant.id, time: now },
      );
      await appendToOutbox(trx, event, occurrence.meetingId);
      await bumpAttendanceVersion(trx, occurrence.meetingId);
      return { at: now, already: false };
    });

    return { body: { meetingId: occurrence.meetingId, title: occurrence.title, occurrenceId: occurrence.id, checkedInAt: checkedInAt.at.toISOString(), alreadyCheckedIn: checkedInAt.already } };
  },
});

async function recordRefusal(
  deps: Dependencies,
  attempt: { meetingId: string; occurrenceId: string; meetingRoomId: string; userId: string; userName: string },
  code: string,
  at: Date,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('attendance_check_in_attempt')
      .values({ id: randomUUID(), meeting_id: attempt.meetingId, occurrence_id: attempt.occurrenceId, meeting_room_id: attempt.meetingRoomId, user_id: attempt.userId, user_name: attempt.userName, code, attempted_at: at })
      .execute();
    await bumpAttendanceVersion(trx, attempt.meetingId);
  });
}
