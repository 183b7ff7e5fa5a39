import { z } from 'zod';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { loadMeetingMedia } from '../../lib/domain/meeting-media.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/meetings/:id/media: the meeting's cap on concurrent
 * connections, the defaults it falls back to, and the participants connected now.
 */
export const handler = httpFunction({
  name: 'meeting-media-get',
  body: z.unknown(),
  handle: async ({ params, principal }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.read');
    return { body: await loadMeetingMedia(deps.db, meetingId, deps.now()) };
  },
});
