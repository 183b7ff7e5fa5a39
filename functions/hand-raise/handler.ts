import { eventSource } from '../../lib/contract/events.ts';
import { handRequestSchema } from '../../lib/contract/hands.ts';
import { resolveOccurrence } from '../../lib/domain/attendance/meeting-attendance.ts';
import { loadHandState, requireHandWindow, setOwnHand } from '../../lib/domain/hands.ts';
import { findJoiningParticipant, requireMeetingOpen } from '../../lib/domain/joining-participant.ts';
import { isUuid } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'hand-raise';

/**
 * POST /api/v1/meetings/:id/hand: the join page raises or lowers its
 * participant's hand in the current occurrence (`raised`), or only reads it
 * (no `raised`), for example after a reconnect or while waiting for the chair.
 * The participant is found as join-issue finds them: by the invitation key,
 * or as the signed-in person invited. Raising needs the meeting open to them
 * as joining does. It also needs the time within the occurrence's hand
 * window, from 30 minutes before the start until the end, as for guests
 * joining. Lowering and reading need neither.
 */
export const handler = httpFunction({
  name,
  body: handRequestSchema,
  handle: async ({ body, params, principal }, deps) => {
    const meetingId = params.id;
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    const meeting = await deps.db.selectFrom('meeting').select(['id', 'status', 'starts_at', 'ends_at']).where('id', '=', meetingId).executeTakeFirst();
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const participant = await findJoiningParticipant(deps.db, meetingId, body.inviteKey, principal);
    const now = deps.now();
    if (body.raised === true) requireMeetingOpen(meeting, participant, now, 'raise-hand');
    const occurrence = await resolveOccurrence(deps.db, meetingId, undefined, now);
    if (body.raised === true) requireHandWindow(meetingId, occurrence, now);

    if (body.raised === undefined) return { body: await loadHandState(deps.db, meetingId, occurrence.id, participant.id) };

    const state = await setOwnHand(deps.db, {
      meetingId,
      occurrenceId: occurrence.id,
      participant,
      raised: body.raised,
      now,
      source: eventSource(name),
    });
    deps.log.info({ fn: name, meetingId, occurrenceId: occurrence.id, participantId: participant.id, raised: state.raised, position: state.position }, 'hand set');
    return { body: state };
  },
});
