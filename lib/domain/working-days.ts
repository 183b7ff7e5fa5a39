/**
 * Working days and public holidays. Saturdays and Sundays are days off and
 * every other day is a working day, except the days admins enter in the
 * `holiday` table. A `holiday` row makes any day a day off. A `working_day`
 * row makes a Saturday or Sunday a working day, because Vietnam moves working
 * days onto weekends to compensate for bridge days around Tết and other
 * holidays. Dates are calendar dates written `YYYY-MM-DD`, without a time
 * zone, and callers turn instants into dates with `localDate`.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, HolidayKind } from '../adapters/db/schema.ts';

/**
 * Working days that must pass between sending the invitation and a regular
 * meeting. Decision 45/2018/QĐ-TTg (the meeting rules for state
 * administrative agencies) requires that the invitation and documents reach
 * attendees at least 3 working days before a regular meeting. Urgent meetings
 * are exempt.
 */
export const MIN_NOTICE_WORKING_DAYS = 3;

export interface HolidayCalendar {
  isWorkingDay(date: string): boolean;
  /** Name of the holiday on `date`, or null when the date is no holiday (a weekend or a `working_day` row included). */
  holidayName(date: string): string | null;
}

/** One entry of the calendar as `calendarFromRows` takes it; extra fields are ignored. */
export interface HolidayCalendarRow {
  date: string;
  kind: HolidayKind;
  name: string;
}

/** The dates a calendar covers, both included. */
export interface DateRange {
  fromDate: string;
  toDate: string;
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `value` is written `YYYY-MM-DD` and names a day that exists (so 2027-02-29 is false). */
export function isCalendarDate(value: string): boolean {
  const match = datePattern.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = new Date(Date.UTC(year, month - 1, day));
  return time.getUTCFullYear() === year && time.getUTCMonth() === month - 1 && time.getUTCDate() === day;
}

function requireCalendarDate(value: string, what = 'date'): void {
  if (!isCalendarDate(value)) throw new RangeError(`invalid ${what} "${value}"; expected an existing day written YYYY-MM-DD`);
}

function toUtcMidnight(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

/** Returns the date `days` days after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  requireCalendarDate(date);
  const time = toUtcMidnight(date);
  time.setUTCDate(time.getUTCDate() + days);
  return time.toISOString().slice(0, 10);
}

/** ISO day of the week: 1 for Monday … 7 for Sunday. */
export function isoWeekday(date: string): number {
  requireCalendarDate(date);
  const day = toUtcMidnight(date).getUTCDay();
  return day === 0 ? 7 : day;
}

export function isWeekend(date: string): boolean {
  return isoWeekday(date) >= 6;
}

const localDateFormats = new Map<string, Intl.DateTimeFormat>();

/** Returns the calendar date of `instant` in `timeZone` (an IANA name), as `YYYY-MM-DD`. */
export function localDate(instant: Date, timeZone: string): string {
  let format = localDateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    localDateFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * Builds a calendar from holiday rows. With `range`, asking about a date
 * outside it throws a RangeError, because rows outside the range were never
 * loaded and the result could be wrong. Without `range` every date is accepted.
 */
export function calendarFromRows(rows: readonly HolidayCalendarRow[], range?: DateRange): HolidayCalendar {
  if (range) {
    requireCalendarDate(range.fromDate, 'fromDate');
    requireCalendarDate(range.toDate, 'toDate');
  }
  const entries = new Map<string, HolidayCalendarRow>();
  for (const row of rows) {
    requireCalendarDate(row.date, 'holiday date');
    entries.set(row.date, row);
  }

  function entryOf(date: string): HolidayCalendarRow | undefined {
    requireCalendarDate(date);
    if (range && (date < range.fromDate || date > range.toDate)) {
      throw new RangeError(`date ${date} is outside the loaded holiday calendar ${range.fromDate}..${range.toDate}; load a wider range`);
    }
    return entries.get(date);
  }

  return {
    isWorkingDay(date) {
      const entry = entryOf(date);
      if (entry) return entry.kind === 'working_day';
      return !isWeekend(date);
    },
    holidayName(date) {
      const entry = entryOf(date);
      return entry?.kind === 'holiday' ? entry.name : null;
    },
  };
}

/**
 * Loads the holiday rows from `fromDate` to `toDate` (both included) and
 * returns a calendar limited to that range. Load a margin around the dates
 * you ask about: Tết alone can take more than a week of days off.
 */
export async function loadHolidayCalendar(db: Kysely<Database>, fromDate: string, toDate: string): Promise<HolidayCalendar> {
  requireCalendarDate(fromDate, 'fromDate');
  requireCalendarDate(toDate, 'toDate');
  if (toDate < fromDate) throw new RangeError(`toDate ${toDate} is before fromDate ${fromDate}`);

  const rows = await db
    .selectFrom('holiday')
    .select([sql<string>`to_char(date, 'YYYY-MM-DD')`.as('date'), 'kind', 'name'])
    .where('date', '>=', fromDate)
    .where('date', '<=', toDate)
    .execute();
  return calendarFromRows(rows, { fromDate, toDate });
}

/**
 * Counts the working days strictly after the day `sentAt` falls on and
 * strictly before the day `startsAt` falls on, both days taken in `timeZone`.
 * Neither the sending day nor the meeting day counts, however early the
 * invitation went out or however late the meeting starts. An invitation sent
 * on Monday for a meeting on Friday of a normal week has 3 working days
 * (Tuesday, Wednesday, Thursday). This is how hop reads the rule that the
 * invitation reaches attendees "at least 3 working days before" the meeting
 * (see `MIN_NOTICE_WORKING_DAYS`). Returns 0 when the meeting is on the
 * sending day, the next day, or earlier.
 */
export function noticeWorkingDays(calendar: HolidayCalendar, sentAt: Date, startsAt: Date, timeZone: string): number {
  const sentDate = localDate(sentAt, timeZone);
  const meetingDate = localDate(startsAt, timeZone);
  let count = 0;
  for (let date = addDays(sentDate, 1); date < meetingDate; date = addDays(date, 1)) {
    if (calendar.isWorkingDay(date)) count += 1;
  }
  return count;
}

/**
 * Returns the `n`-th working day after `date` (before it when `n` is
 * negative). `date` itself never counts, and `n` = 0 returns `date` unchanged,
 * working day or not.
 */
export function addWorkingDays(calendar: HolidayCalendar, date: string, n: number): string {
  requireCalendarDate(date);
  if (!Number.isInteger(n)) throw new RangeError(`n must be an integer, got ${n}`);
  const step = n < 0 ? -1 : 1;
  let remaining = Math.abs(n);
  let current = date;
  while (remaining > 0) {
    current = addDays(current, step);
    if (calendar.isWorkingDay(current)) remaining -= 1;
  }
  return current;
}

/**
 * Returns the last date on which an invitation can be sent for a meeting on
 * `meetingDate` and still have `MIN_NOTICE_WORKING_DAYS` working days of
 * notice by `noticeWorkingDays`: the day before the third working day before
 * the meeting. For a meeting on a Friday of a normal week that is Monday.
 */
export function latestSendingDate(calendar: HolidayCalendar, meetingDate: string): string {
  return addDays(addWorkingDays(calendar, meetingDate, -MIN_NOTICE_WORKING_DAYS), -1);
}
