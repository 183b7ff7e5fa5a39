import { z } from 'zod';
import { listHolidaysQuerySchema } from '../../lib/contract/holidays.ts';
import { listHolidays } from '../../lib/domain/holidays.ts';
import { localDate } from '../../lib/domain/working-days.ts';
import { httpFunction, parseOrThrow } from '../../lib/runtime/function.ts';

/**
 * GET /api/v1/holidays?year=2027: the holiday calendar entries of one year
 * (the current year in Asia/Ho_Chi_Minh when `year` is absent), by date.
 * Only the exceptions are listed: Saturdays and Sundays without an entry are
 * days off and other days without an entry are working days.
 */
export const handler = httpFunction({
  name: 'holiday-list',
  body: z.unknown(),
  handle: async ({ query }, deps) => {
    const filter = parseOrThrow(listHolidaysQuerySchema, query);
    const year = filter.year ?? Number(localDate(deps.now(), 'Asia/Ho_Chi_Minh').slice(0, 4));
    const yearText = String(year).padStart(4, '0');
    const holidays = await listHolidays(deps.db, `${yearText}-01-01`, `${yearText}-12-31`);
    return { body: { year, holidays } };
  },
});
