// The calendar page (lịch họp): day, week and month views of GET /api/v1/calendar,
// for the signed-in person or, for organisers and admins, a unit or a meeting room.
// The view, date and calendar are kept in the address: ?view=week&date=2026-12-07&unit=….
import {
  addDays,
  api,
  button,
  copyToClipboard,
  dateFieldValue,
  DEFAULT_TIME_ZONE,
  element,
  failureMessage,
  formatDate,
  formatLongDate,
  isOrganiser,
  isoWeekday,
  loadAccount,
  setDateField,
  setUpDateFields,
  setUpTexts,
  statusBadges,
  todayIn,
  weekdayName,
} from './scheduling-common.js';
import { uiTexts } from './scheduling-texts.js';

const timeZone = DEFAULT_TIME_ZONE;

const state = {
  view: 'week',
  date: todayIn(timeZone),
  /** '' for the person's own calendar, 'unit:<id>' or 'room:<id>'. */
  whose: '',
  /** The last calendar response, kept to redraw in the other language. */
  calendar: null,
  /** Counts loads so that an older response arriving late is dropped. */
  generation: 0,
  feedCreated: false,
};

function readAddress() {
  const params = new URLSearchParams(window.location.search);
  if (['day', 'week', 'month'].includes(params.get('view'))) state.view = params.get('view');
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get('date') ?? '')) state.date = params.get('date');
  if (params.get('unit')) state.whose = `unit:${params.get('unit')}`;
  if (params.get('room')) state.whose = `room:${params.get('room')}`;
}

function writeAddress() {
  const params = new URLSearchParams({ view: state.view, date: state.date });
  const [kind, id] = state.whose.split(':');
  if (kind && id) params.set(kind, id);
  window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
}

/** Moves the date by one day, week or month. */
function step(direction) {
  if (state.view === 'day') state.date = addDays(state.date, direction);
  else if (state.view === 'week') state.date = addDays(state.date, 7 * direction);
  else {
    const [year, month] = state.date.split('-').map(Number);
    const next = new Date(Date.UTC(year, month - 1 + direction, 1));
    state.date = next.toISOString().slice(0, 10);
  }
}

async function load() {
  writeAddress();
  const text = uiTexts();
  const generation = ++state.generation;
  setDateField(document.getElementById('date'), state.date);
  for (const control of document.querySelectorAll('button.view')) control.setAttribute('aria-pressed', String(control.dataset.view === state.view));
  document.getElementById('calendar-status').textContent = text.loading;
  document.getElementById('calendar-error').textContent = '';

  const params = new URLSearchParams({ view: state.view, date: state.date, timeZone });
  const [kind, id] = state.whose.split(':');
  if (kind && id) params.set(kind, id);
  const result = await api(`/api/v1/calendar?${params}`);
  if (generation !== state.generation) return;
  if (!result.ok) {
    document.getElementById('calendar-status').textContent = '';
    document.getElementById('calendar-error').textContent = failureMessage(result);
    return;
  }
  state.calendar = result.body;
  render();
}

function render() {
  const calendar = state.calendar;
  if (!calendar) return;
  const text = uiTexts();
  const container = document.getElementById('calendar');
  container.className = `calendar view-${calendar.view}`;
  container.dataset.from = calendar.fromDate;
  container.dataset.view = calendar.view;

  let title;
  if (calendar.view === 'day') title = formatLongDate(calendar.fromDate);
  else if (calendar.view === 'week') title = text.weekRange(formatDate(calendar.fromDate), formatDate(calendar.toDate));
  else title = text.monthTitle(calendar.fromDate.slice(5, 7), calendar.fromDate.slice(0, 4));
  document.getElementById('range-title').textContent = title;

  const status = [];
  if (calendar.items.length === 0) status.push(text.noMeetingsInRange);
  if (calendar.truncated) status.push(text.truncated);
  document.getElementById('calendar-status').textContent = status.join(' ');

  if (calendar.view === 'day') container.replaceChildren(dayColumn(calendar, calendar.fromDate, true));
  else if (calendar.view === 'week') container.replaceChildren(...weekDates(calendar.fromDate).map((date) => dayColumn(calendar, date, false)));
  else container.replaceChildren(...monthCells(calendar));
}

function weekDates(monday) {
  return Array.from({ length: 7 }, (_, index) => addDays(monday, index));
}

function itemsOn(calendar, date) {
  return calendar.items.filter((item) => item.dates.includes(date));
}

/** Builds one day of the day or week view: a heading and the occurrences that touch it. */
function dayColumn(calendar, date, single) {
  const column = element('div', 'cal-day');
  column.dataset.date = date;
  if (date === todayIn(timeZone)) column.classList.add('today');
  const heading = element('h3', 'cal-day-heading');
  if (single) heading.textContent = formatLongDate(date);
  else {
    heading.append(element('span', 'cal-weekday', weekdayName(date)), element('span', 'cal-date', formatDate(date).slice(0, 5)));
    heading.title = formatLongDate(date);
  }
  column.append(heading);
  const list = element('ul', 'cal-items');
  for (const item of itemsOn(calendar, date)) list.append(calendarItem(item, date, 'full'));
  column.append(list);
  return column;
}

/** Builds the month view: weekday headings, then whole weeks from the Monday before the 1st to the Sunday after the last day. */
function monthCells(calendar) {
  const cells = [];
  for (let index = 0; index < 7; index++) cells.push(element('div', 'cal-month-heading', weekdayName(addDays('2024-01-01', index))));
  const first = addDays(calendar.fromDate, 1 - isoWeekday(calendar.fromDate));
  const last = addDays(calendar.toDate, 7 - isoWeekday(calendar.toDate));
  for (let date = first; date <= last; date = addDays(date, 1)) {
    const cell = element('div', 'cal-month-cell');
    cell.dataset.date = date;
    const outside = date < calendar.fromDate || date > calendar.toDate;
    if (outside) cell.classList.add('outside');
    if (date === todayIn(timeZone)) cell.classList.add('today');
    const number = button(String(Number(date.slice(8, 10))), 'link cal-day-number', () => {
      state.view = 'day';
      state.date = date;
      void load();
    });
    number.title = formatLongDate(date);
    cell.append(number);
    if (!outside) {
      const items = itemsOn(calendar, date);
      const list = element('ul', 'cal-items');
      const shown = items.slice(0, 4);
      for (const item of shown) list.append(calendarItem(item, date, 'compact'));
      cell.append(list);
      if (items.length > shown.length) cell.append(element('span', 'muted cal-more', uiTexts().moreItems(items.length - shown.length)));
    }
    cells.push(cell);
  }
  return cells;
}

/**
 * Builds the entry of one occurrence on one date. A meeting across midnight is
 * shown on each date it covers, with where it comes from or goes on to.
 */
function calendarItem(item, date, size) {
  const text = uiTexts();
  const startDate = item.localStart.slice(0, 10);
  const endDate = item.localEnd.slice(0, 10);
  const startTime = startDate === date ? item.localStart.slice(11, 16) : '00:00';
  const endTime = endDate === date ? item.localEnd.slice(11, 16) : '24:00';

  const entry = element('li', 'cal-item');
  entry.dataset.date = date;
  const body = item.meeting ? element('a', 'cal-link') : element('div', 'cal-link');
  const time = element('span', 'cal-time', `${startTime}–${endTime}`);
  body.append(time);

  if (!item.meeting) {
    entry.classList.add('busy');
    body.append(element('span', 'cal-title', text.busy));
    entry.append(body);
    return entry;
  }

  const meeting = item.meeting;
  entry.dataset.meetingId = meeting.id;
  entry.dataset.occurrenceId = item.occurrenceId;
  entry.classList.add(`meeting-${meeting.status}`, `occurrence-${item.status}`);
  if (meeting.urgent) entry.classList.add('urgent');
  body.href = `/meeting.html?id=${encodeURIComponent(meeting.id)}`;
  body.append(element('span', 'cal-title', meeting.title));
  const badges = statusBadges(meeting, item.status);
  if (size === 'full') {
    const details = [text.modes[meeting.mode] ?? meeting.mode, meeting.place?.name, meeting.recurring ? text.recurring : null].filter(Boolean).join(' · ');
    body.append(element('span', 'cal-meta muted', details));
    if (startDate !== date) body.append(element('span', 'cal-meta muted', `← ${text.continuesFrom(formatDate(startDate))} ${item.localStart.slice(11, 16)}`));
    if (endDate !== date) body.append(element('span', 'cal-meta muted', `→ ${text.continuesTo(formatDate(endDate))} ${item.localEnd.slice(11, 16)}`));
  }
  if (badges.length > 0) {
    const line = element('span', 'cal-badges');
    line.append(...badges);
    body.append(line);
  }
  body.title = `${meeting.title} (${formatDate(startDate)} ${item.localStart.slice(11, 16)} – ${formatDate(endDate)} ${item.localEnd.slice(11, 16)})`;
  entry.append(body);
  // The attendance board of every meeting that takes place, in any mode; the board shows invited people their own row.
  if (size === 'full' && !['draft', 'cancelled'].includes(meeting.status) && item.status !== 'cancelled') {
    const attendance = element('a', 'cal-attendance', text.attendanceBoard);
    const occurrence = meeting.recurring && item.occurrenceId ? `&occurrence=${encodeURIComponent(item.occurrenceId)}` : '';
    attendance.href = `/attendance.html?meeting=${encodeURIComponent(meeting.id)}${occurrence}`;
    entry.append(attendance);
  }
  return entry;
}

/** Fills the calendar picker with the units and meeting rooms an organiser may look at. */
async function loadCalendarChoices() {
  const text = uiTexts();
  const [units, rooms] = await Promise.all([api('/api/v1/units'), api('/api/v1/meeting-rooms')]);
  const select = document.getElementById('whose');
  const options = [new Option(text.myCalendar, '')];
  if (units.ok) {
    const group = document.createElement('optgroup');
    group.label = text.unitCalendars;
    group.append(...units.body.units.map((unit) => new Option(unit.name, `unit:${unit.id}`)));
    options.push(group);
  }
  if (rooms.ok) {
    const group = document.createElement('optgroup');
    group.label = text.roomCalendars;
    group.append(...rooms.body.meetingRooms.map((room) => new Option(room.location ? `${room.name} (${room.location})` : room.name, `room:${room.id}`)));
    options.push(group);
  }
  select.replaceChildren(...options);
  select.value = state.whose;
  if (select.value !== state.whose) state.whose = '';
  if (!units.ok || !rooms.ok) document.getElementById('calendar-error').textContent = failureMessage(units.ok ? rooms : units);
  document.getElementById('whose-label').hidden = false;
}

async function createFeedLink() {
  const text = uiTexts();
  const status = document.getElementById('feed-status');
  if (state.feedCreated && !window.confirm(text.feedConfirmRotate)) return;
  status.textContent = '';
  const result = await api('/api/v1/calendar/feed-token', { method: 'POST', body: {} });
  if (!result.ok) {
    status.textContent = failureMessage(result);
    return;
  }
  state.feedCreated = true;
  document.getElementById('feed-url').value = new URL(result.body.feedPath, window.location.origin).toString();
  document.getElementById('feed-result').hidden = false;
  document.getElementById('feed-copy').textContent = text.copy;
  document.getElementById('feed-create').textContent = text.feedRotate;
}

async function init() {
  readAddress();
  setUpTexts('calendar', () => {
    render();
    if (state.feedCreated) document.getElementById('feed-create').textContent = uiTexts().feedRotate;
    if (!document.getElementById('whose-label').hidden) void loadCalendarChoices();
  });
  setUpDateFields();

  for (const control of document.querySelectorAll('button.view')) {
    control.addEventListener('click', () => {
      state.view = control.dataset.view;
      void load();
    });
  }
  document.getElementById('previous').addEventListener('click', () => {
    step(-1);
    void load();
  });
  document.getElementById('next').addEventListener('click', () => {
    step(1);
    void load();
  });
  document.getElementById('today').addEventListener('click', () => {
    state.date = todayIn(timeZone);
    void load();
  });
  document.getElementById('date').addEventListener('change', (event) => {
    const date = dateFieldValue(event.target);
    if (!date) return;
    state.date = date;
    void load();
  });
  document.getElementById('whose').addEventListener('change', (event) => {
    state.whose = event.target.value;
    void load();
  });
  document.getElementById('feed-create').addEventListener('click', () => void createFeedLink());
  document.getElementById('feed-copy').addEventListener('click', (event) => {
    void copyToClipboard(document.getElementById('feed-url').value, event.currentTarget, document.getElementById('feed-status'));
  });
  document.getElementById('feed-url').addEventListener('focus', (event) => event.target.select());

  const user = await loadAccount();
  if (!user) return;
  if (isOrganiser(user)) {
    document.getElementById('new-meeting-link').hidden = false;
    await loadCalendarChoices();
  }
  await load();
}

void init();
