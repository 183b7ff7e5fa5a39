import { z } from 'zod';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit } from '../../lib/domain/audit.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-end';

/** Meetings closed per run; a backlog drains over the following runs. */
const BATCH_SIZE = 200;

/**
 * Cron-triggered: marks scheduled meetings whose end time has passed as ended
 * and emits `meeting.ended` for each, on which the room is destroyed.
 * Each meeting is closed in its own transaction, so one failure does not hold
 * back the others; the result lists what was closed.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async (_input, deps) => {
    const now = deps.now();
    const due = await deps.db
      .selectFrom('meeting')
      .select('id')
      .where('status', '=', 'scheduled')
      .where('ends_at', '<=', now)
      .orderBy('ends_at')
      .limit(BATCH_SIZE)
      .execute();

    const ended: string[] = [];
    for (const { id: meetingId } of due) {
      const changed = await deps.db.transaction().execute(async (trx) => {
        const update = await trx
          .updateTable('meeting')
          .set({ status: 'ended', updated_at: now })
          .where('id', '=', meetingId)
          .where('status', '=', 'scheduled')
          .executeTakeFirst();
        if (update.numUpdatedRows === 0n) return false;

        const event = newEvent(
          'vn.hop.meeting.ended.v1',
          { meetingId, endedAt: now.toISOString() },
          { source: eventSource(name), subject: meetingId, time: now },
        );
        await appendToOutbox(trx, event, meetingId);
        await recordAudit(trx, {
          actor: { kind: 'system', id: name },
          action: 'meeting.ended',
          entityType: 'meeting',
          entityId: meetingId,
          before: { status: 'scheduled' },
          after: { status: 'ended' },
          at: now,
        });
        return true;
      });
      if (changed) ended.push(meetingId);
    }

    if (ended.length > 0) deps.log.info({ fn: name, count: ended.length }, 'meetings ended');
    return { body: { ended } };
  },
});
