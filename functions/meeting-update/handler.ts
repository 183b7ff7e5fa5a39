import { updateMeetingRequestSchema } from '../../lib/contract/meeting.ts';
import { joinPath } from '../../lib/domain/invite-key.ts';
import { changeMeeting } from '../../lib/domain/meeting-changes.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-update';

/**
 * PATCH /api/v1/meetings/:id: changes the title, agenda, times, time zone,
 * recurrence, mode, meeting room, preparation, urgency or participants. After
 * scheduling each change adds 1 to the sequence, writes the change history and
 * emits `meeting.updated`; a series' later occurrences follow new times.
 */
export const handler = httpFunction({
  name,
  body: updateMeetingRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const { addParticipants, removeParticipantIds, inviteUnitIds, onPeopleConflict, ...fields } = body;
    const result = await changeMeeting(
      deps,
      principal,
      meetingId,
      { ...fields, addParticipants, removeParticipantIds, inviteUnitIds, onPeopleConflict },
      { kind: 'update', functionName: name, headers },
    );
    const addedIds = new Map(result.added.map((invitation) => [invitation.id, invitation.inviteKey]));
    return {
      body: {
        ...result.meeting,
        addedParticipants: result.meeting.participants
          .filter((participant) => addedIds.has(participant.id))
          .map((participant) => {
            const inviteKey = addedIds.get(participant.id)!;
            return { ...participant, inviteKey, joinPath: joinPath(meetingId, inviteKey) };
          }),
        warnings: result.warnings,
      },
    };
  },
});
