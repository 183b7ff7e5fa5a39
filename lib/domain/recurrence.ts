/**
 * Recurring meetings: RFC 5545 RRULE values checked with the rrule package and
 * expanded into occurrences in the meeting's time zone, so "every Monday at
 * 08:00" stays at 08:00 local time whatever the UTC offset of each date.
 */
import rrulePackage from 'rrule';
import { HopError } from '../errors.ts';
import { fromFloating, toFloating } from './zoned-time.ts';

const { RRule } = rrulePackage;

/** Most occurrences hop materialises for one series. */
export const MAX_OCCURRENCES = 200;
/** Longest span of a series from its first start, in years. */
export const MAX_SERIES_YEARS = 2;

/** One occurrence as the rule gives it: its original start (the RECURRENCE-ID) and its end. */
export interface PlannedOccurrence {
  recurrenceId: Date;
  startsAt: Date;
  endsAt: Date;
}

export interface Expansion {
  occurrences: PlannedOccurrence[];
  /** Occurrence count hop stopped at because the rule has no end or runs past the caps; null when the rule ended first. */
  countCap: number | null;
}

/** Parts of a rule that would repeat a meeting more than once a day or move its time of day. */
const sub_daily = ['byhour', 'byminute', 'bysecond'] as const;

function invalid(rule: string, reason: string): HopError {
  return new HopError('RECURRENCE_INVALID', { details: { recurrenceRule: rule, reason } });
}

/**
 * Checks an RRULE value and returns it in canonical form (upper case, without
 * the `RRULE:` prefix). It is rejected with RECURRENCE_INVALID when it does not
 * parse, sets DTSTART or several lines, or repeats more often than daily.
 */
export function normaliseRecurrenceRule(input: string): string {
  const value = input.trim().replace(/^RRULE:/i, '').toUpperCase();
  if (value.length === 0 || /[\r\n]/.test(value)) throw invalid(input, 'must be one RRULE value, such as FREQ=WEEKLY;BYDAY=MO');
  if (/(^|;)DTSTART[=:;]/.test(value)) throw invalid(input, 'must not set DTSTART: the meeting start is the first occurrence');

  let options: ReturnType<typeof RRule.parseString>;
  try {
    options = RRule.parseString(value);
    new RRule(options).toString();
  } catch (error) {
    throw invalid(input, error instanceof Error ? error.message : String(error));
  }
  if (options.freq === undefined) throw invalid(input, 'FREQ is required');
  if (options.freq === RRule.HOURLY || options.freq === RRule.MINUTELY || options.freq === RRule.SECONDLY) {
    throw invalid(input, 'a meeting repeats at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)');
  }
  for (const part of sub_daily) {
    if (options[part] !== undefined && options[part] !== null) {
      throw invalid(input, `${part.toUpperCase()} is not supported: the meeting start sets the time of day`);
    }
  }
  if (options.interval !== undefined && (options.interval < 1 || options.interval > 366)) {
    throw invalid(input, 'INTERVAL must be between 1 and 366');
  }
  if (options.count !== undefined && options.count !== null && options.count < 1) throw invalid(input, 'COUNT must be at least 1');
  return value;
}

/**
 * Expands `rule` from the first occurrence (`startsAt` to `endsAt`) in
 * `timeZone`. The list stops at MAX_OCCURRENCES occurrences or
 * MAX_SERIES_YEARS years after the first start, whichever comes first; when
 * the rule goes on after that, `countCap` is the number kept.
 * The first occurrence must be `startsAt` itself.
 */
export function expandRecurrence(rule: string, startsAt: Date, endsAt: Date, timeZone: string): Expansion {
  const value = normaliseRecurrenceRule(rule);
  const durationMs = endsAt.getTime() - startsAt.getTime();
  const dtstart = toFloating(startsAt, timeZone);
  const limit = new Date(dtstart);
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_SERIES_YEARS);

  // UNTIL is a UTC instant in the rule; expand in floating time, so shift it the same way.
  const options = RRule.parseString(value);
  if (options.until) options.until = toFloating(options.until, timeZone);
  const expander = new RRule({ ...options, dtstart, tzid: null });

  const floating = expander.all((date, index) => index < MAX_OCCURRENCES && date < limit);
  if (floating.length === 0 || floating[0]!.getTime() !== dtstart.getTime()) {
    throw invalid(value, 'the meeting start must be the first occurrence of the rule (for example BYDAY must include the weekday of the start)');
  }
  const next = expander.after(floating.at(-1)!, false);
  const countCap = next === null ? null : floating.length;

  const occurrences = floating.map((date) => {
    const start = fromFloating(date, timeZone);
    return { recurrenceId: start, startsAt: start, endsAt: new Date(start.getTime() + durationMs) };
  });
  return { occurrences, countCap };
}
