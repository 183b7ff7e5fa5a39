import { eventSource } from '../../lib/contract/events.ts';
import { lowerHandRequestSchema } from '../../lib/contract/hands.ts';
import { resolveOccurrence } from '../../lib/domain/attendance/meeting-attendance.ts';
import { requestMetadata } from '../../lib/domain/audit.ts';
import { lowerHandAsModerator } from '../../lib/domain/hands.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'hand-lower';

/**
 * POST /api/v1/meetings/:id/hands/:participantId/lower: the chair or the
 * secretary lowers a participant's raised hand in an occurrence (the current
 * one unless `occurrenceId` is given), for example after giving them the
 * floor. A hand that is already down is left as it is and nothing is
 * audited; a lowered hand is audited and emits `meeting.hand-lowered`.
 */
export const handler = httpFunction({
  name,
  body: lowerHandRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'hand.lower');
    const participantId = params.participantId;
    const participant = isUuid(participantId)
      ? await deps.db.selectFrom('participant').select(['id', 'name']).where('id', '=', participantId).where('meeting_id', '=', meetingId).executeTakeFirst()
      : undefined;
    if (!participant) throw new HopError('PARTICIPANT_NOT_FOUND', { details: { meetingId, participantId } });

    const now = deps.now();
    const occurrence = await resolveOccurrence(deps.db, meetingId, body.occurrenceId, now);
    const { state, lowered } = await lowerHandAsModerator(deps.db, {
      meetingId,
      occurrenceId: occurrence.id,
      participant,
      principal,
      request: requestMetadata(headers),
      now,
      source: eventSource(name),
    });
    deps.log.info({ fn: name, meetingId, occurrenceId: occurrence.id, participantId: participant.id, lowered }, 'hand lowered by moderator');
    return { body: state };
  },
});
