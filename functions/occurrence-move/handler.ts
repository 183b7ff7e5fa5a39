import { moveOccurrenceRequestSchema } from '../../lib/contract/meeting.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { changeOccurrence } from '../../lib/domain/occurrence-changes.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'occurrence-move';

/**
 * PATCH /api/v1/meetings/:id/occurrences/:occurrenceId: moves one occurrence
 * of a series to other times; it keeps its id and original start (RECURRENCE-ID).
 */
export const handler = httpFunction({
  name,
  body: moveOccurrenceRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const warnings = await changeOccurrence(
      deps,
      principal,
      meetingId,
      params.occurrenceId,
      { kind: 'moved', startsAt: new Date(body.startsAt), endsAt: new Date(body.endsAt), urgent: body.urgent, onPeopleConflict: body.onPeopleConflict },
      { functionName: name, headers },
    );
    return { body: { ...(await loadMeeting(deps.db, meetingId)), warnings } };
  },
});
