/**
 * iCalendar (RFC 5545) files for invitations, changes and cancellations
 * (iTIP, RFC 5546: METHOD REQUEST, CANCEL or PUBLISH), built with ical.js.
 * Times are written as local times with a TZID. The file carries a VTIMEZONE
 * for every zone it uses, generated from the time zone data of the Node.js
 * runtime (`Intl`), so a calendar in another zone computes the same instants.
 */
import ICAL from 'ical.js';

type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalRecur = InstanceType<typeof ICAL.Recur>;
type IcalUtcOffset = InstanceType<typeof ICAL.UtcOffset>;

export interface IcalEventInput {
  uid: string;
  /** iTIP SEQUENCE: 0 for the first invitation, raised with every change the attendees must see. */
  sequence: number;
  title: string;
  description?: string | null;
  location?: string | null;
  url?: string | null;
  /** ISO 8601 instants with an offset or `Z`. */
  startsAt: string;
  endsAt: string;
  /** IANA time zone the local times are written in, such as Asia/Ho_Chi_Minh. */
  timeZone: string;
  organizer?: { name: string; email?: string | null } | null;
  attendees?: { name: string; email?: string | null; role?: 'chair' | 'secretary' | 'participant' | 'observer' | 'guest' }[];
  status?: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';
  /** RRULE value such as `FREQ=WEEKLY;BYDAY=MO;COUNT=10`, with or without the `RRULE:` prefix. */
  recurrenceRule?: string | null;
  /** Original start instants (ISO 8601) of occurrences removed from the series. */
  exceptionDates?: string[];
  /** Original start instant (ISO 8601) of the occurrence this event overrides; the UID is the series UID. */
  recurrenceId?: string | null;
  /** Last change of the meeting (ISO 8601), written as LAST-MODIFIED. */
  updatedAt?: string;
}

const PRODID = '-//hop//hop meeting platform//VI';

/** Maximum content line length in octets, without the CRLF (RFC 5545 section 3.1). */
const MAX_LINE_OCTETS = 75;

/** How far before the first and after the last time of the file the VTIMEZONE observances reach. */
const ZONE_MARGIN_MS = 366 * 24 * 3600_000;
/** How far a series without UNTIL is covered by VTIMEZONE observances. */
const OPEN_SERIES_YEARS = 10;

/** Returns the stable UID of a meeting's events, so every REQUEST and CANCEL updates the same calendar entry. */
export function meetingUid(meetingId: string): string {
  return `${meetingId}@hop`;
}

export interface CalendarInput {
  method?: 'REQUEST' | 'CANCEL' | 'PUBLISH';
  name?: string;
  events: IcalEventInput[];
  now?: Date;
}

/** The properties of an event that may differ between the copies of one calendar sent to different people. */
export type IcalPersonalFields = Pick<IcalEventInput, 'description' | 'location' | 'url' | 'attendees'>;

/**
 * A calendar whose shared part (header, VTIMEZONEs, times, title, organizer)
 * is built once. `render` adds each event's personal fields, so one meeting
 * notice costs one full build and a few content lines per recipient.
 */
export interface CalendarTemplate {
  /** Returns the calendar with `personal[i]` written into the i-th event. A missing entry adds nothing. */
  render(personal: readonly IcalPersonalFields[]): string;
}

/**
 * Builds a VCALENDAR with one VEVENT per input and a VTIMEZONE per zone used.
 * With `method: 'CANCEL'` every event gets STATUS:CANCELLED, as RFC 5546
 * requires. `now` sets DTSTAMP (the current time by default).
 * Throws a RangeError for an unknown time zone, an invalid instant, an end
 * before the start or an RRULE that cannot be parsed.
 */
export function buildCalendar(input: CalendarInput): string {
  return prepareCalendar(input).render(input.events);
}

/**
 * Builds the shared part of the calendar `input` describes and returns a
 * template for its copies (see `buildCalendar` for the checks). The events'
 * personal fields in `input` are ignored, because `render` takes them per copy.
 */
export function prepareCalendar(input: CalendarInput): CalendarTemplate {
  const calendar = new ICAL.Component('vcalendar');
  calendar.addPropertyWithValue('prodid', PRODID);
  calendar.addPropertyWithValue('version', '2.0');
  calendar.addPropertyWithValue('calscale', 'GREGORIAN');
  if (input.method) calendar.addPropertyWithValue('method', input.method);
  if (input.name) calendar.addPropertyWithValue('x-wr-calname', text(input.name));

  const stamp = utcTime(input.now ?? new Date());
  const zones = new Map<string, { from: number; to: number }>();
  const events = input.events.map((event) => buildEvent(event, input.method, stamp, zones));

  for (const [zone, span] of zones) calendar.addSubcomponent(buildTimezone(zone, span.from - ZONE_MARGIN_MS, span.to + ZONE_MARGIN_MS));
  for (const event of events) calendar.addSubcomponent(event);

  // TEXT values escape line breaks, so a line reading END:VEVENT is always the end of an event.
  const pieces = foldLines(calendar.toString()).split(EVENT_END);
  if (pieces.length !== events.length + 1) throw new Error(`expected ${events.length} END:VEVENT lines in the calendar, found ${pieces.length - 1}`);
  return {
    render(personal) {
      let document = pieces[0]!;
      for (let index = 1; index < pieces.length; index++) {
        const fields = personal[index - 1];
        if (fields) document += personalLines(fields);
        document += EVENT_END + pieces[index]!;
      }
      return document;
    },
  };
}

const EVENT_END = 'END:VEVENT\r\n';

/** Serialises the personal fields of one event as folded content lines, each ending in CRLF. */
function personalLines(fields: IcalPersonalFields): string {
  const event = new ICAL.Component('vevent');
  if (fields.description) event.addPropertyWithValue('description', text(fields.description));
  if (fields.location) event.addPropertyWithValue('location', text(fields.location));
  if (fields.url) event.addPropertyWithValue('url', fields.url);
  for (const attendee of fields.attendees ?? []) {
    // NOTE: ATTENDEE needs a calendar address (a URI), so people without an e-mail address are
    // left out of the list. The DESCRIPTION written by the notification texts still names the chair and secretary.
    if (!attendee.email) continue;
    const property = event.addPropertyWithValue('attendee', `mailto:${attendee.email}`);
    property.setParameter('cn', text(attendee.name));
    property.setParameter('role', attendeeRole(attendee.role));
    property.setParameter('partstat', 'NEEDS-ACTION');
    property.setParameter('cutype', 'INDIVIDUAL');
  }
  let lines = '';
  for (const property of event.getAllProperties()) {
    lines += `${foldLine(ICAL.stringify.property(property.toJSON(), ICAL.design.icalendar, true))}\r\n`;
  }
  return lines;
}

function buildEvent(
  input: IcalEventInput,
  method: 'REQUEST' | 'CANCEL' | 'PUBLISH' | undefined,
  stamp: IcalTime,
  zones: Map<string, { from: number; to: number }>,
): IcalComponent {
  requireTimeZone(input.timeZone);
  const startsAt = instant(input.startsAt, 'startsAt');
  const endsAt = instant(input.endsAt, 'endsAt');
  if (endsAt.getTime() < startsAt.getTime()) throw new RangeError(`event ${input.uid}: endsAt ${input.endsAt} is before startsAt ${input.startsAt}`);
  if (!Number.isInteger(input.sequence) || input.sequence < 0) throw new RangeError(`event ${input.uid}: sequence must be a non-negative integer`);

  const event = new ICAL.Component('vevent');
  event.addPropertyWithValue('uid', input.uid);
  event.addPropertyWithValue('dtstamp', stamp);
  event.addPropertyWithValue('sequence', input.sequence);
  if (input.updatedAt) event.addPropertyWithValue('last-modified', utcTime(instant(input.updatedAt, 'updatedAt')));

  const span = { from: startsAt.getTime(), to: endsAt.getTime() };
  addZonedTime(event, 'dtstart', startsAt, input.timeZone);
  addZonedTime(event, 'dtend', endsAt, input.timeZone);

  if (input.recurrenceId) {
    const original = instant(input.recurrenceId, 'recurrenceId');
    addZonedTime(event, 'recurrence-id', original, input.timeZone);
    span.from = Math.min(span.from, original.getTime());
    span.to = Math.max(span.to, original.getTime());
  }
  if (input.recurrenceRule) {
    const recur = parseRule(input.recurrenceRule, input.timeZone);
    event.addPropertyWithValue('rrule', recur);
    span.to = Math.max(span.to, recur.until ? recur.until.toJSDate().getTime() : startsAt.getTime() + OPEN_SERIES_YEARS * 366 * 24 * 3600_000);
  }
  for (const excluded of input.exceptionDates ?? []) {
    addZonedTime(event, 'exdate', instant(excluded, 'exceptionDates'), input.timeZone);
  }
  const known = zones.get(input.timeZone);
  zones.set(input.timeZone, known ? { from: Math.min(known.from, span.from), to: Math.max(known.to, span.to) } : span);

  event.addPropertyWithValue('summary', text(input.title));
  event.addPropertyWithValue('status', method === 'CANCEL' ? 'CANCELLED' : (input.status ?? 'CONFIRMED'));
  event.addPropertyWithValue('transp', 'OPAQUE');

  if (input.organizer?.email) {
    const organizer = event.addPropertyWithValue('organizer', `mailto:${input.organizer.email}`);
    organizer.setParameter('cn', text(input.organizer.name));
  }
  // DESCRIPTION, LOCATION, URL and ATTENDEE are added per copy by `personalLines`.
  return event;
}

function attendeeRole(role: NonNullable<IcalEventInput['attendees']>[number]['role']): string {
  if (role === 'chair') return 'CHAIR';
  if (role === 'observer' || role === 'guest') return 'OPT-PARTICIPANT';
  return 'REQ-PARTICIPANT';
}

/** Vietnamese text is written in NFC, the form hop stores and compares. */
function text(value: string): string {
  return value.normalize('NFC');
}

function instant(value: string, field: string): Date {
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(parsed.getTime())) {
    throw new RangeError(`invalid ${field} "${value}"; expected an ISO 8601 instant such as 2026-12-07T07:30:00Z`);
  }
  return parsed;
}

const knownTimeZones = new Set<string>();

function requireTimeZone(timeZone: string): void {
  if (knownTimeZones.has(timeZone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    knownTimeZones.add(timeZone);
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}"; use an IANA name such as Asia/Ho_Chi_Minh`);
  }
}

function utcTime(value: Date): IcalTime {
  return ICAL.Time.fromJSDate(new Date(Math.floor(value.getTime() / 1000) * 1000), true);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const localFormats = new Map<string, Intl.DateTimeFormat>();

/** Returns the wall-clock time of `value` in `timeZone`. */
function localParts(value: Date, timeZone: string): LocalParts {
  let format = localFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    localFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(value).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function floatingTime(parts: LocalParts): IcalTime {
  return ICAL.Time.fromData({ ...parts, isDate: false });
}

/** Adds `name;TZID=zone:local time` for the instant `value`. */
function addZonedTime(component: IcalComponent, name: string, value: Date, timeZone: string): void {
  const property = component.addPropertyWithValue(name, floatingTime(localParts(value, timeZone)));
  property.setParameter('tzid', timeZone);
}

/**
 * Parses an RRULE. RFC 5545 requires UNTIL in UTC when DTSTART has a TZID, so
 * a floating UNTIL is read as local time in `timeZone` and a date UNTIL as the
 * end of that local day, and both are written in UTC.
 */
function parseRule(rule: string, timeZone: string): IcalRecur {
  let recur: IcalRecur;
  try {
    recur = ICAL.Recur.fromString(rule.replace(/^RRULE:/i, '').trim());
  } catch (error) {
    throw new RangeError(`invalid recurrence rule "${rule}": ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!recur.freq) throw new RangeError(`invalid recurrence rule "${rule}": FREQ is missing`);
  const until = recur.until;
  if (until && until.zone !== ICAL.Timezone.utcTimezone) {
    const local = until.isDate
      ? { year: until.year, month: until.month, day: until.day, hour: 23, minute: 59, second: 59 }
      : { year: until.year, month: until.month, day: until.day, hour: until.hour, minute: until.minute, second: until.second };
    recur.until = utcTime(fromLocal(local, timeZone));
  }
  return recur;
}

/** Returns the instant at which the wall clock of `timeZone` shows `local` (the earlier one when a fold repeats it). */
function fromLocal(local: LocalParts, timeZone: string): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  let guess = asUtc - offsetMinutes(new Date(asUtc), timeZone) * 60_000;
  guess = asUtc - offsetMinutes(new Date(guess), timeZone) * 60_000;
  return new Date(guess);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** UTC offset of `timeZone` at `value`, in minutes east of UTC. */
function offsetMinutes(value: Date, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(value).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (!match) throw new Error(`cannot read the UTC offset of ${timeZone} from "${name}"`);
  if (!match[1]) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]) + Number(match[4] ?? 0) / 60;
  return match[1] === '-' ? -minutes : minutes;
}

function utcOffset(minutes: number): IcalUtcOffset {
  const sign = minutes < 0 ? -1 : 1;
  const absolute = Math.abs(Math.round(minutes));
  return new ICAL.UtcOffset({ hours: Math.floor(absolute / 60), minutes: absolute % 60, factor: sign });
}

const DAY_MS = 24 * 3600_000;
const MINUTE_MS = 60_000;

type Transition = { at: number; before: number; after: number };

/**
 * Recent results of `scanTransitions` over whole UTC years. Meetings of the
 * same years share one scan, because each file's span (a year either side of
 * the meeting) differs from the next meeting's by days only.
 */
const transitionCache = new Map<string, Transition[]>();
const TRANSITION_CACHE_SIZE = 256;

/** Returns the offset changes of `timeZone` after `from` and up to a day after `to` (ms since the epoch), to the minute. */
function offsetTransitions(timeZone: string, from: number, to: number): Transition[] {
  const firstYear = new Date(from).getUTCFullYear();
  const lastYear = new Date(to + DAY_MS).getUTCFullYear();
  const key = `${timeZone}|${firstYear}|${lastYear}`;
  let transitions = transitionCache.get(key);
  if (!transitions) {
    transitions = scanTransitions(timeZone, Date.UTC(firstYear, 0, 1), Date.UTC(lastYear + 1, 0, 1) - DAY_MS);
    if (transitionCache.size >= TRANSITION_CACHE_SIZE) transitionCache.delete(transitionCache.keys().next().value!);
    transitionCache.set(key, transitions);
  }
  return transitions.filter((transition) => transition.at > from && transition.at <= to + DAY_MS);
}

/** Scans day by day for offset changes, about 730 time-zone lookups for the usual two-year span. */
function scanTransitions(timeZone: string, from: number, to: number): Transition[] {
  const transitions: Transition[] = [];
  let previousTime = from;
  let previousOffset = offsetMinutes(new Date(from), timeZone);
  // NOTE: this daily scan misses an offset change that is undone within the same day. No zone
  // in the tz database does that in the years hop schedules meetings for.
  for (let time = from + DAY_MS; time <= to + DAY_MS; time += DAY_MS) {
    const offset = offsetMinutes(new Date(time), timeZone);
    if (offset === previousOffset) {
      previousTime = time;
      continue;
    }
    let low = previousTime;
    let high = time;
    while (high - low > MINUTE_MS) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetMinutes(new Date(middle), timeZone) === previousOffset) low = middle;
      else high = middle;
    }
    transitions.push({ at: high, before: previousOffset, after: offset });
    previousTime = time;
    previousOffset = offset;
  }
  return transitions;
}

/**
 * Builds the VTIMEZONE of `timeZone` for the span `from`..`to`: one
 * observance with the offset at `from`, then one per offset change in the
 * span, each with its own DTSTART (local time before the change). An
 * observance that raises the offset is written as DAYLIGHT, any other as
 * STANDARD. Zones without changes, such as Asia/Ho_Chi_Minh (UTC+07:00 since
 * 1975), get a single STANDARD observance.
 */
function buildTimezone(timeZone: string, from: number, to: number): IcalComponent {
  const zone = new ICAL.Component('vtimezone');
  zone.addPropertyWithValue('tzid', timeZone);

  const startOffset = offsetMinutes(new Date(from), timeZone);
  const first = new ICAL.Component('standard');
  first.addPropertyWithValue('dtstart', floatingTime(localParts(new Date(from), timeZone)));
  first.addPropertyWithValue('tzoffsetfrom', utcOffset(startOffset));
  first.addPropertyWithValue('tzoffsetto', utcOffset(startOffset));
  addZoneName(first, timeZone, from);
  zone.addSubcomponent(first);

  for (const transition of offsetTransitions(timeZone, from, to)) {
    const observance = new ICAL.Component(transition.after > transition.before ? 'daylight' : 'standard');
    const localBefore = new Date(transition.at + transition.before * MINUTE_MS);
    observance.addPropertyWithValue(
      'dtstart',
      floatingTime({
        year: localBefore.getUTCFullYear(),
        month: localBefore.getUTCMonth() + 1,
        day: localBefore.getUTCDate(),
        hour: localBefore.getUTCHours(),
        minute: localBefore.getUTCMinutes(),
        second: localBefore.getUTCSeconds(),
      }),
    );
    observance.addPropertyWithValue('tzoffsetfrom', utcOffset(transition.before));
    observance.addPropertyWithValue('tzoffsetto', utcOffset(transition.after));
    addZoneName(observance, timeZone, transition.at);
    zone.addSubcomponent(observance);
  }
  return zone;
}

/** Adds TZNAME when the runtime has a letter abbreviation for the zone (EST, CET). Names such as "GMT+7" are left out. */
const shortNameFormats = new Map<string, Intl.DateTimeFormat>();

function addZoneName(observance: IcalComponent, timeZone: string, at: number): void {
  let format = shortNameFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' });
    shortNameFormats.set(timeZone, format);
  }
  const name = format
    .formatToParts(new Date(at))
    .find((part) => part.type === 'timeZoneName')?.value;
  if (name && /^[A-Z]{2,6}$/.test(name) && name !== 'GMT') observance.addPropertyWithValue('tzname', name);
  else if (name === 'GMT' || name === 'UTC') observance.addPropertyWithValue('tzname', 'UTC');
}


/**
 * Folds content lines at 75 octets of UTF-8 (RFC 5545 section 3.1): the
 * first line holds up to 75 octets, each continuation line a space and up to
 * 74. Lines are cut between code points, so no UTF-8 sequence is split, and
 * never just before a combining mark. ical.js folds on its own with a
 * continuation line one octet too long, so its output is unfolded first.
 */
function foldLines(document: string): string {
  const lines = document.replace(/\r\n[ \t]/g, '').split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}

/** Bytes of one code point in UTF-8. */
function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line;
  const chunks: string[] = [];
  let current = '';
  let octets = 0;
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const size = utf8Length(char.codePointAt(0)!);
    if (octets + size > limit) {
      let carry = '';
      // Keep a base letter with the combining marks that follow it.
      if (/\p{M}/u.test(char)) {
        const match = /(\P{M}\p{M}*)$/u.exec(current);
        if (match && match[1]!.length < current.length) {
          carry = match[1]!;
          current = current.slice(0, -carry.length);
        }
      }
      chunks.push(current);
      current = carry;
      octets = Buffer.byteLength(carry, 'utf8');
      limit = MAX_LINE_OCTETS - 1;
    }
    current += char;
    octets += size;
  }
  chunks.push(current);
  return chunks.join('\r\n ');
}
