import { errorMessage, formatDateTime, formatTime, language, setLanguage, t } from './i18n.js';
import { documentsToggle } from './documents.js';
import { parseDate } from './scheduling-common.js';
import { uiTexts } from './scheduling-texts.js';

const roles = ['chair', 'secretary', 'participant', 'observer', 'guest'];

function applyTexts() {
  const text = t();
  document.documentElement.lang = language();
  document.title = text.appName;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = text[element.dataset.text];
  for (const element of document.querySelectorAll('[data-placeholder]')) {
    element.placeholder = text[element.dataset.placeholder];
    element.setAttribute('aria-label', text[element.dataset.placeholder]);
  }
  for (const select of document.querySelectorAll('select[name="role"]')) select.setAttribute('aria-label', text.role);
  for (const select of document.querySelectorAll('select[name="role"]')) {
    const value = select.value;
    select.replaceChildren(...roles.map((role) => new Option(text.roles[role], role)));
    select.value = value || 'participant';
  }
  document.getElementById('language').textContent = text.switchLanguage;
}

/** Offset in milliseconds of `timeZone` from UTC at the instant `utcMs`. */
function zoneOffset(utcMs, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(utcMs))
      .map((part) => [part.type, part.value]),
  );
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - utcMs;
}

/** Turns a wall-clock date and time in `timeZone` into an ISO instant. */
function toInstant(date, time, timeZone) {
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute] = time.split(':').map(Number);
  const wallClock = Date.UTC(year, month - 1, day, hour, minute);
  const offset = zoneOffset(wallClock - zoneOffset(wallClock, timeZone), timeZone);
  return new Date(wallClock - offset).toISOString();
}

function addParticipantRow(role = 'participant') {
  const row = document.getElementById('participant-row').content.firstElementChild.cloneNode(true);
  row.querySelector('.remove').addEventListener('click', () => {
    if (document.querySelectorAll('#participants .participant').length > 1) row.remove();
  });
  document.getElementById('participants').append(row);
  applyTexts();
  row.querySelector('select[name="role"]').value = role;
}

function participantFromRow(row) {
  const name = row.querySelector('[name="name"]').value.normalize('NFC').trim();
  const contact = row.querySelector('[name="contact"]').value.trim();
  const participant = { name, role: row.querySelector('[name="role"]').value };
  if (contact.includes('@')) participant.email = contact;
  else if (contact) participant.phone = contact;
  return participant;
}

/** Sends the person to the sign-in page, to come back here afterwards. */
function goToSignIn() {
  window.location.assign(`/login.html?next=${encodeURIComponent(window.location.pathname)}`);
}

async function api(path, options = {}) {
  const headers = { 'content-type': 'application/json', ...options.headers };
  const method = options.method ?? 'GET';
  // Cookie sessions send the CSRF token they got at sign-in with every change.
  if (method !== 'GET' && sessionStorage.getItem('hop.csrf')) headers['x-csrf-token'] = sessionStorage.getItem('hop.csrf');
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    return { ok: false, body: null };
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) goToSignIn();
  return { ok: response.ok, status: response.status, body };
}

/** Shows who is signed in and keeps their CSRF token; sends anonymous visitors to sign in. Returns the user. */
async function loadAccount() {
  const me = await api('/api/v1/auth/me');
  if (!me.ok || me.body?.kind !== 'user') return null;
  if (me.body.csrfToken) sessionStorage.setItem('hop.csrf', me.body.csrfToken);
  document.getElementById('signed-in-as').textContent = me.body.user.displayName;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('admin-link').hidden = me.body.user.systemRole !== 'admin';
  return me.body.user;
}

/** Fills the unit picker; an admin may also schedule without a unit. */
async function loadUnits(user) {
  const select = document.getElementById('unit');
  const result = await api('/api/v1/units');
  const active = result.ok ? result.body.units.filter((unit) => !unit.disabledAt) : [];
  // Organisers schedule only for their own units; admins for any.
  const mine = new Set(user?.unitIds ?? []);
  const units = user?.systemRole === 'admin' ? active : active.filter((unit) => mine.has(unit.id));
  const options = units.map((unit) => new Option(unit.name, unit.id));
  if (user?.systemRole === 'admin' || units.length === 0) options.unshift(new Option(t().noUnit, ''));
  select.replaceChildren(...options);
}

async function signOut() {
  await api('/api/v1/auth/logout', { method: 'POST', body: '{}' });
  sessionStorage.removeItem('hop.csrf');
  goToSignIn();
}

function statusBadge(meeting) {
  const text = t();
  const label = meeting.status === 'scheduled' ? text.roomStatus[meeting.roomStatus] : text.status[meeting.status];
  const badge = document.createElement('span');
  badge.className = `badge ${meeting.status} room-${meeting.roomStatus}`;
  badge.textContent = label;
  return badge;
}

async function loadMeetings() {
  const status = document.getElementById('list-status');
  const list = document.getElementById('meetings');
  // Meetings from the start of today on: what is running now and what comes next.
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const result = await api(`/api/v1/meetings?from=${encodeURIComponent(today.toISOString())}`);
  if (!result.ok) {
    status.textContent = result.body ? errorMessage(result.body) : t().loadFailed;
    return;
  }
  const meetings = result.body.meetings;
  status.textContent = meetings.length === 0 ? t().noMeetings : '';
  list.replaceChildren(
    ...meetings.map((meeting) => {
      const item = document.createElement('li');
      item.className = 'meeting';
      item.dataset.id = meeting.id;

      const title = document.createElement('strong');
      title.textContent = meeting.title;
      const when = document.createElement('span');
      when.textContent = `${formatDateTime(meeting.startsAt, meeting.timeZone)}–${formatTime(meeting.endsAt, meeting.timeZone)}`;
      const count = document.createElement('span');
      count.className = 'muted';
      count.textContent = t().participantCount(meeting.participantCount);
      item.append(title, when, count, statusBadge(meeting));
      if (meeting.status !== 'cancelled') item.append(...documentsToggle(meeting));
      if (meeting.status !== 'cancelled' && meeting.status !== 'draft') {
        const attendance = Object.assign(document.createElement('a'), { href: `/attendance.html?meeting=${meeting.id}`, textContent: language() === 'en' ? 'Attendance' : 'Điểm danh' });
        item.append(attendance);
      }

      if (['scheduled', 'postponed', 'draft'].includes(meeting.status)) {
        const cancel = document.createElement('button');
        cancel.type = 'button';
        cancel.className = 'link danger';
        cancel.textContent = t().cancelMeeting;
        cancel.addEventListener('click', () => cancelMeeting(meeting.id));
        item.append(cancel);
      }
      return item;
    }),
  );
}

async function cancelMeeting(id) {
  if (!confirm(t().confirmCancel)) return;
  const result = await api(`/api/v1/meetings/${id}/cancel`, { method: 'POST', body: '{}' });
  if (!result.ok) alert(errorMessage(result.body));
  await loadMeetings();
}

/** The meeting scheduled last, kept so its join links can be shown again in the other language. */
let lastCreated = null;

function showCreated(meeting) {
  lastCreated = meeting;
  const box = document.getElementById('created');
  const heading = document.createElement('p');
  heading.textContent = t().created;
  const list = document.createElement('ul');
  for (const participant of meeting.participants) {
    const link = new URL(participant.joinPath, location.origin).toString();
    const item = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = `${participant.name} (${t().roles[participant.role]})`;
    const open = document.createElement('a');
    open.href = link;
    open.target = '_blank';
    open.rel = 'noopener';
    open.textContent = t().open;
    item.append(name, open);
    // The clipboard API exists only on secure pages (https or localhost); elsewhere the link is shown to copy by hand.
    if (navigator.clipboard) {
      const copy = document.createElement('button');
      copy.type = 'button';
      copy.className = 'link';
      copy.textContent = t().copy;
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(link);
          copy.textContent = t().copied;
        } catch {
          copy.hidden = true;
        }
      });
      item.append(copy);
    } else {
      const field = document.createElement('input');
      field.readOnly = true;
      field.value = link;
      field.setAttribute('aria-label', t().open);
      field.addEventListener('focus', () => field.select());
      item.append(field);
    }
    list.append(item);
  }
  box.replaceChildren(heading, list);
  box.hidden = false;
}

async function onSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById('form-error');
  const submit = document.getElementById('submit');
  error.textContent = '';

  const data = new FormData(form);
  const timeZone = data.get('timeZone');
  const participants = [...document.querySelectorAll('#participants .participant')]
    .map(participantFromRow)
    .filter((participant) => participant.name);
  const body = {
    unitId: String(data.get('unitId') ?? '') || undefined,
    title: String(data.get('title') ?? ''),
    description: String(data.get('description') ?? '') || undefined,
    timeZone,
    participants,
  };
  // The date is typed day first (dd/mm/yyyy), because the browser's date field would follow the browser's language.
  const date = data.get('date') ? parseDate(data.get('date')) : null;
  if (data.get('date') && !date) {
    error.textContent = uiTexts().invalidDate;
    return;
  }
  if (date && data.get('start') && data.get('end')) {
    body.startsAt = toInstant(date, data.get('start'), timeZone);
    body.endsAt = toInstant(date, data.get('end'), timeZone);
  }

  submit.disabled = true;
  submit.textContent = t().creating;
  const result = await api('/api/v1/meetings', { method: 'POST', body: JSON.stringify(body) });
  submit.disabled = false;
  submit.textContent = t().create;

  if (!result.ok) {
    error.textContent = errorMessage(result.body);
    return;
  }
  showCreated(result.body);
  const unit = document.getElementById('unit').value;
  form.reset();
  document.getElementById('unit').value = unit;
  document.getElementById('participants').replaceChildren();
  addParticipantRow('chair');
  addParticipantRow();
  await loadMeetings();
  // Scrolled after the list reloads, because the new meeting row pushes the box down.
  document.getElementById('created').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function init() {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = document.querySelector('select[name="timeZone"]');
  if (browserZone && browserZone !== 'Asia/Ho_Chi_Minh') zones.append(new Option(browserZone, browserZone));

  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
    if (lastCreated) showCreated(lastCreated);
    void loadMeetings();
  });
  document.getElementById('add-participant').addEventListener('click', () => addParticipantRow());
  document.getElementById('create').addEventListener('submit', onSubmit);

  document.getElementById('sign-out').addEventListener('click', () => void signOut());

  addParticipantRow('chair');
  addParticipantRow();
  applyTexts();
  void loadAccount().then(async (user) => {
    if (!user) return;
    await loadUnits(user);
    await loadMeetings();
    setInterval(() => void loadMeetings(), 10_000);
  });
}

init();
