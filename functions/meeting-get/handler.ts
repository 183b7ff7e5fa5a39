import { z } from 'zod';
import { isUuid, loadMeeting } from '../../lib/domain/meetings.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/** GET /api/v1/meetings/:id: one meeting with its participants and room status. */
export const handler = httpFunction({
  name: 'meeting-get',
  body: z.unknown(),
  handle: async ({ params }, deps) => {
    const meetingId = params.id;
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const meeting = await loadMeeting(deps.db, meetingId);
    if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    return { body: meeting };
  },
});
