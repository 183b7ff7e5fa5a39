import { z } from 'zod';
import { attendanceSettings } from '../../lib/domain/attendance/settings.ts';
import { intervalsPastGrace, settleParticipant } from '../../lib/domain/attendance/tracking.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'attendance-settle';

/** Intervals settled per run; the next run takes the rest. */
const BATCH = 500;

/**
 * Cron: closes the attendance intervals whose grace period has passed without
 * a rejoin and writes their `attendance.left` events. Runs every minute, so a
 * `left` event follows the end of the grace period by at most about a minute.
 */
export const handler = httpFunction({
  name,
  body: z.object({}).passthrough(),
  handle: async (_input, deps) => {
    const settings = attendanceSettings();
    const now = deps.now();
    const due = await intervalsPastGrace(deps.db, now, settings.graceMs, BATCH);
    let settled = 0;
    for (const item of due) {
      const changed = await deps.db.transaction().execute((trx) => settleParticipant(trx, item, { ...settings, now, functionName: name, joinTokenSecret: deps.joinTokenSecret }));
      if (changed) settled += 1;
    }
    if (settled > 0) deps.log.info({ fn: name, settled }, 'attendance intervals settled');
    return { body: { settled } };
  },
});
