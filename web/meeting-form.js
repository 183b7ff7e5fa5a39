// The meeting form: creates a meeting (/meeting-form.html) or edits one
// (/meeting-form.html?id=…). It sends POST /api/v1/meetings or PATCH
// /api/v1/meetings/:id with `onPeopleConflict: "reject"` first, shows clashes and
// the notice rule's rejection, and resends once the organiser confirms.
import { errorMessage, language } from './i18n.js';
import {
  addDays,
  api,
  button,
  clashList,
  dateFieldValue,
  DEFAULT_TIME_ZONE,
  element,
  failureDetails,
  failureMessage,
  formatLongDate,
  formatRange,
  isOrganiser,
  localParts,
  loadAccount,
  normaliseTimeFields,
  parseTime,
  setDateField,
  setUpDateFields,
  setUpTexts,
  timeZoneOptions,
  toInstant,
} from './scheduling-common.js';
import { formatMinutes, uiTexts } from './scheduling-texts.js';

const WEEKDAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const REMINDER_CHOICES = [10080, 2880, 1440, 240, 120, 60, 30, 15, 5];
const PREVIEW_SIZE = 6;
/** The server's caps on a series (lib/domain/recurrence.ts): 200 occurrences or 2 years. */
const MAX_OCCURRENCES = 200;
const MAX_SERIES_YEARS = 2;

const state = {
  user: null,
  /** The meeting being edited, as GET /api/v1/meetings/:id returned it; null when creating. */
  meeting: null,
  units: [],
  rooms: [],
  /** People invited by name: { key, participantId (existing) or userId (new), name, detail, role, existing, removed }. */
  people: [],
  /** Units invited as a whole by this form, not yet saved. */
  newUnitIds: new Set(),
  /** The weekday code kept chosen because the series starts on it. */
  forcedWeekday: null,
  /** The start date the end date was last kept in step with. */
  startDate: '',
  searchTimer: 0,
  searchGeneration: 0,
};

const $ = (id) => document.getElementById(id);

function isEditing() {
  return state.meeting !== null;
}

// ---------------------------------------------------------------- times

function timeZone() {
  return $('time-zone').value || DEFAULT_TIME_ZONE;
}

/** Returns the start and end instants of the form, or null when a date or time is missing or invalid. */
function formTimes() {
  const startDate = dateFieldValue($('start-date'));
  const startTime = parseTime($('start-time').value);
  const endDate = dateFieldValue($('end-date'));
  const endTime = parseTime($('end-time').value);
  if (!startDate || !startTime || !endDate || !endTime) return null;
  return { startsAt: toInstant(startDate, startTime, timeZone()), endsAt: toInstant(endDate, endTime, timeZone()) };
}

function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function meetingMinutes() {
  const times = formTimes();
  if (!times) return null;
  return Math.round((Date.parse(times.endsAt) - Date.parse(times.startsAt)) / 60000);
}

function onTimesChanged() {
  const minutes = meetingMinutes();
  const times = formTimes();
  // The weekday and the length are written out, which the date and time fields alone do not show.
  $('duration').textContent = times && minutes > 0 ? `${formatRange(times.startsAt, times.endsAt, timeZone())} · ${uiTexts().duration(minutes)}` : '';
  updateWeekdays();
  updateAgendaTotal();
  updateRecurrence();
}

// ---------------------------------------------------------------- agenda

function addAgendaRow(item = { title: '', presenter: null, plannedMinutes: '' }) {
  const row = $('agenda-row').content.firstElementChild.cloneNode(true);
  row.querySelector('[name="agenda-title"]').value = item.title;
  row.querySelector('[name="agenda-presenter"]').value = item.presenter ?? '';
  row.querySelector('[name="agenda-minutes"]').value = String(item.plannedMinutes);
  row.querySelector('.up').addEventListener('click', () => {
    if (row.previousElementSibling) row.previousElementSibling.before(row);
    renumberAgenda();
  });
  row.querySelector('.down').addEventListener('click', () => {
    if (row.nextElementSibling) row.nextElementSibling.after(row);
    renumberAgenda();
  });
  row.querySelector('.remove').addEventListener('click', () => {
    row.remove();
    renumberAgenda();
  });
  row.addEventListener('input', updateAgendaTotal);
  $('agenda').append(row);
  applyRowTexts(row);
  renumberAgenda();
  return row;
}

function renumberAgenda() {
  [...$('agenda').children].forEach((row, index) => {
    row.querySelector('.agenda-index').textContent = `${index + 1}.`;
  });
  updateAgendaTotal();
}

/** Returns the filled agenda rows, in order. */
function agendaItems() {
  return [...$('agenda').children]
    .map((row) => ({
      title: row.querySelector('[name="agenda-title"]').value.normalize('NFC').trim(),
      presenter: row.querySelector('[name="agenda-presenter"]').value.normalize('NFC').trim() || null,
      plannedMinutes: Number(row.querySelector('[name="agenda-minutes"]').value),
    }))
    .filter((item) => item.title !== '' || item.plannedMinutes > 0);
}

function updateAgendaTotal() {
  const text = uiTexts();
  const items = agendaItems();
  const planned = items.reduce((sum, item) => sum + (Number.isFinite(item.plannedMinutes) ? item.plannedMinutes : 0), 0);
  const minutes = meetingMinutes();
  const total = $('agenda-total');
  if (items.length === 0) {
    total.textContent = text.agendaEmpty;
    total.classList.remove('over');
    return;
  }
  const over = minutes !== null && planned > minutes;
  total.textContent = `${text.agendaTotal(planned, minutes ?? '–')}${over ? ` — ${text.agendaOver}` : ''}`;
  total.classList.toggle('over', over);
}

// ---------------------------------------------------------------- rooms and mode

function mode() {
  return document.querySelector('input[name="mode"]:checked')?.value ?? 'online';
}

async function loadRooms() {
  const unitId = $('unit').value;
  const result = await api(`/api/v1/meeting-rooms${unitId ? `?unitId=${encodeURIComponent(unitId)}` : ''}`);
  if (!result.ok) {
    $('error-meetingRoomId').textContent = failureMessage(result);
    state.rooms = [];
  } else state.rooms = result.body.meetingRooms;
  renderRooms();
}

function renderRooms() {
  const text = uiTexts();
  const select = $('room');
  const selected = select.value || state.meeting?.place?.meetingRoomId || '';
  const options = [new Option(text.noRoom, '')];
  for (const room of state.rooms) {
    const seats = room.capacity === null ? text.roomCapacityUnknown : text.roomCapacity(room.capacity);
    options.push(new Option([room.name, room.location].filter(Boolean).join(' — ') + ` (${seats})`, room.id));
  }
  // A room that is no longer listed (disabled, or of another unit) stays selectable while editing.
  if (selected && !state.rooms.some((room) => room.id === selected) && state.meeting?.place?.meetingRoomId === selected) {
    options.push(new Option(state.meeting.place.name, selected));
  }
  select.replaceChildren(...options);
  select.value = selected;
  updateRoomInfo();
}

function updateRoomInfo() {
  const text = uiTexts();
  const online = mode() === 'online';
  $('room').disabled = online;
  const info = $('room-info');
  if (online) {
    info.textContent = text.roomForOnline;
    return;
  }
  const room = state.rooms.find((candidate) => candidate.id === $('room').value);
  const invited = state.people.filter((person) => !person.removed).length + guestRows().length;
  info.textContent = room?.capacity && invited > room.capacity ? text.roomOverCapacity(invited, room.capacity) : room?.equipment ?? '';
}

// ---------------------------------------------------------------- participants

function unitName(id) {
  return state.units.find((unit) => unit.id === id)?.name ?? '';
}

function personDetail(user) {
  const units = (user.memberships ?? [])
    .map((membership) => [membership.position, unitName(membership.unitId)].filter(Boolean).join(', '))
    .filter(Boolean)
    .join('; ');
  return [units, user.email].filter(Boolean).join(' · ');
}

function isInvited(userId) {
  return state.people.some((person) => person.userId === userId && !person.removed);
}

function addPerson(user) {
  if (isInvited(user.id)) return;
  const previous = state.people.find((person) => person.userId === user.id && person.removed);
  if (previous) previous.removed = false;
  else {
    state.people.push({
      key: `user:${user.id}`,
      userId: user.id,
      name: user.displayName,
      email: user.email ?? null,
      detail: personDetail(user),
      role: 'participant',
      existing: false,
      removed: false,
    });
  }
  renderPeople();
}

function renderPeople() {
  const text = uiTexts();
  const list = $('selected-people');
  const visible = state.people.filter((person) => !(person.removed && !person.existing));
  if (visible.length === 0) {
    list.replaceChildren(element('li', 'muted', text.noParticipants));
  } else {
    list.replaceChildren(
      ...visible.map((person) => {
        const item = element('li');
        item.dataset.key = person.key;
        const who = element('span');
        const name = element('span', 'person-name', person.name);
        if (person.removed) name.style.textDecoration = 'line-through';
        who.append(name);
        if (person.detail) who.append(element('span', 'muted', ` — ${person.detail}`));
        item.append(who);

        const controls = element('span', 'button-row');
        if (person.existing) {
          controls.append(element('span', 'badge', text.roles[person.role] ?? person.role));
          controls.append(button(person.removed ? text.add : text.remove, 'link', () => {
            person.removed = !person.removed;
            renderPeople();
          }));
        } else {
          const role = document.createElement('select');
          role.setAttribute('aria-label', text.role);
          role.name = 'role';
          role.append(...['chair', 'secretary', 'participant', 'observer'].map((value) => new Option(text.roles[value], value)));
          role.value = person.role;
          role.addEventListener('change', () => {
            person.role = role.value;
          });
          controls.append(role, button(text.remove, 'link', () => {
            state.people = state.people.filter((candidate) => candidate !== person);
            renderPeople();
          }));
        }
        item.append(controls);
        return item;
      }),
    );
  }
  renderSearchResultsState();
  updateRoomInfo();
}

async function searchPeople(query) {
  const text = uiTexts();
  const generation = ++state.searchGeneration;
  const status = $('search-status');
  if (query.trim().length < 2) {
    status.textContent = query ? text.searchHint : '';
    $('people-results').replaceChildren();
    return;
  }
  status.textContent = text.loading;
  const result = await api(`/api/v1/users?q=${encodeURIComponent(query)}&limit=20`);
  if (generation !== state.searchGeneration) return;
  showPeopleResults(result);
}

async function showUnitMembers(unitId) {
  const generation = ++state.searchGeneration;
  $('search-status').textContent = uiTexts().loading;
  const result = await api(`/api/v1/users?unitId=${encodeURIComponent(unitId)}&limit=200`);
  if (generation !== state.searchGeneration) return;
  showPeopleResults(result);
  $('people-results').scrollIntoView({ block: 'nearest' });
}

function showPeopleResults(result) {
  const text = uiTexts();
  const status = $('search-status');
  if (!result.ok) {
    status.textContent = failureMessage(result);
    return;
  }
  const users = result.body.users;
  status.textContent = users.length === 0 ? text.noPeopleFound : '';
  $('people-results').replaceChildren(
    ...users.map((user) => {
      const item = element('li');
      item.dataset.userId = user.id;
      const who = element('span');
      who.append(element('span', 'person-name', user.displayName));
      const detail = personDetail(user);
      if (detail) who.append(element('span', 'muted', ` — ${detail}`));
      const add = button(text.add, 'secondary add-person', () => addPerson(user));
      item.append(who, add);
      return item;
    }),
  );
  renderSearchResultsState();
}

function renderSearchResultsState() {
  const text = uiTexts();
  for (const item of $('people-results').children) {
    const add = item.querySelector('button.add-person');
    if (!add) continue;
    const invited = isInvited(item.dataset.userId);
    add.disabled = invited;
    add.textContent = invited ? text.added : text.add;
  }
}

function renderUnitTree(nodes, container) {
  const text = uiTexts();
  const alreadyInvited = new Set(state.meeting?.invitedUnitIds ?? []);
  container.replaceChildren(
    ...nodes.map((unit) => {
      const item = element('li');
      const line = element('div', 'unit-node');
      line.append(element('span', 'unit-name', unit.name));
      const label = element('label', 'check');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.dataset.unitId = unit.id;
      box.checked = alreadyInvited.has(unit.id) || state.newUnitIds.has(unit.id);
      box.disabled = alreadyInvited.has(unit.id);
      box.addEventListener('change', () => {
        if (box.checked) state.newUnitIds.add(unit.id);
        else state.newUnitIds.delete(unit.id);
        renderInvitedUnits();
      });
      label.append(box, element('span', null, text.inviteWholeUnit));
      line.append(label, button(text.showMembers, 'link', () => void showUnitMembers(unit.id)));
      item.append(line);
      if (unit.children?.length) {
        const children = element('ul');
        renderUnitTree(unit.children, children);
        item.append(children);
      }
      return item;
    }),
  );
}

function renderInvitedUnits() {
  const text = uiTexts();
  const existing = state.meeting?.invitedUnitIds ?? [];
  const chips = [
    ...existing.map((id) => {
      const chip = element('li', null, unitName(id));
      chip.dataset.unitId = id;
      return chip;
    }),
    ...[...state.newUnitIds].map((id) => {
      const chip = element('li', null, unitName(id));
      chip.dataset.unitId = id;
      chip.append(button('✕', 'link', () => {
        state.newUnitIds.delete(id);
        const box = document.querySelector(`#unit-tree input[data-unit-id="${id}"]`);
        if (box) box.checked = false;
        renderInvitedUnits();
      }));
      chip.lastElementChild.setAttribute('aria-label', `${text.remove} ${unitName(id)}`);
      return chip;
    }),
  ];
  $('invited-units').replaceChildren(...(chips.length ? chips : [element('li', 'muted', '—')]));
}

function addGuestRow() {
  const row = $('guest-row').content.firstElementChild.cloneNode(true);
  row.querySelector('.remove').addEventListener('click', () => {
    row.remove();
    updateRoomInfo();
  });
  row.addEventListener('input', updateRoomInfo);
  $('guests').append(row);
  applyRowTexts(row);
  return row;
}

/** Guest rows with a name. */
function guestRows() {
  return [...$('guests').children].filter((row) => row.querySelector('[name="guest-name"]').value.trim() !== '');
}

function guestInputs() {
  return guestRows().map((row) => {
    const guest = { name: row.querySelector('[name="guest-name"]').value.normalize('NFC').trim(), role: 'guest' };
    const contact = row.querySelector('[name="guest-contact"]').value.trim();
    if (contact.includes('@')) guest.email = contact;
    else if (contact) guest.phone = contact;
    return guest;
  });
}

function newPeopleInputs() {
  return state.people
    .filter((person) => !person.existing && !person.removed)
    .map((person) => ({ name: person.name, userId: person.userId, role: person.role, ...(person.email ? { email: person.email } : {}) }));
}

// ---------------------------------------------------------------- recurrence

function weekdayOfStart() {
  const date = dateFieldValue($('start-date'));
  if (!date) return null;
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return WEEKDAY_CODES[(day + 6) % 7];
}

function renderWeekdayPicks() {
  const text = uiTexts();
  const checked = new Set([...document.querySelectorAll('#weekdays input:checked')].map((box) => box.value));
  $('weekdays').replaceChildren(
    ...WEEKDAY_CODES.map((code, index) => {
      const label = element('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = code;
      box.checked = checked.has(code);
      box.addEventListener('change', updateRecurrence);
      // weekdays of i18n.js start on Sunday.
      label.append(box, element('span', null, text.weekdays[(index + 1) % 7]));
      return label;
    }),
  );
  updateWeekdays();
}

/** Keeps the weekday of the first occurrence chosen: the server requires the start to be the first occurrence. */
function updateWeekdays() {
  const startCode = weekdayOfStart();
  for (const box of document.querySelectorAll('#weekdays input')) {
    const isStart = box.value === startCode;
    // The weekday of the previous start was chosen only because it was the start's.
    if (box.value === state.forcedWeekday && !isStart) box.checked = false;
    if (isStart) box.checked = true;
    box.disabled = isStart;
  }
  state.forcedWeekday = startCode;
}

/** "20261231T165959Z": the end of `date` in `zone`, the last instant an UNTIL on that day allows. */
function untilValue(date, zone) {
  const endOfDay = Date.parse(toInstant(date, '23:59', zone)) + 59_000;
  return new Date(endOfDay).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Builds the RRULE value of the editor, or null for a single meeting. */
function buildRule() {
  const kind = $('recurrence-kind').value;
  if (kind === 'none') return null;
  if (kind === 'custom') return $('custom-rule').value.trim() || null;
  const parts = [`FREQ=${kind}`];
  const interval = Number($('interval').value);
  if (Number.isInteger(interval) && interval > 1) parts.push(`INTERVAL=${interval}`);
  if (kind === 'WEEKLY') {
    const days = WEEKDAY_CODES.filter((code) => document.querySelector(`#weekdays input[value="${code}"]`)?.checked);
    if (days.length > 0) parts.push(`BYDAY=${days.join(',')}`);
  }
  const end = document.querySelector('input[name="recurrence-end"]:checked')?.value;
  const until = dateFieldValue($('until'));
  if (end === 'until' && until) parts.push(`UNTIL=${untilValue(until, timeZone())}`);
  if (end === 'count' && Number($('count').value) >= 1) parts.push(`COUNT=${Math.floor(Number($('count').value))}`);
  return parts.join(';');
}

/** Sets the editor from a stored rule; a rule it cannot show goes to the custom field. */
function setRule(rule) {
  const kindSelect = $('recurrence-kind');
  if (!rule) {
    kindSelect.value = 'none';
    return;
  }
  const parts = Object.fromEntries(rule.replace(/^RRULE:/i, '').split(';').map((part) => part.split('=')));
  const known = ['FREQ', 'INTERVAL', 'BYDAY', 'COUNT', 'UNTIL'];
  const simple =
    ['DAILY', 'WEEKLY', 'MONTHLY'].includes(parts.FREQ) &&
    Object.keys(parts).every((key) => known.includes(key)) &&
    (parts.BYDAY === undefined || (parts.FREQ === 'WEEKLY' && parts.BYDAY.split(',').every((code) => WEEKDAY_CODES.includes(code))));
  if (!simple) {
    kindSelect.value = 'custom';
    $('custom-rule').value = rule;
    return;
  }
  kindSelect.value = parts.FREQ;
  $('interval').value = parts.INTERVAL ?? '1';
  for (const box of document.querySelectorAll('#weekdays input')) box.checked = (parts.BYDAY ?? '').split(',').includes(box.value);
  if (parts.COUNT) {
    document.querySelector('input[name="recurrence-end"][value="count"]').checked = true;
    $('count').value = parts.COUNT;
  } else if (parts.UNTIL) {
    document.querySelector('input[name="recurrence-end"][value="until"]').checked = true;
    const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(parts.UNTIL);
    if (match) {
      const instant = `${match[1]}-${match[2]}-${match[3]}T${match[4] ?? '00'}:${match[5] ?? '00'}:${match[6] ?? '00'}Z`;
      setDateField($('until'), match[4] === undefined ? instant.slice(0, 10) : localParts(instant, timeZone()).date);
    }
  }
}

/** Shows the options that fit the chosen repetition, the rule, and the next occurrences. */
function updateRecurrence() {
  const text = uiTexts();
  const kind = $('recurrence-kind').value;
  $('recurrence-options').hidden = kind === 'none' || kind === 'custom';
  $('custom-rule-label').hidden = kind !== 'custom';
  $('weekday-box').hidden = kind !== 'WEEKLY';
  $('interval-unit').textContent = text.intervalUnit[kind] ?? '';
  const rule = buildRule();
  $('rrule-text').textContent = rule ?? '—';
  renderPreview(rule);
}

/**
 * Expands the rule the way lib/domain/recurrence.ts does: on the wall clock of
 * the meeting's time zone ("floating" dates whose UTC fields hold local time),
 * at most 200 occurrences or 2 years from the first.
 */
function renderPreview(rule) {
  const text = uiTexts();
  const list = $('recurrence-preview');
  const note = $('preview-note');
  list.replaceChildren();
  note.textContent = '';
  const times = formTimes();
  if (!times) {
    note.textContent = text.previewUnavailable;
    return;
  }

  const zone = timeZone();
  const durationMs = Date.parse(times.endsAt) - Date.parse(times.startsAt);
  const start = localParts(times.startsAt, zone);
  const dtstart = new Date(`${start.date}T${start.time}:00Z`);
  if (!rule) {
    list.append(element('li', null, formatRange(times.startsAt, times.endsAt, zone)));
    return;
  }

  const { RRule } = window.rrule;
  let dates;
  let expander;
  try {
    const options = RRule.parseString(rule.replace(/^RRULE:/i, '').toUpperCase());
    if (options.until) {
      const until = localParts(options.until.toISOString(), zone);
      options.until = new Date(`${until.date}T${until.time}:${until.second}Z`);
    }
    expander = new RRule({ ...options, dtstart, tzid: null });
    const limit = new Date(dtstart);
    limit.setUTCFullYear(limit.getUTCFullYear() + MAX_SERIES_YEARS);
    dates = expander.all((date, index) => index < MAX_OCCURRENCES && date < limit);
  } catch {
    note.textContent = text.previewInvalid;
    return;
  }
  if (dates.length === 0 || dates[0].getTime() !== dtstart.getTime()) {
    note.textContent = text.previewInvalid;
    return;
  }

  for (const date of dates.slice(0, PREVIEW_SIZE)) {
    const localDate = date.toISOString().slice(0, 10);
    const localTime = date.toISOString().slice(11, 16);
    const end = new Date(date.getTime() + durationMs).toISOString();
    const endText = end.slice(0, 10) === localDate ? end.slice(11, 16) : `${formatLongDate(end.slice(0, 10))} ${end.slice(11, 16)}`;
    list.append(element('li', null, `${formatLongDate(localDate)} ${localTime} – ${endText}`));
  }

  const notes = [];
  if (dates.length > PREVIEW_SIZE) notes.push(text.previewMore(dates.length - PREVIEW_SIZE));
  if (expander.after(dates.at(-1), false) !== null) notes.push(text.previewCapped);
  note.textContent = notes.join(' ');
}

// ---------------------------------------------------------------- reminders

function renderReminderPicks(selected = [1440, 30]) {
  const text = uiTexts();
  const current = $('reminder-picks').children.length
    ? new Set([...document.querySelectorAll('#reminder-picks input:checked')].map((box) => Number(box.value)))
    : new Set(selected);
  $('reminder-picks').replaceChildren(
    ...REMINDER_CHOICES.map((minutes) => {
      const label = element('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = String(minutes);
      box.checked = current.has(minutes);
      label.append(box, element('span', null, text.reminderOffsets[minutes]));
      return label;
    }),
  );
  updateReminderPicks();
}

function updateReminderPicks() {
  const custom = document.querySelector('input[name="reminder-mode"]:checked')?.value === 'custom';
  for (const box of document.querySelectorAll('#reminder-picks input')) box.disabled = !custom;
}

/** Returns the reminder change to send after saving: undefined to send none, null for the default, or the offsets. */
function reminderChoice() {
  const choice = document.querySelector('input[name="reminder-mode"]:checked')?.value;
  if (choice === 'keep') return undefined;
  if (choice === 'default') return isEditing() ? null : undefined;
  return [...document.querySelectorAll('#reminder-picks input:checked')].map((box) => Number(box.value));
}

// ---------------------------------------------------------------- errors

const FIELD_OF_CODE = {
  END_BEFORE_START: 'times',
  UNKNOWN_TIME_ZONE: 'times',
  AGENDA_TOO_LONG: 'agenda',
  RECURRENCE_INVALID: 'recurrenceRule',
  MEETING_ROOM_UNAVAILABLE: 'meetingRoomId',
  MEETING_ROOM_OVER_CAPACITY: 'meetingRoomId',
  MEETING_ROOM_CONFLICT: 'meetingRoomId',
  PEOPLE_CONFLICT: 'participants',
  REFERENCED_UNIT_NOT_FOUND: 'unitId',
  UNIT_DISABLED: 'unitId',
  REFERENCED_USER_NOT_FOUND: 'participants',
  // NOTICE_TOO_SHORT has no field entry: its message and the offer to mark the meeting urgent appear once, at the top.
};

/** Returns the error box of a request field path such as "participants.0.email" or "startsAt". */
function errorBoxFor(path) {
  const field = String(path).split('.')[0];
  if (['startsAt', 'endsAt', 'timeZone'].includes(field)) return $('error-times');
  if (['participants', 'addParticipants', 'removeParticipantIds', 'invitedUnitIds', 'inviteUnitIds'].includes(field)) return $('error-participants');
  if (field === 'mode') return $('error-meetingRoomId');
  if (field === 'offsetsMinutes') return $('error-reminders');
  return document.getElementById(`error-${field}`) ?? null;
}

function clearErrors() {
  $('form-alert').replaceChildren();
  for (const box of document.querySelectorAll('.field-error')) box.replaceChildren();
  for (const field of document.querySelectorAll('.invalid')) field.classList.remove('invalid');
}

function showTopMessage(message, ...extra) {
  const alert = $('form-alert');
  alert.replaceChildren(element('strong', null, uiTexts().errorTop), document.createTextNode(` ${message}`), ...extra);
  alert.scrollIntoView({ block: 'start', behavior: 'instant' });
}

/** Builds the message of VALIDATION_FAILED. In Vietnamese it names the form's fields, and English readers get the API's details. */
function validationMessage(error) {
  if (language() === 'en' || !Array.isArray(error.details)) return errorMessage({ error });
  const names = uiTexts().fieldNames;
  const labels = [...new Set(error.details.map((detail) => {
    const field = String(detail.path).split('.')[0];
    if (errorBoxFor(field) === $('error-participants')) return uiTexts().sectionParticipants;
    if (field === 'unitId') return uiTexts().unit;
    return names[field] ?? field;
  }))];
  return `${error.message} (${labels.join(', ')})`;
}

/**
 * Shows a failed response: the API's message at the top and next to the field
 * it concerns, with the clash list, and the offers to mark the meeting urgent
 * or to keep the schedule despite people clashes.
 */
function showFailure(result, retry) {
  const text = uiTexts();
  if (!result.body?.error) {
    showTopMessage(failureMessage(result));
    return;
  }
  const error = result.body.error;
  const message = error.code === 'VALIDATION_FAILED' ? validationMessage(error) : errorMessage(result.body);
  const extra = [];

  if (error.code === 'VALIDATION_FAILED' && Array.isArray(error.details)) {
    for (const detail of error.details) {
      const box = errorBoxFor(detail.path);
      if (!box) continue;
      const line = language() === 'en' ? `${detail.path}: ${detail.message}` : text.fieldInvalid;
      if (!box.textContent.includes(line)) box.append(element('div', null, line));
    }
    extra.push(element('div', 'muted', text.fieldErrorsHint));
  } else if (FIELD_OF_CODE[error.code]) {
    const box = errorBoxFor(FIELD_OF_CODE[error.code]);
    box.append(element('div', null, message));
    if (error.code === 'MEETING_ROOM_CONFLICT') {
      box.append(...failureDetails(error, timeZone()));
      $('room').classList.add('invalid');
    }
    if (error.code === 'AGENDA_TOO_LONG') box.append(...failureDetails(error, timeZone()));
    if (error.code === 'PEOPLE_CONFLICT') box.append(clashList(error.details?.conflicts, timeZone(), true));
    if (error.code === 'RECURRENCE_INVALID' && error.details?.reason && language() === 'en') box.append(element('div', 'muted', error.details.reason));
  }

  if (error.code === 'PEOPLE_CONFLICT' || error.code === 'NOTICE_TOO_SHORT') {
    extra.push(
      ...failureDetails(error, timeZone(), (next) => {
        if (next.urgent) $('urgent').checked = true;
        return retry(next.onPeopleConflict ? { onPeopleConflict: next.onPeopleConflict } : {});
      }),
    );
  }
  showTopMessage(message, ...extra);
}

// ---------------------------------------------------------------- saving

/** Checks what the server would reject anyway, so the person sees it without a request. */
function checkLocally() {
  const text = uiTexts();
  let ok = true;
  if (!$('title').value.trim()) {
    $('error-title').textContent = text.required;
    $('title').classList.add('invalid');
    ok = false;
  }
  const badTime = ['start-time', 'end-time'].some((id) => $(id).value.trim() !== '' && parseTime($(id).value) === null);
  const badDate = ['start-date', 'end-date'].some((id) => dateFieldValue($(id)) === null);
  if (badDate) {
    $('error-times').textContent = text.invalidDate;
    ok = false;
  } else if (badTime) {
    $('error-times').textContent = text.invalidTime;
    ok = false;
  } else if (!formTimes()) {
    $('error-times').textContent = text.needTimes;
    ok = false;
  }
  const invited = state.people.some((person) => !person.removed) || guestRows().length > 0 || state.newUnitIds.size > 0 || (state.meeting?.invitedUnitIds.length ?? 0) > 0;
  if (!invited) {
    $('error-participants').textContent = text.needParticipants;
    ok = false;
  }
  const endsOnDate = !['none', 'custom'].includes($('recurrence-kind').value) && document.querySelector('input[name="recurrence-end"]:checked')?.value === 'until';
  if (endsOnDate && !dateFieldValue($('until'))) {
    $('error-recurrenceRule').textContent = text.invalidDate;
    ok = false;
  }
  const reminders = reminderChoice();
  if (Array.isArray(reminders) && (reminders.length < 1 || reminders.length > 5)) {
    $('error-reminders').textContent = text.reminderPickOne;
    ok = false;
  }
  if (!ok) showTopMessage(text.fieldErrorsHint);
  return ok;
}

function createBody(status, onPeopleConflict) {
  const times = formTimes();
  return {
    unitId: $('unit').value || undefined,
    title: $('title').value,
    description: $('description').value,
    preparation: $('preparation').value,
    startsAt: times.startsAt,
    endsAt: times.endsAt,
    timeZone: timeZone(),
    participants: [...newPeopleInputs(), ...guestInputs()],
    invitedUnitIds: [...state.newUnitIds],
    status,
    agenda: agendaItems(),
    mode: mode(),
    meetingRoomId: mode() === 'online' ? null : $('room').value || null,
    urgent: $('urgent').checked,
    recurrenceRule: buildRule(),
    onPeopleConflict,
  };
}

/** Builds the PATCH body from the fields that differ from the meeting as loaded. */
function updateBody(onPeopleConflict) {
  const meeting = state.meeting;
  const times = formTimes();
  const body = { onPeopleConflict };
  const setIfChanged = (key, value, current) => {
    if (JSON.stringify(value) !== JSON.stringify(current)) body[key] = value;
  };
  setIfChanged('title', $('title').value.normalize('NFC').trim(), meeting.title);
  setIfChanged('description', $('description').value.normalize('NFC').trim() || null, meeting.description);
  setIfChanged('preparation', $('preparation').value.normalize('NFC').trim() || null, meeting.preparation);
  if (Date.parse(times.startsAt) !== Date.parse(meeting.startsAt) || Date.parse(times.endsAt) !== Date.parse(meeting.endsAt)) {
    body.startsAt = times.startsAt;
    body.endsAt = times.endsAt;
  }
  setIfChanged('timeZone', timeZone(), meeting.timeZone);
  setIfChanged('agenda', agendaItems(), meeting.agenda);
  setIfChanged('mode', mode(), meeting.mode);
  setIfChanged('meetingRoomId', mode() === 'online' ? null : $('room').value || null, meeting.place?.meetingRoomId ?? null);
  setIfChanged('urgent', $('urgent').checked, meeting.urgent);
  setIfChanged('recurrenceRule', buildRule(), meeting.recurrenceRule);
  const added = [...newPeopleInputs(), ...guestInputs()];
  if (added.length) body.addParticipants = added;
  const removed = state.people.filter((person) => person.existing && person.removed).map((person) => person.participantId);
  if (removed.length) body.removeParticipantIds = removed;
  if (state.newUnitIds.size) body.inviteUnitIds = [...state.newUnitIds];
  return body;
}

function setBusy(busy) {
  for (const id of ['save-draft', 'save-schedule', 'save-changes']) $(id).disabled = busy;
}

/**
 * Saves the form. `intent` is "draft", "schedule" or "changes"; `options`
 * carries `onPeopleConflict` ("reject" until the organiser confirms).
 */
async function save(intent, options = {}) {
  clearErrors();
  if (!checkLocally()) return;
  const onPeopleConflict = options.onPeopleConflict ?? 'reject';
  const retry = (next) => save(intent, { onPeopleConflict, ...next });
  setBusy(true);
  try {
    let result;
    let links = [];
    const warnings = [];
    if (!isEditing()) {
      result = await api('/api/v1/meetings', { method: 'POST', body: createBody(intent === 'draft' ? 'draft' : 'scheduled', onPeopleConflict) });
      if (!result.ok) return showFailure(result, retry);
      links = result.body.participants;
    } else {
      result = await api(`/api/v1/meetings/${state.meeting.id}`, { method: 'PATCH', body: updateBody(onPeopleConflict) });
      if (!result.ok) return showFailure(result, retry);
      links = result.body.addedParticipants;
      // The saved meeting is the new baseline, so a retry of the scheduling step does not add people twice.
      loadMeetingIntoState(result.body);
      if (intent === 'schedule' && result.body.status === 'draft') {
        const scheduled = await api(`/api/v1/meetings/${state.meeting.id}/schedule`, { method: 'POST', body: { urgent: $('urgent').checked, onPeopleConflict } });
        if (!scheduled.ok) return showFailure(scheduled, retry);
        warnings.push(...scheduled.body.warnings);
      }
    }
    warnings.push(...(result.body.warnings ?? []));

    const reminders = reminderChoice();
    let reminderFailure = null;
    if (reminders !== undefined) {
      const set = await api(`/api/v1/meetings/${result.body.id}/reminders`, { method: 'PUT', body: { offsetsMinutes: reminders } });
      if (!set.ok) reminderFailure = failureMessage(set);
    }

    sessionStorage.setItem(
      'hop.saved',
      JSON.stringify({
        id: result.body.id,
        warnings: warnings.map((warning) => ({ message: warning.message, message_en: warning.message_en, details: warning.details })),
        links: links.map((participant) => ({ name: participant.name, role: participant.role, joinPath: participant.joinPath })),
        reminderFailure,
      }),
    );
    window.location.assign(`/meeting.html?id=${encodeURIComponent(result.body.id)}`);
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------- loading

function applyRowTexts(root) {
  const text = uiTexts();
  for (const node of root.querySelectorAll('[data-placeholder]')) {
    node.placeholder = text[node.dataset.placeholder];
    node.setAttribute('aria-label', text[node.dataset.placeholder]);
  }
  for (const node of root.querySelectorAll('[data-text]')) node.textContent = text[node.dataset.text];
  root.querySelector('.up')?.setAttribute('aria-label', text.moveUp);
  root.querySelector('.down')?.setAttribute('aria-label', text.moveDown);
  root.querySelector('.icons .remove')?.setAttribute('aria-label', text.remove);
}

function applyDynamicTexts() {
  const text = uiTexts();
  $('page-title').textContent = isEditing() ? text.formEditTitle : text.formCreateTitle;
  document.title = `${$('page-title').textContent} – hop`;
  for (const node of document.querySelectorAll('[data-text-mode]')) node.textContent = text.modes[node.dataset.textMode];
  const kinds = { none: text.recurrenceNone, DAILY: text.recurrenceDaily, WEEKLY: text.recurrenceWeekly, MONTHLY: text.recurrenceMonthly, custom: text.recurrenceCustom };
  for (const option of $('recurrence-kind').options) option.textContent = kinds[option.value];
  $('save-schedule').textContent = isEditing() ? text.saveAndSchedule : text.schedule;
  for (const row of [...$('agenda').children, ...$('guests').children]) applyRowTexts(row);
  renderWeekdayPicks();
  renderReminderPicks();
  renderRooms();
  renderPeople();
  renderInvitedUnits();
  onTimesChanged();
}

/** Shows the person's units first; organisers may schedule only for their own units. */
async function loadUnits() {
  const [flat, tree, me] = await Promise.all([
    api('/api/v1/units'),
    api('/api/v1/units?format=tree'),
    api(`/api/v1/users?q=${encodeURIComponent(state.user.displayName)}&limit=50`),
  ]);
  if (!flat.ok) {
    showTopMessage(failureMessage(flat));
    return;
  }
  state.units = flat.body.units;
  const mine = new Set((me.ok ? me.body.users.find((user) => user.id === state.user.id)?.memberships ?? [] : []).map((membership) => membership.unitId));
  const choices = state.user.systemRole === 'admin' ? state.units : state.units.filter((unit) => mine.has(unit.id));
  const options = choices.map((unit) => new Option(unit.name, unit.id));
  if (state.user.systemRole === 'admin') options.unshift(new Option(uiTexts().noUnit, ''));
  $('unit').replaceChildren(...options);
  if (state.meeting) {
    if (![...$('unit').options].some((option) => option.value === (state.meeting.unitId ?? ''))) $('unit').append(new Option(unitName(state.meeting.unitId), state.meeting.unitId ?? ''));
    $('unit').value = state.meeting.unitId ?? '';
    $('unit').disabled = true;
  } else if (mine.size > 0) {
    $('unit').value = choices.find((unit) => mine.has(unit.id))?.id ?? $('unit').value;
  }
  if (tree.ok) renderUnitTree(tree.body.units, $('unit-tree'));
  else $('error-participants').textContent = failureMessage(tree);
  renderInvitedUnits();
}

function loadMeetingIntoState(meeting) {
  const text = uiTexts();
  state.meeting = meeting;
  state.newUnitIds = new Set();
  state.people = meeting.participants.map((participant) => ({
    key: `participant:${participant.id}`,
    participantId: participant.id,
    userId: participant.userId,
    name: participant.name,
    detail: [participant.email, participant.phone, participant.invitedUnitId ? `${text.inviteWholeUnit}: ${unitName(participant.invitedUnitId)}` : null].filter(Boolean).join(' · '),
    role: participant.role,
    existing: true,
    removed: false,
  }));
  $('guests').replaceChildren();
  renderPeople();
  renderInvitedUnits();
  for (const box of document.querySelectorAll('#unit-tree input[data-unit-id]')) {
    const invited = meeting.invitedUnitIds.includes(box.dataset.unitId);
    box.checked = invited;
    box.disabled = invited;
  }
}

function fillForm(meeting) {
  const zone = meeting.timeZone;
  $('time-zone').replaceChildren(...timeZoneOptions(zone));
  $('time-zone').value = zone;
  $('title').value = meeting.title;
  $('description').value = meeting.description ?? '';
  $('preparation').value = meeting.preparation ?? '';
  const start = localParts(meeting.startsAt, zone);
  const end = localParts(meeting.endsAt, zone);
  setDateField($('start-date'), start.date);
  $('start-time').value = start.time;
  setDateField($('end-date'), end.date);
  $('end-time').value = end.time;
  state.startDate = start.date;

  $('urgent').checked = meeting.urgent;
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === meeting.mode;
  $('agenda').replaceChildren();
  for (const item of meeting.agenda) addAgendaRow(item);
  renderWeekdayPicks();
  setRule(meeting.recurrenceRule);
  loadMeetingIntoState(meeting);

  $('reminder-keep-label').hidden = false;
  document.querySelector('input[name="reminder-mode"][value="keep"]').checked = true;
  $('back-link').href = `/meeting.html?id=${encodeURIComponent(meeting.id)}`;
  const draft = meeting.status === 'draft';
  $('save-draft').hidden = !draft;
  $('save-schedule').hidden = !draft;
  $('save-changes').hidden = draft;
  if (meeting.status === 'cancelled' || meeting.status === 'ended') {
    showTopMessage(uiTexts().notEditable);
    setBusy(true);
  }
}

function wireEvents() {
  for (const id of ['start-time', 'end-date', 'end-time', 'time-zone']) $(id).addEventListener('change', onTimesChanged);
  for (const id of ['start-time', 'end-time']) $(id).addEventListener('input', onTimesChanged);
  normaliseTimeFields();
  setUpDateFields();
  // Moving the start date moves the end date by as many days, so the meeting keeps its length.
  $('start-date').addEventListener('change', () => {
    const start = dateFieldValue($('start-date'));
    if (!start) {
      onTimesChanged();
      return;
    }
    const end = dateFieldValue($('end-date'));
    setDateField($('end-date'), end && state.startDate ? addDays(end, daysBetween(state.startDate, start)) : start);
    state.startDate = start;
    onTimesChanged();
  });

  $('agenda-add').addEventListener('click', () => addAgendaRow().querySelector('input').focus());
  $('add-guest').addEventListener('click', () => addGuestRow().querySelector('input').focus());
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener('change', updateRoomInfo);
  $('room').addEventListener('change', updateRoomInfo);
  $('unit').addEventListener('change', () => void loadRooms());
  $('person-search').addEventListener('input', (event) => {
    window.clearTimeout(state.searchTimer);
    const query = event.target.value;
    state.searchTimer = window.setTimeout(() => void searchPeople(query), 250);
  });

  $('recurrence-kind').addEventListener('change', updateRecurrence);
  for (const id of ['interval', 'until', 'count', 'custom-rule']) $(id).addEventListener('input', updateRecurrence);
  for (const radio of document.querySelectorAll('input[name="recurrence-end"]')) radio.addEventListener('change', updateRecurrence);
  for (const radio of document.querySelectorAll('input[name="reminder-mode"]')) radio.addEventListener('change', updateReminderPicks);
  $('save-draft').addEventListener('click', () => void save('draft'));
  $('save-schedule').addEventListener('click', () => void save('schedule'));
  $('save-changes').addEventListener('click', () => void save('changes'));
  $('meeting-form').addEventListener('submit', (event) => event.preventDefault());
}

async function init() {
  setUpTexts('formCreateTitle', applyDynamicTexts);
  $('time-zone').replaceChildren(...timeZoneOptions());
  renderWeekdayPicks();
  renderReminderPicks();
  wireEvents();

  const params = new URLSearchParams(window.location.search);
  const linkedDate = /^\d{4}-\d{2}-\d{2}$/.test(params.get('date') ?? '') ? params.get('date') : null;
  const firstDate = linkedDate ?? addDays(localParts(Date.now(), DEFAULT_TIME_ZONE).date, 1);
  setDateField($('start-date'), firstDate);
  setDateField($('end-date'), firstDate);
  $('start-time').value = '08:00';
  $('end-time').value = '10:00';
  state.startDate = firstDate;

  state.user = await loadAccount();
  if (!state.user) return;
  if (params.get('id')) {
    const result = await api(`/api/v1/meetings/${encodeURIComponent(params.get('id'))}`);
    if (!result.ok) {
      showTopMessage(failureMessage(result));
      setBusy(true);
      return;
    }
    fillForm(result.body);
  } else if (!isOrganiser(state.user)) {
    showTopMessage(uiTexts().organiserOnly);
    setBusy(true);
  }
  await loadUnits();
  await loadRooms();
  applyDynamicTexts();
}

void init();
