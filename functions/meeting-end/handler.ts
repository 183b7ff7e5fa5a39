import { z } from 'zod';
import { eventSource, newEvent } from '../../lib/contract/events.ts';
import { appendToOutbox } from '../../lib/adapters/db/outbox.ts';
import { recordAudit } from '../../lib/domain/audit.ts';
import { recordMeetingChange } from '../../lib/domain/scheduling.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'meeting-end';

/** How long before an occurrence's start the chair may start it; such a meeting stays in progress. */
const EARLY_START_MS = 60 * 60 * 1000;

/** Meetings closed per run; a backlog drains over the following runs. */
const BATCH_SIZE = 200;

/**
 * Cron-triggered: marks scheduled and in-progress meetings whose last
 * occurrence has ended as ended and emits `meeting.ended` for each, on which
 * the room is destroyed. A series in progress whose current occurrence is over
 * while later ones remain goes back to scheduled. Each meeting is closed in its
 * own transaction, so one failure does not hold back the others; the result
 * lists what was closed.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async (_input, deps) => {
    const now = deps.now();
    const due = await deps.db
      .selectFrom('meeting')
      .select('id')
      .where('status', 'in', ['scheduled', 'in_progress'])
      .where('last_ends_at', '<=', now)
      .orderBy('last_ends_at')
      .limit(BATCH_SIZE)
      .execute();

    const ended: string[] = [];
    for (const { id: meetingId } of due) {
      const changed = await deps.db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('meeting')
          .select(['status', 'sequence'])
          .where('id', '=', meetingId)
          .where('status', 'in', ['scheduled', 'in_progress'])
          .forUpdate()
          .executeTakeFirst();
        if (!before) return false;
        await trx.updateTable('meeting').set({ status: 'ended', updated_at: now }).where('id', '=', meetingId).execute();

        const event = newEvent(
          'vn.hop.meeting.ended.v1',
          { meetingId, endedAt: now.toISOString() },
          { source: eventSource(name), subject: meetingId, time: now },
        );
        await appendToOutbox(trx, event, meetingId);
        const actor = { kind: 'system' as const, id: name };
        await recordMeetingChange(trx, { meetingId, sequence: before.sequence, kind: 'ended', actor, before: { status: before.status }, after: { status: 'ended' }, at: now });
        await recordAudit(trx, {
          actor,
          action: 'meeting.ended',
          entityType: 'meeting',
          entityId: meetingId,
          before: { status: before.status },
          after: { status: 'ended' },
          at: now,
        });
        return true;
      });
      if (changed) ended.push(meetingId);
    }

    // In progress, but no occurrence runs now or starts within the hour, and later ones remain: wait for the next one.
    const paused = await deps.db
      .updateTable('meeting')
      .set({ status: 'scheduled', updated_at: now })
      .where('status', '=', 'in_progress')
      .where('last_ends_at', '>', now)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('meeting_occurrence')
              .select('meeting_occurrence.id')
              .whereRef('meeting_occurrence.meeting_id', '=', 'meeting.id')
              .where('meeting_occurrence.status', '!=', 'cancelled')
              .where('meeting_occurrence.starts_at', '<=', new Date(now.getTime() + EARLY_START_MS))
              .where('meeting_occurrence.ends_at', '>', now),
          ),
        ),
      )
      .returning('id')
      .execute();

    if (ended.length > 0 || paused.length > 0) deps.log.info({ fn: name, ended: ended.length, backToScheduled: paused.length }, 'meetings ended');
    return { body: { ended } };
  },
});
