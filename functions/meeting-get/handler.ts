import { z } from 'zod';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** GET /api/v1/meetings/:id: one meeting with its participants, occurrences, place and room status. */
export const handler = httpFunction({
  name: 'meeting-get',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.read');
    const meeting = await loadMeeting(deps.db, meetingId);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    return { body: meeting };
  },
});
