// The attendance page of one meeting (?meeting=ID[&occurrence=ID]): the live
// board for the chair (server-sent events), the marking column for the chair
// and secretary, downloads and a printable layout.
import { formatDateTime, language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';

const params = new URLSearchParams(location.search);
const meetingId = params.get('meeting') ?? '';
const occurrenceId = params.get('occurrence');
const state = { board: null, canManage: false };

function applyTexts() {
  const text = at();
  document.documentElement.lang = language();
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = text[element.dataset.att];
  document.getElementById('language').textContent = text.switchLanguage;
  if (state.board) render(state.board);
}

const query = (extra) => {
  const search = new URLSearchParams(extra);
  if (occurrenceId) search.set('occurrenceId', occurrenceId);
  return search.toString();
};

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  return td;
}

function markForm(row) {
  const text = at();
  const form = document.createElement('form');
  form.className = 'mark-form';
  const status = document.createElement('select');
  for (const value of ['present_in_person', 'present_online', 'late', 'absent', 'delegated']) status.append(new Option(text.statuses[value], value, false, row.status === value));
  const reason = Object.assign(document.createElement('input'), { placeholder: text.reason, value: row.absenceReason ?? '' });
  const delegate = Object.assign(document.createElement('input'), { placeholder: text.delegateName, value: row.delegate?.name ?? '' });
  const delegatePosition = Object.assign(document.createElement('input'), { placeholder: text.delegatePosition, value: row.delegate?.position ?? '' });
  const toggle = () => {
    reason.hidden = status.value !== 'absent';
    delegate.hidden = delegatePosition.hidden = status.value !== 'delegated';
  };
  status.addEventListener('change', toggle);
  toggle();
  const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: text.save });
  form.append(status, reason, delegate, delegatePosition, save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { status: status.value };
    if (occurrenceId) body.occurrenceId = occurrenceId;
    if (status.value === 'absent') body.absenceReason = reason.value;
    if (status.value === 'delegated') Object.assign(body, { delegateName: delegate.value, ...(delegatePosition.value ? { delegatePosition: delegatePosition.value } : {}) });
    const result = await api(`/api/v1/meetings/${meetingId}/attendance/${row.participantId}`, { method: 'PUT', body: JSON.stringify(body) });
    document.getElementById('error').textContent = result.ok ? '' : errorText(result.body);
  });
  return form;
}

function errorText(body) {
  const error = body?.error;
  if (!error) return at().networkError;
  return language() === 'en' ? error.message_en : error.message;
}

function render(board) {
  const text = at();
  const zone = board.meeting.timeZone;
  document.getElementById('meeting-title').textContent = board.meeting.title;
  document.getElementById('occurrence-time').textContent = `${formatDateTime(board.occurrence.startsAt, zone)} – ${formatDateTime(board.occurrence.endsAt, zone)}`;
  const summary = board.summary;
  for (const [id, value] of [['sum-invited', summary.invited], ['sum-present', summary.present], ['sum-online', summary.online], ['sum-room', summary.inRoom], ['sum-missing', summary.missing], ['sum-rate', `${summary.rate}%`]]) {
    document.getElementById(id).textContent = String(value);
  }
  const rows = board.rows.map((row) => {
    const tr = document.createElement('tr');
    tr.className = row.status === 'missing' ? 'missing' : row.status === 'absent' ? '' : 'present';
    const live = row.online === 'open' ? ` (${text.onlineNow})` : row.online === 'grace' ? ` (${text.reconnecting})` : '';
    const note = row.status === 'absent' ? row.absenceReason : row.delegate ? `${row.delegate.name}${row.delegate.position ? ` (${row.delegate.position})` : ''}` : '';
    tr.append(
      cell(row.name),
      cell(row.unit),
      cell(row.position),
      cell(text.statuses[row.status] + live),
      cell(row.firstJoinAt ? formatDateTime(row.firstJoinAt, zone) : ''),
      cell(row.lastLeaveAt ? formatDateTime(row.lastLeaveAt, zone) : ''),
      cell(String(Math.round(row.onlineSeconds / 60))),
      cell(row.checkInMethods.map((method) => text.methods[method]).join(', ')),
      cell(note),
    );
    const manage = document.createElement('td');
    manage.className = 'no-print manage';
    if (state.canManage) manage.append(markForm(row));
    tr.append(manage);
    return tr;
  });
  document.querySelector('#rows tbody').replaceChildren(...rows);
  for (const element of document.querySelectorAll('.manage')) element.hidden = !state.canManage;
  const refused = board.refusedCheckIns ?? [];
  document.getElementById('refused-section').hidden = refused.length === 0;
  document.getElementById('refused').replaceChildren(
    ...refused.map((item) => Object.assign(document.createElement('li'), { textContent: `${formatDateTime(item.attemptedAt, zone)} — ${item.userName}: ${text.refusedCodes[item.code] ?? item.code}` })),
  );
}

function connect() {
  const source = new EventSource(`/api/v1/meetings/${meetingId}/attendance/stream?${query({})}`);
  source.addEventListener('board', (event) => {
    state.board = JSON.parse(event.data);
    document.getElementById('live-state').textContent = at().live;
    render(state.board);
  });
  source.addEventListener('error', () => {
    document.getElementById('live-state').textContent = at().disconnected;
  });
}

async function init() {
  applyTexts();
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
  });
  document.getElementById('print').addEventListener('click', () => window.print());
  document.getElementById('csv').href = `/api/v1/meetings/${meetingId}/attendance/report?${query({ format: 'csv' })}`;
  document.getElementById('xlsx').href = `/api/v1/meetings/${meetingId}/attendance/report?${query({ format: 'xlsx' })}`;

  const user = await signedIn();
  if (!user) return;
  const meeting = await api(`/api/v1/meetings/${meetingId}`);
  const mine = meeting.body?.participants?.find((p) => p.userId === user.id);
  state.canManage = mine?.role === 'chair' || mine?.role === 'secretary';

  const first = await api(`/api/v1/meetings/${meetingId}/attendance?${query({})}`);
  if (!first.ok) {
    document.getElementById('error').textContent = errorText(first.body);
    return;
  }
  state.board = first.body;
  render(state.board);
  // Only those who see everyone get the live stream; a participant sees their own row.
  if (first.body.rows.length > 1 || state.canManage) connect();
}

void init();
