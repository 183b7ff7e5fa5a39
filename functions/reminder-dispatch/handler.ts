import { z } from 'zod';
import { eventSource } from '../../lib/contract/events.ts';
import { dispatchDueReminders } from '../../lib/domain/reminders.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'reminder-dispatch';

/**
 * Cron-triggered every minute: claims the reminders that are due and emits
 * `vn.hop.reminder.due.v1` for each (meeting-notify then writes the
 * participants' notifications). Several copies may run at once, and a copy
 * that crashes mid-batch leaves that batch for the next run; see
 * `dispatchDueReminders` for why each reminder is emitted exactly once.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async (_input, deps) => {
    const result = await dispatchDueReminders(deps.db, deps.now, { source: eventSource(name) });
    if (result.emitted + result.skipped > 0) deps.log.info({ fn: name, ...result }, 'due reminders dispatched');
    return { body: result };
  },
});
