import { meetingMediaRequestSchema } from '../../lib/contract/media-settings.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { loadMeetingMedia } from '../../lib/domain/meeting-media.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-media-set';

/**
 * PUT /api/v1/meetings/:id/media: sets the meeting's cap on participants
 * connected at once (`maxConnections`; null returns to
 * HOP_MEETING_MAX_CONNECTIONS). The next join is checked against it. A cap
 * below the current count disconnects no one, but rejects new joins until
 * fewer are connected. The Janus server's cap still applies. A cancelled or
 * ended meeting is rejected. Every change is audited.
 */
export const handler = httpFunction({
  name,
  body: meetingMediaRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');
    const now = deps.now();

    const previous = await deps.db.transaction().execute(async (trx) => {
      const meeting = await trx.selectFrom('meeting').select('status').where('id', '=', meetingId).forUpdate().executeTakeFirst();
      if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
      if (meeting.status === 'cancelled') throw new HopError('MEETING_CANCELLED', { details: { meetingId } });
      if (meeting.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });

      const room = await trx.selectFrom('room').select('max_connections').where('meeting_id', '=', meetingId).forUpdate().executeTakeFirst();
      if (!room) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
      await trx.updateTable('room').set({ max_connections: body.maxConnections, updated_at: now }).where('meeting_id', '=', meetingId).execute();
      await recordAudit(trx, {
        principal,
        action: 'meeting.media-updated',
        entityType: 'meeting',
        entityId: meetingId,
        before: { maxConnections: room.max_connections },
        after: { maxConnections: body.maxConnections },
        ...requestMetadata(headers),
        at: now,
      });
      return room.max_connections;
    });

    const media = await loadMeetingMedia(deps.db, meetingId, now);
    deps.log.info({ fn: name, meetingId, previous, maxConnections: body.maxConnections, connected: media.connected }, 'meeting connection cap set');
    return { body: media };
  },
});
