/**
 * The texts of meeting notifications: invitation (giấy mời họp), change,
 * postponement, cancellation, removal from the participants and reminder, as
 * an e-mail subject, a plain text part, an HTML part and an iCalendar
 * attachment. Vietnamese by default, English for recipients who chose it.
 * Following Decision 45/2018/QĐ-TTg, an invitation states the content
 * (agenda), time, place, chair and what to prepare. Times are shown in the
 * recipient's time zone.
 */
import { meetingUid, prepareCalendar, type CalendarTemplate, type IcalEventInput } from './ical.ts';

/** `removed` is the notice to a participant taken off the meeting, who no longer attends it. */
export type NoticeKind = 'scheduled' | 'updated' | 'postponed' | 'cancelled' | 'removed' | 'reminder';

export interface NoticeMeeting {
  meetingId: string;
  /** Set when the notice concerns one occurrence of a recurring meeting. */
  occurrenceId?: string | null;
  sequence: number;
  title: string;
  /** ISO 8601 instants. */
  startsAt: string;
  endsAt: string;
  /** The meeting's own IANA time zone, used in the iCalendar file. */
  timeZone: string;
  mode: 'in_person' | 'online' | 'hybrid';
  place: string | null;
  joinUrl: string | null;
  agenda: { title: string; presenter: string | null; minutes: number }[];
  chair: string | null;
  secretary: string | null;
  preparation: string | null;
  urgent: boolean;
  recurrenceRule?: string | null;
  cancelReason?: string | null;
  /** Descriptions of the changes, one line each, already in the recipient's language. */
  changes?: string[];
  /** Original start (ISO 8601) of the occurrence when it was moved; the RECURRENCE-ID of the iCalendar event. Defaults to `startsAt`. */
  originalStartsAt?: string | null;
  /** Written as ORGANIZER in the iCalendar file when it has an e-mail address. */
  organizer?: { name: string; email?: string | null } | null;
}

export interface NoticeRecipient {
  name: string;
  email: string | null;
  phone: string | null;
  timeZone: string;
  language: 'vi' | 'en';
}

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
  /** iCalendar file (METHOD REQUEST or CANCEL); null for reminders. */
  ics: string | null;
}

const VIETNAM_TIME_ZONE = 'Asia/Ho_Chi_Minh';

type Language = NoticeRecipient['language'];

/** Words of one language. Functions take the values they put into the sentence. */
interface Wording {
  subject: Record<NoticeKind, string>;
  urgentTag: string;
  urgentBanner: string;
  greeting: (name: string) => string;
  intro: Record<NoticeKind, string>;
  meeting: string;
  time: string;
  newTime: string;
  recurrence: string;
  mode: string;
  modes: Record<NoticeMeeting['mode'], string>;
  place: string;
  joinLink: string;
  toBeAnnounced: string;
  agenda: string;
  agendaItem: (title: string, presenter: string | null, minutes: number) => string;
  chair: string;
  secretary: string;
  preparation: string;
  changes: string;
  cancelReason: string;
  startsIn: (minutes: number | undefined) => string;
  closing: string;
  weekdays: string[];
  date: (parts: LocalParts) => string;
  at: (date: string, time: string) => string;
  sameDayRange: (date: string, start: string, end: string) => string;
  multiDayRange: (start: string, end: string) => string;
  zoneLabel: (timeZone: string, offset: string) => string;
  rule: RuleWords;
}

interface RuleWords {
  every: Record<'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY', (interval: number) => string>;
  onDays: (days: string[]) => string;
  onMonthDays: (days: string[]) => string;
  count: (count: number) => string;
  until: (date: string) => string;
  raw: (rule: string) => string;
  and: string;
}

function durationVi(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} phút`;
  return rest === 0 ? `${hours} giờ` : `${hours} giờ ${rest} phút`;
}

function durationEn(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const hourText = hours === 1 ? '1 hour' : `${hours} hours`;
  const minuteText = rest === 1 ? '1 minute' : `${rest} minutes`;
  if (hours === 0) return minuteText;
  return rest === 0 ? hourText : `${hourText} ${minuteText}`;
}

const pad = (value: number) => String(value).padStart(2, '0');

const englishMonths = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const wordings: Record<Language, Wording> = {
  vi: {
    subject: {
      scheduled: 'Giấy mời họp',
      updated: 'Thay đổi lịch họp',
      postponed: 'Hoãn cuộc họp',
      cancelled: 'Hủy cuộc họp',
      removed: 'Thôi tham dự cuộc họp',
      reminder: 'Nhắc lịch họp',
    },
    urgentTag: '[Họp khẩn]',
    urgentBanner: 'HỌP KHẨN',
    greeting: (name) => `Kính gửi: ${name}`,
    intro: {
      scheduled: 'Trân trọng kính mời tham dự cuộc họp sau.',
      updated: 'Lịch họp đã thay đổi. Thông tin mới của cuộc họp như sau.',
      postponed: 'Cuộc họp đã được hoãn sang thời gian mới như sau.',
      cancelled: 'Xin thông báo cuộc họp sau đã bị hủy.',
      removed: 'Xin thông báo Quý vị không còn trong thành phần tham dự cuộc họp sau và không cần tham dự cuộc họp này.',
      reminder: 'Xin nhắc lịch cuộc họp sau.',
    },
    meeting: 'Cuộc họp',
    time: 'Thời gian',
    newTime: 'Thời gian mới',
    recurrence: 'Lịch lặp lại',
    mode: 'Hình thức',
    modes: { in_person: 'Họp trực tiếp', online: 'Họp trực tuyến', hybrid: 'Họp trực tiếp kết hợp trực tuyến' },
    place: 'Địa điểm',
    joinLink: 'Đường dẫn tham gia trực tuyến',
    toBeAnnounced: 'sẽ thông báo sau',
    agenda: 'Chương trình họp',
    agendaItem: (title, presenter, minutes) => `${title}${presenter ? ` – Trình bày: ${presenter}` : ''} (${durationVi(minutes)})`,
    chair: 'Chủ trì',
    secretary: 'Thư ký',
    preparation: 'Đề nghị chuẩn bị',
    changes: 'Nội dung thay đổi',
    cancelReason: 'Lý do',
    startsIn: (minutes) => (minutes === undefined ? 'Cuộc họp sắp bắt đầu.' : `Cuộc họp bắt đầu sau ${durationVi(minutes)}.`),
    closing: 'Trân trọng.',
    weekdays: ['Chủ nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'],
    date: (parts) => `${pad(parts.day)}/${pad(parts.month)}/${parts.year}`,
    at: (date, time) => `${date} lúc ${time}`,
    sameDayRange: (date, start, end) => `từ ${start} đến ${end}, ${date}`,
    multiDayRange: (start, end) => `từ ${start} đến ${end}`,
    zoneLabel: (timeZone, offset) => (timeZone === VIETNAM_TIME_ZONE ? 'giờ Việt Nam' : `giờ ${timeZone}, UTC${offset}`),
    rule: {
      every: {
        DAILY: (n) => (n === 1 ? 'Hằng ngày' : `${n} ngày một lần`),
        WEEKLY: (n) => (n === 1 ? 'Hằng tuần' : `${n} tuần một lần`),
        MONTHLY: (n) => (n === 1 ? 'Hằng tháng' : `${n} tháng một lần`),
        YEARLY: (n) => (n === 1 ? 'Hằng năm' : `${n} năm một lần`),
      },
      onDays: (days) => `vào ${days.join(', ')}`,
      onMonthDays: (days) => `vào ngày ${days.join(', ')}`,
      count: (count) => `${count} lần`,
      until: (date) => `đến hết ngày ${date}`,
      raw: (rule) => `theo quy tắc ${rule}`,
      and: 'và',
    },
  },
  en: {
    subject: {
      scheduled: 'Meeting invitation',
      updated: 'Meeting changed',
      postponed: 'Meeting postponed',
      cancelled: 'Meeting cancelled',
      removed: 'Removed from meeting',
      reminder: 'Meeting reminder',
    },
    urgentTag: '[Urgent]',
    urgentBanner: 'URGENT MEETING',
    greeting: (name) => `Dear ${name},`,
    intro: {
      scheduled: 'You are invited to the following meeting.',
      updated: 'The meeting has changed. Its new details follow.',
      postponed: 'The meeting has been postponed to the new time below.',
      cancelled: 'The following meeting has been cancelled.',
      removed: 'You have been removed from the participants of the following meeting and no longer need to attend it.',
      reminder: 'This is a reminder of the following meeting.',
    },
    meeting: 'Meeting',
    time: 'Time',
    newTime: 'New time',
    recurrence: 'Repeats',
    mode: 'Format',
    modes: { in_person: 'In person', online: 'Online', hybrid: 'In person and online' },
    place: 'Place',
    joinLink: 'Join online',
    toBeAnnounced: 'to be announced',
    agenda: 'Agenda',
    agendaItem: (title, presenter, minutes) => `${title}${presenter ? ` – presented by ${presenter}` : ''} (${durationEn(minutes)})`,
    chair: 'Chair',
    secretary: 'Secretary',
    preparation: 'Please prepare',
    changes: 'What changed',
    cancelReason: 'Reason',
    startsIn: (minutes) => (minutes === undefined ? 'The meeting starts soon.' : `The meeting starts in ${durationEn(minutes)}.`),
    closing: 'Kind regards.',
    weekdays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    date: (parts) => `${parts.day} ${englishMonths[parts.month - 1]} ${parts.year}`,
    at: (date, time) => `${date} at ${time}`,
    sameDayRange: (date, start, end) => `${date}, from ${start} to ${end}`,
    multiDayRange: (start, end) => `from ${start} to ${end}`,
    zoneLabel: (timeZone, offset) => (timeZone === VIETNAM_TIME_ZONE ? 'Vietnam time' : `${timeZone} time, UTC${offset}`),
    rule: {
      every: {
        DAILY: (n) => (n === 1 ? 'Every day' : `Every ${n} days`),
        WEEKLY: (n) => (n === 1 ? 'Every week' : `Every ${n} weeks`),
        MONTHLY: (n) => (n === 1 ? 'Every month' : `Every ${n} months`),
        YEARLY: (n) => (n === 1 ? 'Every year' : `Every ${n} years`),
      },
      onDays: (days) => `on ${days.join(', ')}`,
      onMonthDays: (days) => `on day ${days.join(', ')}`,
      count: (count) => `${count} times`,
      until: (date) => `until ${date}`,
      raw: (rule) => `by the rule ${rule}`,
      and: 'and',
    },
  },
};

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 for Sunday … 6 for Saturday. */
  weekday: number;
}

const partFormats = new Map<string, Intl.DateTimeFormat>();

/** Recent results of `localParts`: one notice shows the same few instants to every recipient. */
const localPartsCache = new Map<string, LocalParts>();

function localParts(instant: Date, timeZone: string): LocalParts {
  const key = `${timeZone}|${instant.getTime()}`;
  const cached = localPartsCache.get(key);
  if (cached) return cached;
  const parts = computeLocalParts(instant, timeZone);
  if (localPartsCache.size >= 1024) localPartsCache.delete(localPartsCache.keys().next().value!);
  localPartsCache.set(key, parts);
  return parts;
}

function computeLocalParts(instant: Date, timeZone: string): LocalParts {
  let format = partFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    partFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  return { year, month, day, hour: Number(parts.hour), minute: Number(parts.minute), weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

/** UTC offset of `timeZone` at `instant`, written `+07:00`. */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetText(instant: Date, timeZone: string): string {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

/** Date and time texts of one recipient: language and time zone. */
class Clock {
  constructor(
    private readonly words: Wording,
    private readonly timeZone: string,
  ) {}

  /** "Thứ Hai, 07/12/2026". */
  day(instant: Date): string {
    const parts = localParts(instant, this.timeZone);
    return `${this.words.weekdays[parts.weekday]}, ${this.words.date(parts)}`;
  }

  /** "14:30". */
  time(instant: Date): string {
    const parts = localParts(instant, this.timeZone);
    return `${pad(parts.hour)}:${pad(parts.minute)}`;
  }

  zone(instant: Date): string {
    return this.words.zoneLabel(this.timeZone, offsetText(instant, this.timeZone));
  }

  /** "Thứ Hai, 07/12/2026 lúc 14:30", with "(giờ …)" when `withZone`. */
  moment(instant: Date, withZone: boolean): string {
    const text = this.words.at(this.day(instant), this.time(instant));
    return withZone ? `${text} (${this.zone(instant)})` : text;
  }

  /** Formats the meeting's time span. A meeting that ends on a later day names both days. */
  span(start: Date, end: Date): string {
    const startDay = this.day(start);
    const endDay = this.day(end);
    const text =
      startDay === endDay
        ? this.words.sameDayRange(startDay, this.time(start), this.time(end))
        : this.words.multiDayRange(`${this.time(start)} ${startDay}`, `${this.time(end)} ${endDay}`);
    return `${text} (${this.zone(start)})`;
  }
}

const ruleWeekdays: Record<string, number> = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };

/**
 * Describes an RRULE in words for the common cases (FREQ, INTERVAL, BYDAY
 * without ordinals, BYMONTHDAY, COUNT, UNTIL); any other rule is shown as
 * written.
 */
function describeRule(rule: string, words: Wording, timeZone: string): string {
  const source = rule.replace(/^RRULE:/i, '').trim();
  const fields = new Map<string, string>();
  for (const pair of source.split(';')) {
    const [key, value] = pair.split('=');
    if (key && value !== undefined) fields.set(key.toUpperCase(), value.toUpperCase());
  }
  const known = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL', 'WKST']);
  const frequency = fields.get('FREQ');
  const raw = words.rule.raw(source);
  if (!frequency || !(frequency in words.rule.every) || [...fields.keys()].some((key) => !known.has(key))) return raw;

  const interval = Number(fields.get('INTERVAL') ?? '1');
  if (!Number.isInteger(interval) || interval < 1) return raw;
  const pieces = [words.rule.every[frequency as keyof RuleWords['every']](interval)];

  const byDay = fields.get('BYDAY');
  if (byDay) {
    const days = byDay.split(',');
    if (days.some((day) => !(day in ruleWeekdays))) return raw;
    const names = days.map((day) => words.weekdays[ruleWeekdays[day]!]!);
    pieces.push(words.rule.onDays(names.length > 1 ? [`${names.slice(0, -1).join(', ')} ${words.rule.and} ${names.at(-1)}`] : names));
  }
  const byMonthDay = fields.get('BYMONTHDAY');
  if (byMonthDay) {
    if (!/^\d{1,2}(,\d{1,2})*$/.test(byMonthDay)) return raw;
    pieces.push(words.rule.onMonthDays(byMonthDay.split(',')));
  }
  const count = fields.get('COUNT');
  if (count) {
    if (!/^\d+$/.test(count)) return raw;
    pieces.push(words.rule.count(Number(count)));
  }
  const until = fields.get('UNTIL');
  if (until) {
    const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(until);
    if (!match) return raw;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    // A UTC UNTIL is shown as the date it falls on in the meeting's time zone.
    const parts = match[7] === 'Z' ? localParts(new Date(Date.UTC(year, month - 1, day, Number(match[4]), Number(match[5]), Number(match[6]))), timeZone) : { year, month, day, hour: 0, minute: 0, weekday: 0 };
    pieces.push(words.rule.until(words.date(parts)));
  }
  return pieces.join(', ');
}

/** Turns control characters and line breaks into spaces, so a title cannot add e-mail headers. */
function singleLine(value: string): string {
  return value.normalize('NFC').replace(/[\u0000-\u001F\u007F\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function multiLine(value: string): string {
  return value.normalize('NFC').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').trim();
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Only http and https links become anchors; anything else (javascript:, data:) is shown as text. */
function isWebLink(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A block of the notice, written once and rendered as text and as HTML. */
type Block =
  | { kind: 'paragraph'; text: string; strong?: boolean }
  | { kind: 'field'; label: string; value: string; link?: boolean; multiline?: boolean }
  | { kind: 'list'; label: string; items: string[]; ordered: boolean };

function renderText(blocks: Block[]): string {
  const lines: string[] = [];
  for (const block of blocks) {
    if (block.kind === 'paragraph') {
      if (lines.length > 0 && lines.at(-1) !== '') lines.push('');
      lines.push(block.text, '');
    }
    else if (block.kind === 'field') {
      if (block.multiline && block.value.includes('\n')) lines.push(`${block.label}:`, block.value);
      else lines.push(`${block.label}: ${block.value}`);
    } else {
      lines.push(`${block.label}:`);
      block.items.forEach((item, index) => lines.push(block.ordered ? `  ${index + 1}. ${item}` : `  - ${item}`));
      lines.push('');
    }
  }
  return `${lines.join('\n').trim()}\n`;
}

function renderHtml(blocks: Block[], language: Language, title: string): string {
  const body: string[] = [];
  let fields: string[] = [];
  const flushFields = () => {
    if (fields.length > 0) body.push(`<table role="presentation" cellpadding="4">${fields.join('')}</table>`);
    fields = [];
  };
  for (const block of blocks) {
    if (block.kind === 'field') {
      let value = escapeHtml(block.value);
      if (block.link && isWebLink(block.value)) value = `<a href="${escapeHtml(block.value)}">${value}</a>`;
      if (block.multiline) value = value.replace(/\n/g, '<br>');
      fields.push(`<tr><th align="left" valign="top">${escapeHtml(block.label)}</th><td>${value}</td></tr>`);
      continue;
    }
    flushFields();
    if (block.kind === 'paragraph') {
      const text = escapeHtml(block.text).replace(/\n/g, '<br>');
      body.push(block.strong ? `<p><strong>${text}</strong></p>` : `<p>${text}</p>`);
    } else {
      const tag = block.ordered ? 'ol' : 'ul';
      body.push(`<p>${escapeHtml(block.label)}:</p><${tag}>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</${tag}>`);
    }
  }
  flushFields();
  return [
    '<!DOCTYPE html>',
    `<html lang="${language}">`,
    `<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`,
    `<body>${body.join('\n')}</body>`,
    '</html>',
    '',
  ].join('\n');
}

/** A block whose value differs per recipient: the join link, filled in by `joinLinkField`. */
type TemplateBlock = Block | { kind: 'joinLink' };

/** True for the notices that take the meeting out of the recipient's calendar (METHOD:CANCEL). */
function withdraws(kind: NoticeKind): boolean {
  return kind === 'cancelled' || kind === 'removed';
}

/** Builds the facts of the meeting that the e-mail and the iCalendar DESCRIPTION share. */
function meetingBlocks(kind: NoticeKind, meeting: Omit<NoticeMeeting, 'joinUrl'>, words: Wording, clock: Clock): TemplateBlock[] {
  const start = new Date(meeting.startsAt);
  const end = new Date(meeting.endsAt);
  const blocks: TemplateBlock[] = [{ kind: 'field', label: words.meeting, value: singleLine(meeting.title) }];
  blocks.push({ kind: 'field', label: kind === 'postponed' ? words.newTime : words.time, value: clock.span(start, end) });
  if (meeting.recurrenceRule && !meeting.occurrenceId) {
    blocks.push({ kind: 'field', label: words.recurrence, value: describeRule(meeting.recurrenceRule, words, meeting.timeZone) });
  }
  if (withdraws(kind)) {
    if (kind === 'cancelled' && meeting.cancelReason) {
      blocks.push({ kind: 'field', label: words.cancelReason, value: multiLine(meeting.cancelReason), multiline: true });
    }
    return blocks;
  }

  blocks.push({ kind: 'field', label: words.mode, value: words.modes[meeting.mode] });
  if (meeting.mode !== 'online') {
    blocks.push({ kind: 'field', label: words.place, value: meeting.place ? singleLine(meeting.place) : words.toBeAnnounced });
  }
  if (meeting.mode !== 'in_person') blocks.push({ kind: 'joinLink' });
  if (meeting.chair) blocks.push({ kind: 'field', label: words.chair, value: singleLine(meeting.chair) });
  if (meeting.secretary) blocks.push({ kind: 'field', label: words.secretary, value: singleLine(meeting.secretary) });
  if (meeting.agenda.length > 0) {
    blocks.push({
      kind: 'list',
      label: words.agenda,
      ordered: true,
      items: meeting.agenda.map((item) => words.agendaItem(singleLine(item.title), item.presenter ? singleLine(item.presenter) : null, item.minutes)),
    });
  }
  if (meeting.preparation) blocks.push({ kind: 'field', label: words.preparation, value: multiLine(meeting.preparation), multiline: true });
  return blocks;
}

function joinLinkField(words: Wording, joinUrl: string | null): Block {
  return { kind: 'field', label: words.joinLink, value: joinUrl ? singleLine(joinUrl) : words.toBeAnnounced, link: joinUrl !== null };
}

function subjectOf(kind: NoticeKind, meeting: Omit<NoticeMeeting, 'joinUrl'>, words: Wording, clock: Clock, recipientZone: string): string {
  const start = new Date(meeting.startsAt);
  const when = clock.moment(start, recipientZone !== VIETNAM_TIME_ZONE);
  const subject = `${words.subject[kind]}: ${singleLine(meeting.title)} – ${when}`;
  return meeting.urgent ? `${words.urgentTag} ${subject}` : subject;
}

/** Builds the shared part of the notice's iCalendar file, or null for reminders, which carry none. */
function calendarOf(kind: NoticeKind, meeting: Omit<NoticeMeeting, 'joinUrl'>): CalendarTemplate | null {
  if (kind === 'reminder') return null;
  const event: IcalEventInput = {
    uid: meetingUid(meeting.meetingId),
    sequence: meeting.sequence,
    title: singleLine(meeting.title),
    startsAt: meeting.startsAt,
    endsAt: meeting.endsAt,
    timeZone: meeting.timeZone,
    organizer: meeting.organizer ?? null,
    status: withdraws(kind) ? 'CANCELLED' : 'CONFIRMED',
  };
  if (meeting.occurrenceId) event.recurrenceId = meeting.originalStartsAt ?? meeting.startsAt;
  else if (meeting.recurrenceRule) event.recurrenceRule = meeting.recurrenceRule;
  return prepareCalendar({ method: withdraws(kind) ? 'CANCEL' : 'REQUEST', events: [event] });
}

/** A notice rendered once for every recipient who shares a language and a time zone. */
export interface PreparedNotice {
  /** Completes the notice for one recipient: the greeting, the join link (null for none) and the iCalendar ATTENDEE. */
  render(recipient: Pick<NoticeRecipient, 'name' | 'email'>, joinUrl: string | null): RenderedNotice;
}

/**
 * Renders the parts of a notice that are the same for every recipient in
 * `audience`: subject, meeting facts and the iCalendar file without its
 * personal lines. `meeting.joinUrl`, when present, is ignored because each
 * recipient's link goes to `render`. See `renderNotice` for the output.
 */
export function prepareNotice(
  kind: NoticeKind,
  meeting: Omit<NoticeMeeting, 'joinUrl'>,
  audience: Pick<NoticeRecipient, 'language' | 'timeZone'>,
  options: { reminderMinutesBefore?: number } = {},
): PreparedNotice {
  const minutes = options.reminderMinutesBefore;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 0)) {
    throw new RangeError(`reminderMinutesBefore must be a non-negative integer, got ${minutes}`);
  }
  const language = audience.language in wordings ? audience.language : 'vi';
  const words = wordings[language];
  const clock = new Clock(words, audience.timeZone);
  const subject = subjectOf(kind, meeting, words, clock, audience.timeZone);
  const details = meetingBlocks(kind, meeting, words, clock);

  const opening: Block[] = [];
  if (meeting.urgent && !withdraws(kind)) opening.push({ kind: 'paragraph', text: words.urgentBanner, strong: true });
  const body: Block[] = [{ kind: 'paragraph', text: words.intro[kind] }];
  if (kind === 'reminder') body.push({ kind: 'paragraph', text: words.startsIn(minutes), strong: true });
  if ((kind === 'updated' || kind === 'postponed') && meeting.changes && meeting.changes.length > 0) {
    body.push({ kind: 'list', label: words.changes, ordered: false, items: meeting.changes.map(singleLine) });
  }
  const closing: Block = { kind: 'paragraph', text: words.closing };
  const calendar = calendarOf(kind, meeting);

  return {
    render(recipient, joinUrl) {
      const personalDetails = details.map((block) => (block.kind === 'joinLink' ? joinLinkField(words, joinUrl) : block));
      const blocks: Block[] = [...opening, { kind: 'paragraph', text: words.greeting(singleLine(recipient.name)) }, ...body, ...personalDetails, closing];
      const ics = calendar?.render([
        {
          description: renderText(personalDetails),
          location: meeting.mode === 'online' ? joinUrl : meeting.place,
          url: joinUrl && isWebLink(joinUrl) ? joinUrl : null,
          attendees: recipient.email ? [{ name: recipient.name, email: recipient.email, role: 'participant' }] : [],
        },
      ]);
      return { subject, text: renderText(blocks), html: renderHtml(blocks, language, subject), ics: ics ?? null };
    },
  };
}

/**
 * Renders one notice for one recipient. The subject is a single line. The
 * HTML part escapes every text that came from people (title, names, place,
 * agenda, notes) and links only http and https addresses. The iCalendar file
 * is METHOD:REQUEST with SEQUENCE = `meeting.sequence` for scheduled, updated
 * and postponed notices, METHOD:CANCEL for cancelled and removed ones, and
 * null for reminders. `reminderMinutesBefore` goes into the reminder's text.
 * To notify many recipients, call `prepareNotice` once per language and time
 * zone instead.
 */
export function renderNotice(
  kind: NoticeKind,
  meeting: NoticeMeeting,
  recipient: NoticeRecipient,
  options: { reminderMinutesBefore?: number } = {},
): RenderedNotice {
  return prepareNotice(kind, meeting, recipient, options).render(recipient, meeting.joinUrl);
}
