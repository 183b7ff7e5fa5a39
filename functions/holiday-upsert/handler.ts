import { upsertHolidayRequestSchema } from '../../lib/contract/holidays.ts';
import { actorOf, recordAudit, requestMetadata } from '../../lib/domain/audit.ts';
import { loadHolidayForUpdate, parseHolidayDate, upsertHoliday } from '../../lib/domain/holidays.ts';
import { isWeekend } from '../../lib/domain/working-days.ts';
import { HopError } from '../../lib/errors.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'holiday-upsert';

/**
 * PUT /api/v1/holidays/:date: enters or replaces the calendar entry of one
 * date, `holiday` (a day off) or `working_day` (a Saturday or Sunday made a
 * working day; WORKING_DAY_NOT_WEEKEND on a weekday). Returns 201 when the
 * date had no entry and 200 when it replaced one; the change and its audit
 * record commit in one transaction.
 */
export const handler = httpFunction({
  name,
  body: upsertHolidayRequestSchema,
  handle: async ({ body, params, principal, headers }, deps) => {
    const date = parseHolidayDate(params.date);
    if (body.kind === 'working_day' && !isWeekend(date)) {
      throw new HopError('WORKING_DAY_NOT_WEEKEND', { details: { date } });
    }

    const now = deps.now();
    const { before, after } = await deps.db.transaction().execute(async (trx) => {
      const current = await loadHolidayForUpdate(trx, date);
      const saved = await upsertHoliday(trx, { date, kind: body.kind, name: body.name, note: body.note, actorId: actorOf(principal).id, now });
      await recordAudit(trx, {
        principal,
        action: current ? 'holiday.updated' : 'holiday.created',
        entityType: 'holiday',
        entityId: date,
        before: current,
        after: saved,
        ...requestMetadata(headers),
        at: now,
      });
      return { before: current, after: saved };
    });
    deps.log.info({ fn: name, date, kind: after.kind, created: before === null }, 'holiday saved');
    return { status: before ? 200 : 201, body: after };
  },
});
