// The attendance page of one meeting (?meeting=ID[&occurrence=ID]): the live
// board for the chair (server-sent events) with raised hands and refused
// joins, the marking column and the lower-hand buttons for the chair and
// secretary, downloads and a printable layout. A participant who may not see
// everyone gets their own row only, without the summary, hands or downloads.
//
// Live updates patch the table in place: each row keeps its elements, and a
// marking form the secretary has changed but not saved keeps its values (and
// the focus) until it is saved.
import { formatDateTime, formatTime, language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';

const params = new URLSearchParams(location.search);
const meetingId = params.get('meeting') ?? '';
const occurrenceId = params.get('occurrence');
const STATUSES = ['present_in_person', 'present_online', 'late', 'absent', 'delegated'];

const state = {
  board: null,
  meeting: null,
  canManage: false,
  /** `live` or `disconnected` while the stream is open, shown in the interface language. */
  live: null,
  /** participantId → the row's elements and its marking form. */
  rows: new Map(),
  endTimer: undefined,
  /** Marking forms created so far, to give their message elements unique ids. */
  forms: 0,
};

const $ = (id) => document.getElementById(id);

function applyTexts() {
  const text = at();
  document.documentElement.lang = language();
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = text[element.dataset.att];
  $('language').textContent = text.switchLanguage;
  $('live-state').textContent = state.live ? text[state.live] : '';
  if (state.meeting) renderPlace();
  if (state.board) render(state.board);
}

const query = (extra) => {
  const search = new URLSearchParams(extra);
  if (occurrenceId) search.set('occurrenceId', occurrenceId);
  return search.toString();
};

function errorText(body) {
  const error = body?.error;
  if (!error) return at().networkError;
  return language() === 'en' ? error.message_en : error.message;
}

/** True once the occurrence is over: then a person never marked is absent without reason, before that not present yet. */
function hasEnded(board) {
  return board.meeting.status === 'ended' || Date.parse(board.occurrence.endsAt) <= Date.now();
}

function statusText(status, ended) {
  const text = at();
  if (status === 'missing' && !ended) return text.notYetPresent;
  return text.statuses[status];
}

function formatRate(rate) {
  const formatted = new Intl.NumberFormat(language() === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 1 }).format(rate);
  return `${formatted}%`;
}

/** Returns the local calendar date of an instant in `timeZone`, to tell whether two instants fall on one day. */
function localDate(iso, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** "Thứ Bảy, 05/12/2026 09:15 – 11:30", with the end's day only when it differs from the start's. */
function formatRange(startsAt, endsAt, timeZone) {
  const end = localDate(startsAt, timeZone) === localDate(endsAt, timeZone) ? formatTime(endsAt, timeZone) : formatDateTime(endsAt, timeZone);
  return `${formatDateTime(startsAt, timeZone)} – ${end}`;
}

function methodText(method, row) {
  const text = at();
  if (method === 'manual' && row.markedByRole === 'chair') return text.methods.manualByChair;
  return text.methods[method] ?? method;
}

function renderPlace() {
  const text = at();
  const meeting = state.meeting;
  const room = meeting.place ? [meeting.place.name, meeting.place.location].filter(Boolean).join(', ') : '';
  let place = room;
  if (meeting.mode === 'online') place = text.onlineMeeting;
  else if (meeting.mode === 'hybrid') place = room ? `${room} (${text.alsoOnline})` : text.onlineMeeting;
  $('meeting-place').textContent = place;
}

// ---------------------------------------------------------------- rows and marking forms

function createRow() {
  const tr = document.createElement('tr');
  const cells = {};
  for (const name of ['name', 'unit', 'position', 'status', 'firstJoin', 'lastLeave', 'minutes', 'methods', 'note']) {
    cells[name] = document.createElement('td');
    tr.append(cells[name]);
  }
  const manage = document.createElement('td');
  manage.className = 'no-print manage';
  tr.append(manage);
  return { tr, cells, manage, form: null };
}

function updateRow(entry, row, zone, ended) {
  const text = at();
  entry.row = row;
  entry.tr.className = row.status === 'missing' ? 'missing' : row.status === 'absent' ? '' : 'present';
  const live = row.online === 'open' ? ` (${text.onlineNow})` : row.online === 'grace' ? ` (${text.reconnecting})` : '';
  const note = row.status === 'absent' ? row.absenceReason : row.delegate ? `${row.delegate.name}${row.delegate.position ? ` (${row.delegate.position})` : ''}` : '';
  const values = {
    name: row.name,
    unit: row.unit,
    position: row.position,
    status: statusText(row.status, ended) + live,
    firstJoin: row.firstJoinAt ? formatDateTime(row.firstJoinAt, zone) : '',
    lastLeave: row.lastLeaveAt ? formatDateTime(row.lastLeaveAt, zone) : '',
    minutes: String(Math.round(row.onlineSeconds / 60)),
    methods: row.checkInMethods.map((method) => methodText(method, row)).join(', '),
    note,
  };
  for (const [name, value] of Object.entries(values)) {
    if (entry.cells[name].textContent !== (value ?? '')) entry.cells[name].textContent = value ?? '';
  }

  entry.manage.hidden = !state.canManage;
  if (!state.canManage) return;
  if (!entry.form) {
    entry.form = createMarkForm(entry);
    entry.manage.append(entry.form.element);
  }
  labelMarkForm(entry.form, row);
  // A form with unsaved changes keeps them; any other shows the mark as stored now.
  if (!entry.form.dirty) fillMarkForm(entry.form, row);
}

function field(tag, className) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  return element;
}

/** Builds the marking form of one row; its values are filled by fillMarkForm and kept while it is dirty. */
function createMarkForm(entry) {
  const element = field('form', 'mark-form');
  element.noValidate = true;
  const status = field('select');
  status.append(new Option('', ''));
  for (const value of STATUSES) status.append(new Option('', value));
  const reason = field('input');
  const reasonError = field('span', 'field-error');
  const delegate = field('input');
  const delegateError = field('span', 'field-error');
  const delegatePosition = field('input');
  const positionError = field('span', 'field-error');
  const save = field('button');
  save.type = 'submit';
  const note = field('span', 'mark-note');
  note.setAttribute('role', 'status');
  const formError = field('span', 'field-error');
  formError.setAttribute('role', 'alert');
  element.append(status, reason, reasonError, delegate, delegateError, delegatePosition, positionError, save, note, formError);

  const form = { element, status, reason, reasonError, delegate, delegateError, delegatePosition, positionError, save, note, formError, dirty: false, savedNotice: false };
  const number = ++state.forms;
  for (const [name, input, error] of [['status', status, formError], ['reason', reason, reasonError], ['delegate', delegate, delegateError], ['position', delegatePosition, positionError]]) {
    error.id = `mark-${number}-${name}-error`;
    error.hidden = true;
    input.setAttribute('aria-describedby', error.id);
  }

  const changed = () => {
    form.dirty = true;
    form.savedNotice = false;
    toggleMarkFields(form);
    showNote(form);
  };
  element.addEventListener('input', changed);
  element.addEventListener('change', changed);
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    void saveMark(entry, form);
  });
  return form;
}

function labelMarkForm(form, row) {
  const text = at();
  form.status.options[0].textContent = text.choose;
  STATUSES.forEach((value, index) => (form.status.options[index + 1].textContent = text.statuses[value]));
  form.status.setAttribute('aria-label', text.markStatus(row.name));
  for (const [input, label] of [[form.reason, text.reason], [form.delegate, text.delegateName], [form.delegatePosition, text.delegatePosition]]) {
    input.placeholder = label;
    input.setAttribute('aria-label', label);
  }
  form.save.textContent = text.save;
  showNote(form);
  for (const error of [form.reasonError, form.delegateError, form.positionError, form.formError]) {
    if (error.dataset.message) error.textContent = messageText(error.dataset.message);
  }
}

function fillMarkForm(form, row) {
  form.status.value = row.markedAt ? row.status : '';
  form.reason.value = row.absenceReason ?? '';
  form.delegate.value = row.delegate?.name ?? '';
  form.delegatePosition.value = row.delegate?.position ?? '';
  toggleMarkFields(form);
}

/** Shows the reason for an absence and the delegate's fields for a delegation, each marked required where it is. */
function toggleMarkFields(form) {
  const absent = form.status.value === 'absent';
  const delegated = form.status.value === 'delegated';
  form.reason.hidden = !absent;
  form.reason.required = absent;
  form.delegate.hidden = form.delegatePosition.hidden = !delegated;
  form.delegate.required = delegated;
  if (!absent) setFieldError(form.reason, form.reasonError, null);
  if (!delegated) {
    setFieldError(form.delegate, form.delegateError, null);
    setFieldError(form.delegatePosition, form.positionError, null);
  }
}

function showNote(form) {
  const text = at();
  let note = '';
  if (form.dirty) note = text.unsaved;
  else if (form.savedNotice) note = text.saved;
  form.note.textContent = note;
  form.note.hidden = note === '';
}

/** Messages are kept as keys (or server texts) so a language switch translates the ones on screen. */
function messageText(key) {
  const text = at();
  if (key.startsWith('invalid:')) return text.fieldInvalid[key.slice('invalid:'.length)];
  if (key.startsWith('server:')) return key.slice('server:'.length);
  return text[key];
}

function setFieldError(input, error, key) {
  if (key) {
    error.dataset.message = key;
    error.textContent = messageText(key);
  } else {
    delete error.dataset.message;
    error.textContent = '';
  }
  error.hidden = !key;
  if (input) {
    if (key) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

function clearMarkErrors(form) {
  setFieldError(form.status, form.formError, null);
  setFieldError(form.reason, form.reasonError, null);
  setFieldError(form.delegate, form.delegateError, null);
  setFieldError(form.delegatePosition, form.positionError, null);
}

/** Checks the form before sending it: a status is chosen, an absence has a reason, a delegation a name. */
function checkMarkForm(form) {
  if (form.status.value === '') {
    setFieldError(form.status, form.formError, 'statusRequired');
    return form.status;
  }
  if (form.status.value === 'absent' && form.reason.value.trim() === '') {
    setFieldError(form.reason, form.reasonError, 'reasonRequired');
    return form.reason;
  }
  if (form.status.value === 'delegated' && form.delegate.value.trim() === '') {
    setFieldError(form.delegate, form.delegateError, 'delegateRequired');
    return form.delegate;
  }
  return null;
}

/** Shows the server's validation details next to their fields; other errors go below the form. */
function showServerErrors(form, body) {
  const fields = { absenceReason: [form.reason, form.reasonError], delegateName: [form.delegate, form.delegateError], delegatePosition: [form.delegatePosition, form.positionError] };
  const details = body?.error?.code === 'VALIDATION_FAILED' && Array.isArray(body.error.details) ? body.error.details : [];
  let first = null;
  let shown = 0;
  for (const detail of details) {
    const target = fields[detail.path];
    if (!target) continue;
    const blank = target[0].value.trim() === '';
    let key = `invalid:${detail.path}`;
    if (blank && detail.path === 'absenceReason') key = 'reasonRequired';
    if (blank && detail.path === 'delegateName') key = 'delegateRequired';
    setFieldError(target[0], target[1], key);
    first ??= target[0];
    shown += 1;
  }
  if (shown === 0 || shown < details.length) setFieldError(null, form.formError, `server:${errorText(body)}`);
  first?.focus();
}

async function saveMark(entry, form) {
  clearMarkErrors(form);
  const invalid = checkMarkForm(form);
  if (invalid) {
    invalid.focus();
    return;
  }

  const body = { status: form.status.value };
  if (occurrenceId) body.occurrenceId = occurrenceId;
  if (form.status.value === 'absent') body.absenceReason = form.reason.value;
  if (form.status.value === 'delegated') {
    body.delegateName = form.delegate.value;
    if (form.delegatePosition.value.trim()) body.delegatePosition = form.delegatePosition.value;
  }
  form.save.disabled = true;
  const result = await api(`/api/v1/meetings/${meetingId}/attendance/${entry.row.participantId}`, { method: 'PUT', body: JSON.stringify(body) });
  form.save.disabled = false;
  if (!result.ok) {
    showServerErrors(form, result.body);
    return;
  }

  form.dirty = false;
  form.savedNotice = true;
  // The stream brings the new board shortly; the saved row is shown at once so the form does not fall back meanwhile.
  const rows = state.board.rows.map((row) => (row.participantId === result.body.participantId ? result.body : row));
  state.board = { ...state.board, rows };
  render(state.board);
}

function renderRows(board, ended) {
  const zone = board.meeting.timeZone;
  const tbody = document.querySelector('#rows tbody');
  const seen = new Set();
  let previous = null;
  for (const row of board.rows) {
    let entry = state.rows.get(row.participantId);
    if (!entry) {
      entry = createRow();
      state.rows.set(row.participantId, entry);
    }
    updateRow(entry, row, zone, ended);
    // Rows are moved only when the order changed, because moving a row takes the focus from its form.
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (entry.tr !== expected) tbody.insertBefore(entry.tr, expected);
    previous = entry.tr;
    seen.add(row.participantId);
  }
  for (const [participantId, entry] of state.rows) {
    if (seen.has(participantId)) continue;
    entry.tr.remove();
    state.rows.delete(participantId);
  }
}

// ---------------------------------------------------------------- board

function render(board) {
  const text = at();
  const zone = board.meeting.timeZone;
  const everyone = board.scope !== 'own';
  const ended = hasEnded(board);
  $('board').hidden = false;
  $('meeting-title').textContent = board.meeting.title;
  $('occurrence-time').textContent = formatRange(board.occurrence.startsAt, board.occurrence.endsAt, zone);

  // A participant's own view has one row: counts of it would read as the meeting's.
  $('summary').hidden = !everyone;
  $('own-view').hidden = everyone;
  $('downloads').hidden = !everyone;
  const summary = board.summary;
  for (const [id, value] of [['sum-invited', summary.invited], ['sum-present', summary.present], ['sum-online', summary.online], ['sum-room', summary.inRoom], ['sum-missing', summary.missing]]) {
    $(id).textContent = String(value);
  }
  $('sum-rate').textContent = formatRate(summary.rate);
  $('sum-missing-label').textContent = ended ? text.statuses.missing : text.missing;

  renderRows(board, ended);
  for (const element of document.querySelectorAll('th.manage')) element.hidden = !state.canManage;
  $('hands-section').hidden = !everyone;
  if (everyone) renderHands(board.raisedHands ?? [], zone);
  renderRefusedJoins(everyone ? (board.refusedJoins ?? []) : [], zone);
  const refused = board.refusedCheckIns ?? [];
  $('refused-section').hidden = refused.length === 0;
  $('refused').replaceChildren(
    ...refused.map((item) => Object.assign(document.createElement('li'), { textContent: `${formatDateTime(item.attemptedAt, zone)} — ${item.userName}: ${text.refusedCodes[item.code] ?? item.code}` })),
  );
  scheduleEndRender(board, ended);
}

/** Renders the board again when the occurrence ends, so "not present yet" becomes "absent" without waiting for an update. */
function scheduleEndRender(board, ended) {
  window.clearTimeout(state.endTimer);
  if (ended) return;
  const delay = Date.parse(board.occurrence.endsAt) - Date.now() + 1000;
  // setTimeout takes at most about 24.8 days; a later end is caught by the next update.
  if (delay < 2 ** 31 - 1) state.endTimer = window.setTimeout(() => state.board && render(state.board), delay);
}

/** Renders the raised hands in the order they went up, with a button to lower each for the chair and the secretary. */
function renderHands(hands, zone) {
  const text = at();
  $('hands-empty').hidden = hands.length > 0;
  $('hands').replaceChildren(
    ...hands.map((hand) => {
      const item = document.createElement('li');
      item.dataset.participantId = hand.participantId;
      const role = hand.role === 'participant' ? '' : ` (${text.roles[hand.role] ?? hand.role})`;
      item.append(`${hand.name}${role} — ${text.raisedAt} ${formatTime(hand.raisedAt, zone)} `);
      if (state.canManage) {
        const lower = Object.assign(document.createElement('button'), { type: 'button', className: 'lower-hand', textContent: text.lowerHand });
        lower.addEventListener('click', () => void lowerHand(hand.participantId, lower));
        item.append(lower);
      }
      return item;
    }),
  );
}

async function lowerHand(participantId, control) {
  control.disabled = true;
  const body = occurrenceId ? { occurrenceId } : {};
  const result = await api(`/api/v1/meetings/${meetingId}/hands/${participantId}/lower`, { method: 'POST', body: JSON.stringify(body) });
  control.disabled = false;
  $('error').textContent = result.ok ? '' : errorText(result.body);
}

/**
 * Renders the joins refused at a connection cap: who, when (latest, and the
 * first of several attempts) and why, and when the person got in afterwards.
 * The advice fits the reasons of those still out: a meeting's cap can be
 * raised on the meeting page, a full media server needs the administrator.
 */
function renderRefusedJoins(refusals, zone) {
  const text = at();
  const waiting = refusals.filter((refusal) => !refusal.joinedAt);
  $('refused-joins-section').hidden = refusals.length === 0;
  $('refused-joins-meeting-advice').hidden = !waiting.some((refusal) => refusal.reason === 'meeting-full');
  $('refused-joins-server-advice').hidden = !waiting.some((refusal) => refusal.reason === 'server-full');
  $('refused-joins').replaceChildren(
    ...refusals.map((refusal) => {
      const reason = text.refusedReasons[refusal.reason]?.(refusal.limit) ?? refusal.reason;
      const attempts = text.refusedAttempts(refusal.attempts, formatTime(refusal.firstRefusedAt, zone));
      const joined = refusal.joinedAt ? ` — ${text.refusedJoinedAt(formatTime(refusal.joinedAt, zone))}` : '';
      const item = Object.assign(document.createElement('li'), { textContent: `${formatTime(refusal.lastRefusedAt, zone)} — ${refusal.participantName}: ${reason} (${attempts})${joined}` });
      if (refusal.joinedAt) item.className = 'resolved';
      return item;
    }),
  );
}

function setLive(live) {
  state.live = live;
  $('live-state').textContent = live ? at()[live] : '';
}

function connect() {
  const source = new EventSource(`/api/v1/meetings/${meetingId}/attendance/stream?${query({})}`);
  source.addEventListener('board', (event) => {
    state.board = JSON.parse(event.data);
    setLive('live');
    render(state.board);
  });
  source.addEventListener('error', () => setLive('disconnected'));
}

async function init() {
  applyTexts();
  $('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
  });
  if (!meetingId) {
    $('no-meeting').hidden = false;
    return;
  }
  $('print').addEventListener('click', () => window.print());
  $('csv').href = `/api/v1/meetings/${meetingId}/attendance/report?${query({ format: 'csv' })}`;
  $('xlsx').href = `/api/v1/meetings/${meetingId}/attendance/report?${query({ format: 'xlsx' })}`;

  const user = await signedIn();
  if (!user) return;
  const meeting = await api(`/api/v1/meetings/${meetingId}`);
  if (meeting.ok) {
    state.meeting = meeting.body;
    renderPlace();
  }
  const mine = meeting.body?.participants?.find((p) => p.userId === user.id);
  state.canManage = mine?.role === 'chair' || mine?.role === 'secretary';

  const first = await api(`/api/v1/meetings/${meetingId}/attendance?${query({})}`);
  if (!first.ok) {
    $('error').textContent = errorText(first.body);
    return;
  }
  state.board = first.body;
  render(state.board);
  // Only those who see everyone get the live stream; a participant sees their own row.
  if (first.body.scope !== 'own') connect();
}

void init();
