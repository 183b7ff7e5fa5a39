import { cancelOccurrenceRequestSchema } from '../../lib/contract/meeting.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { changeOccurrence } from '../../lib/domain/occurrence-changes.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'occurrence-cancel';

/**
 * POST /api/v1/meetings/:id/occurrences/:occurrenceId/cancel: cancels one
 * occurrence of a series; cancelling one already cancelled changes nothing.
 */
export const handler = httpFunction({
  name,
  body: cancelOccurrenceRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    await changeOccurrence(deps, principal, meetingId, params.occurrenceId, { kind: 'cancelled', reason: body.reason ?? null }, { functionName: name, headers });
    return { body: await loadMeeting(deps.db, meetingId) };
  },
});
