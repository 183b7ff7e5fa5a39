import { z } from 'zod';
import { isUuid, loadMeeting } from '../../lib/domain/meetings.ts';
import { loadMeetingContext, requireAllowed } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** GET /api/v1/meetings/:id: one meeting with its participants and room status. */
export const handler = httpFunction({
  name: 'meeting-get',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    const meetingId = params.id;
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const context = await loadMeetingContext(deps.db, meetingId, principal);
    if (!context) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    requireAllowed(principal, 'meeting.read', { meetingId, meeting: context });

    const meeting = await loadMeeting(deps.db, meetingId);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    return { body: meeting };
  },
});
