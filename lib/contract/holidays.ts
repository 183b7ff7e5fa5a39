import { z } from 'zod';
import { isCalendarDate } from '../domain/working-days.ts';
import { singleLineText } from './directory.ts';

/**
 * Schemas of the holiday calendar admin API: the date in the path, the body of
 * PUT /api/v1/holidays/{date}, the query of GET /api/v1/holidays and the
 * holiday the API returns.
 */

/** A day that exists, written `YYYY-MM-DD`. */
export const holidayDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be written YYYY-MM-DD')
  .refine(isCalendarDate, 'date must be a day that exists');

export const holidayKindSchema = z.enum(['holiday', 'working_day']);

/** Control characters other than tab and line breaks, which a note may contain. */
const noteControlCharacters = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const upsertHolidayRequestSchema = z
  .object({
    /** `holiday`: a day off. `working_day`: a Saturday or Sunday made a working day. */
    kind: holidayKindSchema.default('holiday'),
    /** Vietnamese name shown to people, such as "Tết Nguyên đán" or "Làm bù cho ngày 30/4". */
    name: singleLineText(200),
    note: z
      .string()
      .max(2000)
      .refine((value) => !noteControlCharacters.test(value), 'note must not contain control characters')
      .nullable()
      .default(null),
  })
  .strict();

/** Years the API accepts, wide enough for any calendar an admin enters. */
export const MIN_HOLIDAY_YEAR = 1900;
export const MAX_HOLIDAY_YEAR = 2200;

export const listHolidaysQuerySchema = z
  .object({
    /** Calendar year to list; the current year in Asia/Ho_Chi_Minh when absent. */
    year: z.coerce.number().int().min(MIN_HOLIDAY_YEAR).max(MAX_HOLIDAY_YEAR).optional(),
  })
  .strict();

export const holidaySchema = z.object({
  date: z.string(),
  kind: holidayKindSchema,
  name: z.string(),
  note: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedBy: z.string().nullable(),
  updatedAt: z.string(),
});
export type Holiday = z.infer<typeof holidaySchema>;

export const holidayListSchema = z.object({
  year: z.number().int(),
  holidays: z.array(holidaySchema),
});
