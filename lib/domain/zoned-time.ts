/**
 * Wall-clock time in an IANA time zone. A "floating" Date carries a local
 * date and time in its UTC fields (2026-12-07 08:00 in Hà Nội is the floating
 * Date 2026-12-07T08:00:00Z), the form the rrule package expands rules in.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** Returns the wall clock of `instant` in `timeZone` as a floating Date (milliseconds kept). */
export function toFloating(instant: Date, timeZone: string): Date {
  const parts = Object.fromEntries(formatFor(timeZone).formatToParts(instant).map((part) => [part.type, part.value]));
  const floating = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return new Date(floating + instant.getUTCMilliseconds());
}

/**
 * Returns the instant at which the wall clock in `timeZone` shows `floating`.
 * A wall-clock time skipped by a daylight-saving jump resolves to the instant
 * after the jump, and a repeated one to its first instant.
 */
export function fromFloating(floating: Date, timeZone: string): Date {
  const target = floating.getTime();
  let guess = target;
  for (let attempt = 0; attempt < 4; attempt++) {
    const offset = toFloating(new Date(guess), timeZone).getTime() - guess;
    const next = target - offset;
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess);
}

/** Returns the instant of midnight at the start of `date` (`YYYY-MM-DD`) in `timeZone`. */
export function startOfLocalDay(date: string, timeZone: string): Date {
  return fromFloating(new Date(`${date}T00:00:00Z`), timeZone);
}

/** Formats `instant` as local `YYYY-MM-DDTHH:MM` in `timeZone`, for display fields of the API. */
export function localDateTime(instant: Date, timeZone: string): string {
  return toFloating(instant, timeZone).toISOString().slice(0, 16);
}
