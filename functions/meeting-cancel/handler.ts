import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { cancelMeetingRequestSchema } from '../../lib/contract/meeting.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { isUuid, loadMeeting } from '../../lib/domain/meetings.ts';
import { loadMeetingContext, requireAllowed } from '../../lib/domain/meeting-access.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-cancel';

/**
 * POST /api/v1/meetings/:id/cancel: cancels a scheduled meeting and emits
 * `meeting.cancelled`, on which the room is destroyed. Cancelling an already
 * cancelled meeting returns it unchanged; an ended meeting cannot be cancelled.
 */
export const handler = httpFunction({
  name,
  body: cancelMeetingRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = params.id;
    if (principal.kind === 'anonymous') throw new HopError('AUTH_REQUIRED');
    if (!isUuid(meetingId)) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });

    const context = await loadMeetingContext(deps.db, meetingId, principal);
    if (!context) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
    requireAllowed(principal, 'meeting.update', { meetingId, meeting: context });

    await deps.db.transaction().execute(async (trx) => {
      const meeting = await trx
        .selectFrom('meeting')
        .select(['status', 'cancel_reason'])
        .where('id', '=', meetingId)
        .forUpdate()
        .executeTakeFirst();
      if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
      if (meeting.status === 'cancelled') return;
      if (meeting.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });

      const now = deps.now();
      const reason = body.reason ?? null;
      await trx
        .updateTable('meeting')
        .set({ status: 'cancelled', cancel_reason: reason, updated_at: now })
        .where('id', '=', meetingId)
        .execute();

      const event = newEvent(
        'vn.hop.meeting.cancelled.v1',
        { meetingId, reason, cancelledAt: now.toISOString() },
        { source: eventSource(name), subject: meetingId, time: now },
      );
      await appendToOutbox(trx, event, meetingId);
      await recordAudit(trx, {
        principal,
        action: 'meeting.cancelled',
        entityType: 'meeting',
        entityId: meetingId,
        before: { status: meeting.status, cancelReason: meeting.cancel_reason },
        after: { status: 'cancelled', cancelReason: reason },
        ...requestMetadata(headers),
        at: now,
      });
      deps.log.info({ fn: name, meetingId }, 'meeting cancelled');
    });

    const meeting = await loadMeeting(deps.db, meetingId);
    return { body: meeting };
  },
});
