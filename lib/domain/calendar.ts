/**
 * Calendar ranges in a time zone: a day, the ISO week (Monday to Sunday) or
 * the month around a date, as instants, and the local dates an occurrence
 * covers inside such a range.
 */
import { addDays, isoWeekday } from './working-days.ts';
import { localDateTime, startOfLocalDay } from './zoned-time.ts';

export type CalendarView = 'day' | 'week' | 'month';

export interface CalendarRange {
  /** First local date of the range. */
  fromDate: string;
  /** Last local date of the range, included. */
  toDate: string;
  /** Midnight at the start of `fromDate` in the time zone. */
  from: Date;
  /** Midnight after `toDate` in the time zone: the range is [from, to). */
  to: Date;
}

/** Returns the range of `view` that contains `date` (`YYYY-MM-DD`) in `timeZone`. */
export function calendarRange(view: CalendarView, date: string, timeZone: string): CalendarRange {
  let fromDate = date;
  let endDate = addDays(date, 1);
  if (view === 'week') {
    fromDate = addDays(date, 1 - isoWeekday(date));
    endDate = addDays(fromDate, 7);
  } else if (view === 'month') {
    fromDate = `${date.slice(0, 8)}01`;
    const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
    endDate = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
  }
  return { fromDate, toDate: addDays(endDate, -1), from: startOfLocalDay(fromDate, timeZone), to: startOfLocalDay(endDate, timeZone) };
}

/**
 * Lists the local dates in `range` that the occurrence [startsAt, endsAt)
 * touches in `timeZone`: a meeting from 22:00 to 01:00 is on both days. An
 * occurrence ending exactly at midnight is not on the next day.
 */
export function datesCovered(startsAt: Date, endsAt: Date, timeZone: string, range: CalendarRange): string[] {
  const first = localDateTime(startsAt, timeZone).slice(0, 10);
  const last = localDateTime(new Date(endsAt.getTime() - 1), timeZone).slice(0, 10);
  const dates: string[] = [];
  for (let date = first; date <= last; date = addDays(date, 1)) {
    if (date >= range.fromDate && date <= range.toDate) dates.push(date);
  }
  return dates;
}
