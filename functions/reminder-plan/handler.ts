import type { CloudEvent } from '../../lib/contract/cloudevent.ts';
import { planReminders } from '../../lib/domain/reminders.ts';
import type { Dependencies } from '../../lib/runtime/dependencies.ts';
import { claimEvent, eventFunction } from '../../lib/runtime/event-function.ts';

const name = 'reminder-plan';

/**
 * Keeps each meeting's reminders in line with its occurrences: scheduling
 * plans them, moving a meeting or an occurrence moves them, and cancelling,
 * postponing or ending removes the pending ones. Every event re-plans from the
 * meeting's current state (lib/domain/reminders.ts), so order and repeats do
 * not matter.
 */
async function replan(event: CloudEvent<{ meetingId: string }>, deps: Dependencies): Promise<void> {
  const meetingId = event.data.meetingId;
  const result = await deps.db.transaction().execute(async (trx) => {
    if (!(await claimEvent(trx, name, event.id))) return null;
    return planReminders(trx, meetingId, deps.now());
  });
  if (result) deps.log.debug({ fn: name, meetingId, eventId: event.id, ...result }, 'reminders planned');
}

export const handler = eventFunction({
  name,
  on: {
    'vn.hop.meeting.scheduled.v1': replan,
    'vn.hop.meeting.updated.v1': replan,
    'vn.hop.meeting.postponed.v1': replan,
    'vn.hop.meeting.occurrence.changed.v1': replan,
    'vn.hop.meeting.cancelled.v1': replan,
    'vn.hop.meeting.ended.v1': replan,
  },
});
