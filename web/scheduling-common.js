// Helpers shared by the scheduling pages: API calls with the session's CSRF
// token, the signed-in person, wall-clock dates in a time zone, and error
// messages of the API in the chosen language.
import { errorMessage, language, setLanguage } from './i18n.js';
import { uiTexts } from './scheduling-texts.js';

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Sends the person to the sign-in page, to come back to this page and query afterwards. */
export function goToSignIn() {
  const next = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/login.html?next=${encodeURIComponent(next)}`);
}

/**
 * Calls the API and returns `{ ok, status, body }`; `body` is null when the
 * server could not be reached or did not return JSON. Cookie sessions send
 * the CSRF token they got at sign-in with every change.
 */
export async function api(path, options = {}) {
  const method = options.method ?? 'GET';
  const headers = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem('hop.csrf');
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) goToSignIn();
  return { ok: response.ok, status: response.status, body };
}

/** The message of a failed call: the API's error message, or the network message when there was no response. */
export function failureMessage(result) {
  if (result.body?.error) return errorMessage(result.body);
  return result.status === 0 ? uiTexts().networkError : `${uiTexts().loadFailed} (HTTP ${result.status})`;
}

/**
 * Loads the signed-in person, keeps their CSRF token and fills the header.
 * Returns the user, or null (anonymous visitors are sent to sign in by api()).
 */
export async function loadAccount() {
  const me = await api('/api/v1/auth/me');
  if (!me.ok || me.body?.kind !== 'user') return null;
  if (me.body.csrfToken) sessionStorage.setItem('hop.csrf', me.body.csrfToken);
  const name = document.getElementById('signed-in-as');
  if (name) name.textContent = me.body.user.displayName;
  const admin = document.getElementById('admin-link');
  if (admin) admin.hidden = me.body.user.systemRole !== 'admin';
  return me.body.user;
}

/** True for people who schedule meetings and book rooms. */
export function isOrganiser(user) {
  return user?.systemRole === 'admin' || user?.systemRole === 'organiser';
}

/**
 * Fills `[data-text]` and `[data-placeholder]` elements from the texts and
 * wires the language button; `onChange` redraws what scripts wrote.
 */
export function setUpTexts(pageTitleKey, onChange) {
  const apply = () => {
    const text = uiTexts();
    document.documentElement.lang = language();
    document.title = `${text[pageTitleKey]} – hop`;
    for (const element of document.querySelectorAll('[data-text]')) {
      const value = text[element.dataset.text];
      if (typeof value === 'string') element.textContent = value;
    }
    for (const element of document.querySelectorAll('[data-placeholder]')) {
      element.placeholder = text[element.dataset.placeholder];
      element.setAttribute('aria-label', text[element.dataset.placeholder]);
    }
    for (const element of document.querySelectorAll('[data-label]')) {
      element.setAttribute('aria-label', text[element.dataset.label]);
      element.title = text[element.dataset.label];
    }
    document.getElementById('language').textContent = text.switchLanguage;
  };
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    apply();
    onChange?.();
  });
  document.getElementById('sign-out')?.addEventListener('click', async () => {
    await api('/api/v1/auth/logout', { method: 'POST', body: {} });
    sessionStorage.removeItem('hop.csrf');
    goToSignIn();
  });
  apply();
  return apply;
}

/** Creates an element with a class and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Creates a button of `type="button"`. */
export function button(label, className, onClick) {
  const node = element('button', className, label);
  node.type = 'button';
  if (onClick) node.addEventListener('click', onClick);
  return node;
}

// Dates. A calendar date is a "YYYY-MM-DD" string; arithmetic runs on UTC midnight so no zone shifts it.

export function addDays(date, days) {
  const value = new Date(`${date}T00:00:00Z`);
  value.setUTCDate(value.getUTCDate() + days);
  return value.toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date: 1 for Monday … 7 for Sunday. */
export function isoWeekday(date) {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

/** "07/12/2026" from "2026-12-07". */
export function formatDate(date) {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
}

/** "Thứ Hai, 07/12/2026" from "2026-12-07". */
export function formatLongDate(date) {
  return `${weekdayName(date)}, ${formatDate(date)}`;
}

/** "Thứ Hai" … "Chủ nhật" (or the English name) of a calendar date. */
export function weekdayName(date) {
  return uiTexts().weekdays[new Date(`${date}T00:00:00Z`).getUTCDay()];
}

const partFormats = new Map();

/** Returns the wall clock of `instant` in `timeZone` as `{ date: 'YYYY-MM-DD', time: 'HH:MM' }`. */
export function localParts(instant, timeZone) {
  let format = partFormats.get(timeZone);
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
    partFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}`, second: parts.second };
}

/** Today's date in `timeZone`. */
export function todayIn(timeZone) {
  return localParts(Date.now(), timeZone).date;
}

/**
 * Returns the instant (ISO string) at which the wall clock in `timeZone`
 * shows `date` `time`. A time skipped by a daylight-saving jump resolves
 * to the instant after the jump.
 */
export function toInstant(date, time, timeZone) {
  const target = Date.parse(`${date}T${time}:00Z`);
  let guess = target;
  for (let attempt = 0; attempt < 4; attempt++) {
    const local = localParts(guess, timeZone);
    const shown = Date.parse(`${local.date}T${local.time}:${local.second}Z`);
    const next = target - (shown - guess);
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess).toISOString();
}

/**
 * Reads a 24-hour time as people type it ("14:30", "8:05", "0830", "8h30",
 * "14") and returns it as "HH:MM", or null when it is not a time. Times are
 * text fields because the browser's own time field shows AM/PM in English locales.
 */
export function parseTime(value) {
  const match = /^(\d{1,2})(?:[:hH.]?(\d{2}))?[hH]?$/.exec(String(value).trim());
  if (!match) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2] ?? '0');
  if (hour > 23 || minute > 59) return null;
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

/** Rewrites each time field in the "HH:MM" form when it loses focus, so people see what will be saved. */
export function normaliseTimeFields(root = document) {
  for (const field of root.querySelectorAll('input.time-input')) {
    field.addEventListener('blur', () => {
      const time = parseTime(field.value);
      if (time) field.value = time;
      field.classList.toggle('invalid', field.value.trim() !== '' && time === null);
    });
  }
}

/**
 * Reads a date written day first, as in Việt Nam ("07/12/2026", "7/12/2026",
 * "07-12-2026", "07.12.2026"), or in ISO form ("2026-12-07"), and returns it
 * as "YYYY-MM-DD", or null when it is not a real calendar date between the
 * years 1900 and 2199. Dates are text fields because the browser's own date
 * field follows the browser's language, so an English browser shows
 * mm/dd/yyyy and "07/12" would mean 12 July.
 */
export function parseDate(value) {
  const text = String(value).trim();
  let match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  let [day, month, year] = match ? [match[1], match[2], match[3]] : [];
  if (!match) {
    match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return null;
    [year, month, day] = [match[1], match[2], match[3]];
  }
  const date = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const parsed = new Date(`${date}T00:00:00Z`);
  // Date rolls 31/02 over to 03/03, so a date that does not read back the same does not exist.
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) return null;
  if (Number(year) < 1900 || Number(year) > 2199) return null;
  return date;
}

/** Returns the date of a date field as "YYYY-MM-DD", "" when it is empty, or null when it cannot be read. */
export function dateFieldValue(field) {
  if (field.value.trim() === '') return '';
  return parseDate(field.value);
}

/** Shows "YYYY-MM-DD" (or "" for none) in a date field as dd/mm/yyyy. */
export function setDateField(field, date) {
  field.value = date ? formatDate(date) : '';
  field.classList.remove('invalid');
}

const CALENDAR_ICON =
  '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><rect x="1.5" y="2.5" width="13" height="12" rx="1.5" fill="none" stroke="currentColor"/><path d="M1.5 6h13M5 1v3M11 1v3" stroke="currentColor"/></svg>';

/**
 * Prepares each `input.date-input`: it is rewritten as dd/mm/yyyy when it
 * loses focus and marked when it cannot be read, and a button next to it
 * opens the browser's calendar. The calendar only picks the date, so the
 * field shows dd/mm/yyyy whatever the browser's language.
 */
export function setUpDateFields(root = document) {
  for (const field of root.querySelectorAll('input.date-input')) {
    field.addEventListener('blur', () => {
      const date = dateFieldValue(field);
      if (date) field.value = formatDate(date);
      field.classList.toggle('invalid', date === null);
    });
    // NOTE: showPicker came in Chrome 99, Firefox 101 and Safari 16 (MDN), and Safari on iOS may still
    // not open it (web-features lists it as unsupported). Without it the date is only typed.
    if (!('showPicker' in HTMLInputElement.prototype)) continue;

    const picker = document.createElement('input');
    picker.type = 'date';
    picker.className = 'date-picker-proxy';
    picker.tabIndex = -1;
    picker.setAttribute('aria-hidden', 'true');
    const open = button('', 'date-picker-button', () => {
      picker.value = dateFieldValue(field) || '';
      try {
        picker.showPicker();
      } catch {
        // The browser refused to open its picker here, so the button would do nothing.
        open.hidden = true;
      }
    });
    open.innerHTML = CALENDAR_ICON;
    open.dataset.label = 'pickDate';
    open.setAttribute('aria-label', uiTexts().pickDate);
    open.title = uiTexts().pickDate;
    picker.addEventListener('change', () => {
      if (!picker.value) return;
      setDateField(field, picker.value);
      field.dispatchEvent(new Event('input', { bubbles: true }));
      field.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const wrapper = element('span', 'date-field');
    field.replaceWith(wrapper);
    wrapper.append(field, open, picker);
  }
}

/** "Thứ Hai, 07/12/2026 08:00 – 10:00" (the end date is written when it differs). */
export function formatRange(startsAt, endsAt, timeZone) {
  const start = localParts(startsAt, timeZone);
  const end = localParts(endsAt, timeZone);
  const endText = end.date === start.date ? end.time : `${formatLongDate(end.date)} ${end.time}`;
  return `${formatLongDate(start.date)} ${start.time} – ${endText}`;
}

/** Time zones offered in forms: Việt Nam's, and the browser's when it differs. */
export function timeZoneOptions(current) {
  const zones = [DEFAULT_TIME_ZONE];
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (browserZone && !zones.includes(browserZone)) zones.push(browserZone);
  if (current && !zones.includes(current)) zones.push(current);
  return zones.map((zone) => new Option(zone === DEFAULT_TIME_ZONE ? `${zone} (UTC+07:00)` : zone, zone));
}

/**
 * Status badges of a meeting (and of one occurrence): đã hủy, hoãn, đang
 * họp, nháp, họp khẩn. Returns elements with the class "badge status-…".
 */
export function statusBadges(meeting, occurrenceStatus) {
  const text = uiTexts();
  const badges = [];
  const add = (label, kind) => badges.push(element('span', `badge status-${kind}`, label));
  if (occurrenceStatus === 'cancelled' && meeting.status !== 'cancelled') add(text.occurrenceStatus.cancelled, 'cancelled');
  else if (meeting.status !== 'scheduled') add(text.meetingStatus[meeting.status] ?? meeting.status, meeting.status);
  if (occurrenceStatus === 'moved') add(text.occurrenceStatus.moved, 'moved');
  if (meeting.urgent) add(text.urgent, 'urgent');
  return badges;
}

/** Copies `value` to the clipboard and marks `control` as copied. A failure is shown in `status`, not hidden. */
export async function copyToClipboard(value, control, status) {
  try {
    await navigator.clipboard.writeText(value);
    control.textContent = uiTexts().copied;
    status.textContent = '';
  } catch {
    status.textContent = uiTexts().copyFailed;
  }
}

/** Lists the room or people clashes of a 409 response. Meetings the caller may not read show as busy. */
export function clashList(conflicts, timeZone, withName) {
  const text = uiTexts();
  const list = element('ul', 'clash-list');
  for (const clash of conflicts ?? []) {
    const item = element('li');
    if (withName && clash.name) item.append(element('strong', null, `${clash.name}: `));
    item.append(document.createTextNode(`${formatRange(clash.startsAt, clash.endsAt, timeZone)} — `));
    if (clash.meeting) {
      const link = element('a', null, clash.meeting.title);
      link.href = `/meeting.html?id=${encodeURIComponent(clash.meeting.id)}`;
      link.target = '_blank';
      item.append(link);
    } else item.append(element('em', null, text.clashHidden));
    list.append(item);
  }
  return list;
}

/**
 * Builds what goes under the message of a failed scheduling request: the clash
 * lists, and for PEOPLE_CONFLICT and NOTICE_TOO_SHORT a button that calls
 * `retry` with `{ onPeopleConflict: 'warn' }` or `{ urgent: true }`.
 */
export function failureDetails(error, timeZone, retry) {
  const text = uiTexts();
  const nodes = [];
  if (error.code === 'MEETING_ROOM_CONFLICT') nodes.push(element('div', null, text.roomClashHeading), clashList(error.details?.conflicts, timeZone, false));
  if (error.code === 'PEOPLE_CONFLICT') {
    nodes.push(element('div', null, text.peopleConflictHeading), clashList(error.details?.conflicts, timeZone, true));
    if (retry) nodes.push(button(text.peopleConflictConfirm, 'people-confirm', () => void retry({ onPeopleConflict: 'warn' })));
  }
  if (error.code === 'NOTICE_TOO_SHORT' && retry) nodes.push(button(text.noticeOffer, 'notice-urgent', () => void retry({ urgent: true })));
  if (error.code === 'AGENDA_TOO_LONG' && error.details) nodes.push(element('div', null, text.agendaTotal(error.details.plannedMinutes, error.details.meetingMinutes)));
  return nodes;
}
