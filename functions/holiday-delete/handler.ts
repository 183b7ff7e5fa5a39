import { recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { deleteHoliday, loadHolidayForUpdate, parseHolidayDate } from '../../lib/domain/holidays.ts';
import { HopError } from '../../lib/errors.ts';
import { z } from 'zod';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'holiday-delete';

/**
 * DELETE /api/v1/holidays/:date: removes the calendar entry of one date, so
 * the date goes back to the weekend rule. HOLIDAY_NOT_FOUND when there is no
 * entry. Returns the removed entry; the deletion and its audit record commit
 * in one transaction.
 */
export const handler = httpFunction({
  name,
  body: z.unknown(),
  handle: async ({ params, principal, headers }, deps) => {
    const date = parseHolidayDate(params.date);
    const now = deps.now();
    const removed = await deps.db.transaction().execute(async (trx) => {
      const current = await loadHolidayForUpdate(trx, date);
      if (!current) throw new HopError('HOLIDAY_NOT_FOUND', { details: { date } });
      await deleteHoliday(trx, date);
      await recordAudit(trx, {
        principal,
        action: 'holiday.deleted',
        entityType: 'holiday',
        entityId: date,
        before: current,
        after: null,
        ...requestMetadata(headers),
        at: now,
      });
      return current;
    });
    deps.log.info({ fn: name, date }, 'holiday deleted');
    return { body: removed };
  },
});
