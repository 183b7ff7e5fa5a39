import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { cancelMeetingRequestSchema } from '../../lib/contract/meeting.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { loadMeeting } from '../../lib/domain/meetings.ts';
import { authorizeMeeting } from '../../lib/domain/meeting-access.ts';
import { eventDetails, recordMeetingChange } from '../../lib/domain/scheduling.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-cancel';

/**
 * POST /api/v1/meetings/:id/cancel: cancels a meeting (every occurrence of a
 * series) and emits `meeting.cancelled`, on which the room is destroyed.
 * Cancelling adds 1 to the sequence and writes the change history. Cancelling
 * an already cancelled meeting returns it unchanged; an ended meeting cannot be
 * cancelled. A cancelled draft emits nothing, because nobody was invited.
 */
export const handler = httpFunction({
  name,
  body: cancelMeetingRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const meetingId = await authorizeMeeting(deps.db, params.id, principal, 'meeting.update');

    await deps.db.transaction().execute(async (trx) => {
      const meeting = await trx
        .selectFrom('meeting')
        .select(['status', 'cancel_reason', 'sequence'])
        .where('id', '=', meetingId)
        .forUpdate()
        .executeTakeFirst();
      if (!meeting) throw new HopError('MEETING_NOT_FOUND', { details: { meetingId } });
      if (meeting.status === 'cancelled') return;
      if (meeting.status === 'ended') throw new HopError('MEETING_ENDED', { details: { meetingId } });

      const now = deps.now();
      const reason = body.reason ?? null;
      const wasDraft = meeting.status === 'draft';
      const sequence = wasDraft ? meeting.sequence : meeting.sequence + 1;
      await trx
        .updateTable('meeting')
        .set({ status: 'cancelled', cancel_reason: reason, sequence, updated_at: now })
        .where('id', '=', meetingId)
        .execute();

      const before = { status: meeting.status, cancelReason: meeting.cancel_reason };
      const after = { status: 'cancelled', cancelReason: reason };
      if (!wasDraft) {
        const cancelled = await loadMeeting(trx, meetingId);
        if (!cancelled) throw new Error(`meeting ${meetingId} is missing inside the transaction that cancelled it`);
        const event = newEvent(
          'vn.hop.meeting.cancelled.v1',
          { ...eventDetails(cancelled), meetingId, reason, cancelledAt: now.toISOString() },
          { source: eventSource(name), subject: meetingId, time: now },
        );
        await appendToOutbox(trx, event, meetingId);
        await recordMeetingChange(trx, { meetingId, sequence, kind: 'cancelled', principal, before, after, at: now });
      }
      await recordAudit(trx, {
        principal,
        action: 'meeting.cancelled',
        entityType: 'meeting',
        entityId: meetingId,
        before,
        after,
        ...requestMetadata(headers),
        at: now,
      });
      deps.log.info({ fn: name, meetingId, sequence }, 'meeting cancelled');
    });

    const meeting = await loadMeeting(deps.db, meetingId);
    return { body: meeting };
  },
});
