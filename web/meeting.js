// The meeting detail page (/meeting.html?id=…): what, when, where, the agenda
// and participants, the occurrences of a series, status changes (schedule,
// start, end, postpone, cancel, move or cancel one occurrence), reminders, the
// online connections and their cap, and the change history.
import { mountDocuments } from './documents.js';
import { mountMeetingMedia } from './meeting-media.js';
import { errorMessage, language } from './i18n.js';
import {
  api,
  button,
  dateFieldValue,
  element,
  failureDetails,
  failureMessage,
  formatDate,
  formatRange,
  isOrganiser,
  localParts,
  loadAccount,
  normaliseTimeFields,
  parseTime,
  setDateField,
  setUpDateFields,
  setUpTexts,
  statusBadges,
  toInstant,
} from './scheduling-common.js';
import { formatMinutes, uiTexts } from './scheduling-texts.js';

const REMINDER_CHOICES = [10080, 2880, 1440, 240, 120, 60, 30, 15, 5];

const state = {
  user: null,
  meeting: null,
  changes: [],
  unitNames: new Map(),
  roomNames: new Map(),
  /** The dialog's pending action: { kind, occurrence }. */
  dialog: null,
  /** The online connections panel, for meetings with an online part. */
  media: null,
};

const $ = (id) => document.getElementById(id);
const meetingId = new URLSearchParams(window.location.search).get('id');

function myParticipant() {
  return state.meeting?.participants.find((participant) => participant.userId && participant.userId === state.user?.id) ?? null;
}

/** Tells whether to offer changes. The server decides in the end, and its rejection is shown. */
function canChange() {
  const role = myParticipant()?.role;
  return isOrganiser(state.user) || role === 'chair' || role === 'secretary';
}

// ---------------------------------------------------------------- loading and drawing

async function load() {
  const result = await api(`/api/v1/meetings/${encodeURIComponent(meetingId)}`);
  if (!result.ok) {
    $('detail-status').textContent = '';
    showAlert(failureMessage(result));
    return;
  }
  state.meeting = result.body;
  $('detail-status').textContent = '';
  $('detail').hidden = false;
  render();
  // The server decides who may upload; the form is only left out where no upload can succeed.
  mountDocuments($('documents'), meetingId, { agenda: state.meeting.agenda, canUpload: !['cancelled', 'ended'].includes(state.meeting.status) });
  if (state.meeting.mode !== 'in_person') {
    $('media-panel').hidden = false;
    state.media = mountMeetingMedia($('media-panel'), meetingId, { canChange: canChange() && !['cancelled', 'ended'].includes(state.meeting.status) });
  }
  await loadHistory();
}

async function loadHistory() {
  const result = await api(`/api/v1/meetings/${encodeURIComponent(meetingId)}/changes`);
  if (!result.ok) {
    $('history').replaceChildren(element('li', 'error', failureMessage(result)));
    return;
  }
  state.changes = result.body.changes;
  renderHistory();
}

function render() {
  const meeting = state.meeting;
  if (!meeting) return;
  const text = uiTexts();
  document.title = `${meeting.title} – hop`;
  $('meeting-title').textContent = meeting.title;
  const badges = statusBadges(meeting, null);
  if (meeting.status === 'scheduled') badges.unshift(element('span', 'badge status-scheduled', text.meetingStatus.scheduled));
  $('meeting-badges').replaceChildren(...badges);
  renderActions();
  renderFacts();

  $('agenda-list').replaceChildren(
    ...meeting.agenda.map((item) => element('li', null, [item.title, item.presenter, `${item.plannedMinutes} ${text.minutesUnit}`].filter(Boolean).join(' — '))),
  );
  const planned = meeting.agenda.reduce((sum, item) => sum + item.plannedMinutes, 0);
  const length = Math.round((Date.parse(meeting.endsAt) - Date.parse(meeting.startsAt)) / 60000);
  $('agenda-total').textContent = meeting.agenda.length ? text.agendaTotal(planned, length) : text.agendaEmpty;

  $('participant-list').replaceChildren(
    ...meeting.participants.map((participant) => {
      const item = element('li');
      item.append(element('span', 'person-name', participant.name), element('span', 'badge', text.roles[participant.role] ?? participant.role));
      const contact = [participant.email, participant.phone, participant.invitedUnitId ? `${text.inviteWholeUnit}: ${state.unitNames.get(participant.invitedUnitId) ?? ''}` : null].filter(Boolean).join(' · ');
      if (contact) item.append(element('span', 'muted', contact));
      return item;
    }),
  );
  renderOccurrences();
  $('reminders-box').hidden = !canChange() || ['cancelled', 'ended'].includes(meeting.status);
}

function fact(term, value) {
  if (value === null || value === undefined || value === '') return [];
  const description = element('dd');
  if (value instanceof Node) description.append(value);
  else description.textContent = value;
  return [element('dt', null, term), description];
}

function renderFacts() {
  const meeting = state.meeting;
  const text = uiTexts();
  const zone = meeting.timeZone;
  const place = meeting.place ? [meeting.place.name, meeting.place.location].filter(Boolean).join(' — ') : meeting.mode === 'online' ? text.onlineOnly : null;
  $('facts').replaceChildren(
    ...fact(text.when, `${formatRange(meeting.startsAt, meeting.endsAt, zone)} (${zone})`),
    ...fact(text.mode, text.modes[meeting.mode]),
    ...fact(text.where, place),
    ...fact(text.unitLabel, meeting.unitId ? state.unitNames.get(meeting.unitId) ?? '' : null),
    ...fact(text.recurrenceLabel, meeting.recurrenceRule ? describeRule(meeting.recurrenceRule) : null),
    ...fact(text.description, meeting.description),
    ...fact(text.preparation, meeting.preparation),
    ...fact(text.postponeReasonLabel, meeting.status === 'postponed' ? meeting.postponeReason : null),
    ...fact(text.cancelReasonLabel, meeting.cancelReason),
    ...fact(text.sequenceLabel, meeting.status === 'draft' ? null : String(meeting.sequence)),
  );
}

/** Describes the rules the form builds in words. Other rules are shown as written. */
function describeRule(rule) {
  const text = uiTexts();
  const parts = Object.fromEntries(rule.split(';').map((part) => part.split('=')));
  const names = { DAILY: text.recurrenceDaily, WEEKLY: text.recurrenceWeekly, MONTHLY: text.recurrenceMonthly };
  if (!names[parts.FREQ]) return rule;
  const pieces = [names[parts.FREQ]];
  if (parts.INTERVAL && parts.INTERVAL !== '1') pieces.push(`${text.interval.toLowerCase()} ${parts.INTERVAL} ${text.intervalUnit[parts.FREQ]}`);
  if (parts.BYDAY) {
    const codes = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
    pieces.push(parts.BYDAY.split(',').map((code) => text.weekdays[codes.indexOf(code)] ?? code).join(', '));
  }
  if (parts.COUNT) pieces.push(`${parts.COUNT} ${language() === 'en' ? 'occurrences' : 'buổi'}`);
  if (parts.UNTIL) pieces.push(`${text.endUntil.toLowerCase()} ${formatDate(`${parts.UNTIL.slice(0, 4)}-${parts.UNTIL.slice(4, 6)}-${parts.UNTIL.slice(6, 8)}`)}`);
  return `${pieces.join(' · ')} (${rule})`;
}

function renderActions() {
  const meeting = state.meeting;
  const text = uiTexts();
  const actions = [];
  const status = meeting.status;
  const mine = myParticipant();

  if (mine && meeting.mode !== 'in_person' && ['scheduled', 'in_progress'].includes(status)) {
    const join = element('a', 'button primary', text.join);
    join.id = 'join';
    join.href = `/join.html?m=${encodeURIComponent(meeting.id)}`;
    actions.push(join);
  }
  // Every mode has attendance (in person by QR and the secretary's marks), so the board is linked here for all.
  if (!['draft', 'cancelled'].includes(status)) {
    const board = element('a', 'button', text.attendanceBoard);
    board.id = 'attendance-board';
    board.href = `/attendance.html?meeting=${encodeURIComponent(meeting.id)}`;
    actions.push(board);
  }
  if (canChange()) {
    const add = (id, label, onClick, className = 'secondary') => {
      const control = button(label, className, onClick);
      control.id = id;
      actions.push(control);
    };
    if (status === 'draft') add('action-schedule', text.actionSchedule, () => void scheduleDraft({}), '');
    if (status === 'scheduled') add('action-start', text.actionStart, () => void simpleAction('start'), '');
    if (['scheduled', 'in_progress'].includes(status)) add('action-end', text.actionEnd, () => void simpleAction('end'));
    if (['scheduled', 'postponed'].includes(status)) add('action-postpone', text.actionPostpone, () => openDialog('postpone'));
    if (!['cancelled', 'ended'].includes(status)) {
      const edit = element('a', 'button', text.edit);
      edit.id = 'action-edit';
      edit.href = `/meeting-form.html?id=${encodeURIComponent(meeting.id)}`;
      actions.push(edit);
      add('action-cancel', text.actionCancel, () => openDialog('cancel'), 'secondary danger');
    }
  }
  $('actions').replaceChildren(...actions);
}

function renderOccurrences() {
  const meeting = state.meeting;
  const text = uiTexts();
  const series = meeting.recurrenceRule !== null;
  const changeable = series && canChange() && ['scheduled', 'in_progress', 'postponed'].includes(meeting.status);
  $('occurrences').replaceChildren(
    ...meeting.occurrences.map((occurrence) => {
      const item = element('li', occurrence.status);
      item.dataset.occurrenceId = occurrence.id;
      item.append(element('span', 'occurrence-time', formatRange(occurrence.startsAt, occurrence.endsAt, meeting.timeZone)));
      if (occurrence.status !== 'scheduled') item.append(element('span', `badge status-${occurrence.status}`, text.occurrenceStatus[occurrence.status]));
      if (changeable && occurrence.status !== 'cancelled' && Date.parse(occurrence.endsAt) > Date.now()) {
        item.append(
          button(text.occurrenceMove, 'link occurrence-move', () => openDialog('move', occurrence)),
          button(text.occurrenceCancel, 'link danger occurrence-cancel', () => openDialog('cancel-occurrence', occurrence)),
        );
      }
      return item;
    }),
  );
}

function renderHistory() {
  const text = uiTexts();
  const zone = state.meeting?.timeZone ?? 'Asia/Ho_Chi_Minh';
  if (state.changes.length === 0) {
    $('history').replaceChildren(element('li', 'muted', text.noHistory));
    return;
  }
  $('history').replaceChildren(
    ...[...state.changes].reverse().map((change) => {
      const item = element('li');
      item.dataset.kind = change.kind;
      const when = localParts(change.changedAt, zone);
      const occurrence = change.occurrenceId ? state.meeting.occurrences.find((candidate) => candidate.id === change.occurrenceId) : null;
      const heading = [`${formatDate(when.date)} ${when.time}`, text.changeKinds[change.kind] ?? change.kind, actorLabel(change.actor), `#${change.sequence}`];
      item.append(element('strong', null, heading.join(' · ')));
      if (occurrence) item.append(element('span', 'muted', formatRange(occurrence.recurrenceId, new Date(Date.parse(occurrence.recurrenceId) + Date.parse(occurrence.endsAt) - Date.parse(occurrence.startsAt)).toISOString(), zone)));
      const fields = element('ul', 'change-fields');
      const occurrenceChange = change.kind.startsWith('occurrence.');
      // Ids mean nothing to readers, and unchanged values only repeat themselves.
      const keys = [...new Set([...Object.keys(change.before ?? {}), ...Object.keys(change.after ?? {})])].filter(
        (key) => key !== 'occurrenceId' && key !== 'id' && JSON.stringify(change.before?.[key]) !== JSON.stringify(change.after?.[key]),
      );
      for (const key of keys) {
        const label = text.fieldNames[key] ?? key;
        const show = (value) => (occurrenceChange && key === 'status' ? text.occurrenceStatus[value] ?? value : formatValue(key, value, zone));
        const before = key in (change.before ?? {}) ? show(change.before[key]) : null;
        const after = key in (change.after ?? {}) ? show(change.after[key]) : null;
        let line = `${label}: ${before} → ${after}`;
        if (before === null) line = `${label}: ${after}`;
        else if (after === null) line = `${label}: ${before}`;
        fields.append(element('li', null, line));
      }
      if (keys.length) item.append(fields);
      return item;
    }),
  );
}

/** Names who made a change: the person's name, the API key's name with its kind, or the kind alone (hop itself, e-office, deleted accounts). */
function actorLabel(actor) {
  const kind = uiTexts().actorKinds[actor.kind] ?? actor.kind;
  if (!actor.name) return kind;
  return actor.kind === 'user' ? actor.name : `${kind} “${actor.name}”`;
}

function formatValue(key, value, zone) {
  const text = uiTexts();
  if (value === null || value === undefined || value === '') return text.emptyValue;
  if (typeof value === 'boolean') return value ? text.yes : text.no;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const local = localParts(value, zone);
    return `${formatDate(local.date)} ${local.time}`;
  }
  if (key === 'status') return text.meetingStatus[value] ?? value;
  if (key === 'mode') return text.modes[value] ?? value;
  if (key === 'meetingRoomId') return state.roomNames.get(value) ?? value;
  if (Array.isArray(value)) {
    return value.map((entry) => (typeof entry === 'object' && entry ? entry.title ?? entry.name ?? JSON.stringify(entry) : String(entry))).join('; ') || text.emptyValue;
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// ---------------------------------------------------------------- saved notice

/** Shows, once, what the form left after saving: warnings, per-person join links, a failed reminder change. */
function showSavedNotice() {
  const raw = sessionStorage.getItem('hop.saved');
  if (!raw) return;
  let saved;
  try {
    saved = JSON.parse(raw);
  } catch {
    sessionStorage.removeItem('hop.saved');
    return;
  }
  if (saved.id !== meetingId) return;
  sessionStorage.removeItem('hop.saved');

  const text = uiTexts();
  const box = $('saved-box');
  const nodes = [element('strong', null, text.saved)];
  for (const warning of saved.warnings ?? []) {
    nodes.push(element('p', 'note', language() === 'en' ? warning.message_en : warning.message));
  }
  if (saved.reminderFailure) nodes.push(element('p', 'error', saved.reminderFailure));

  if (saved.links?.length) {
    nodes.push(element('p', null, text.joinLinksHeading));
    const list = element('ul');
    for (const link of saved.links) {
      const item = element('li');
      const url = new URL(link.joinPath, window.location.origin).toString();
      const anchor = element('a', null, url);
      anchor.href = url;
      item.append(element('span', null, `${link.name} (${text.roles[link.role] ?? link.role}): `), anchor);
      list.append(item);
    }
    nodes.push(list);
  }
  box.replaceChildren(...nodes);
  box.hidden = false;
}

// ---------------------------------------------------------------- actions

function showAlert(message, ...extra) {
  const alert = $('detail-alert');
  alert.replaceChildren(document.createTextNode(message), ...extra);
  if (message) alert.scrollIntoView({ block: 'nearest' });
}

function describeFailure(result) {
  return result.body?.error ? errorMessage(result.body) : failureMessage(result);
}

async function applied(result) {
  state.meeting = result.body;
  showAlert('');
  const warnings = result.body.warnings ?? [];
  $('saved-box').hidden = warnings.length === 0;
  $('saved-box').replaceChildren(element('strong', null, uiTexts().actionDone), ...warnings.map((warning) => element('p', 'note', language() === 'en' ? warning.message_en : warning.message)));
  render();
  await loadHistory();
}

async function simpleAction(action) {
  const result = await api(`/api/v1/meetings/${meetingId}/${action}`, { method: 'POST', body: {} });
  if (!result.ok) return showAlert(describeFailure(result));
  await applied(result);
}

/** Publishes a draft; people clashes are confirmed and a short notice can be marked urgent. */
async function scheduleDraft(options) {
  const body = { onPeopleConflict: options.onPeopleConflict ?? 'reject', ...(options.urgent ? { urgent: true } : {}) };
  const result = await api(`/api/v1/meetings/${meetingId}/schedule`, { method: 'POST', body });
  if (!result.ok) {
    const retry = (next) => scheduleDraft({ ...options, ...next });
    return showAlert(describeFailure(result), ...(result.body?.error ? failureDetails(result.body.error, state.meeting.timeZone, retry) : []));
  }
  await applied(result);
}

function openDialog(kind, occurrence = null) {
  const text = uiTexts();
  const meeting = state.meeting;
  state.dialog = { kind, occurrence };
  const titles = { postpone: text.actionPostpone, cancel: text.actionCancel, move: text.occurrenceMove, 'cancel-occurrence': text.occurrenceCancel };
  $('dialog-title').textContent = occurrence ? `${titles[kind]}: ${formatRange(occurrence.startsAt, occurrence.endsAt, meeting.timeZone)}` : titles[kind];
  $('dialog-alert').replaceChildren();
  $('dialog-reason').value = '';
  $('dialog-reason-label').hidden = kind === 'move';
  $('dialog-times').hidden = kind === 'cancel' || kind === 'cancel-occurrence';
  $('dialog-times-label').textContent = kind === 'postpone' ? text.newTimeOptional : text.newTime;
  const source = occurrence ?? null;
  const start = source ? localParts(source.startsAt, meeting.timeZone) : null;
  const end = source ? localParts(source.endsAt, meeting.timeZone) : null;
  setDateField($('dialog-start-date'), start?.date ?? '');
  $('dialog-start-time').value = start?.time ?? '';
  setDateField($('dialog-end-date'), end?.date ?? '');
  $('dialog-end-time').value = end?.time ?? '';
  $('action-dialog').showModal();
}

/** Reads the new times of the dialog: null when all four fields are empty, 'incomplete' when only some are valid. */
function dialogTimes() {
  const values = ['dialog-start-date', 'dialog-start-time', 'dialog-end-date', 'dialog-end-time'].map((id) => $(id).value.trim());
  if (values.every((value) => !value)) return null;
  values[0] = dateFieldValue($('dialog-start-date'));
  values[1] = parseTime(values[1]);
  values[2] = dateFieldValue($('dialog-end-date'));
  values[3] = parseTime(values[3]);
  if (values.some((value) => !value)) return 'incomplete';
  const zone = state.meeting.timeZone;
  return { startsAt: toInstant(values[0], values[1], zone), endsAt: toInstant(values[2], values[3], zone) };
}

async function confirmDialog(options = {}) {
  const text = uiTexts();
  const { kind, occurrence } = state.dialog;
  const reason = $('dialog-reason').value.trim();
  const times = dialogTimes();
  if (times === 'incomplete' || (kind === 'move' && times === null)) {
    const badDate = ['dialog-start-date', 'dialog-end-date'].some((id) => dateFieldValue($(id)) === null);
    $('dialog-alert').replaceChildren(document.createTextNode(badDate ? text.invalidDate : `${text.needTimes} ${text.invalidTime}`));
    return;
  }

  const conflictOptions = { onPeopleConflict: options.onPeopleConflict ?? 'reject', ...(options.urgent ? { urgent: true } : {}) };
  let path;
  let body;
  if (kind === 'postpone') {
    path = `/api/v1/meetings/${meetingId}/postpone`;
    body = { ...(reason ? { reason } : {}), ...(times ? { ...times, ...conflictOptions } : {}) };
  } else if (kind === 'cancel') {
    path = `/api/v1/meetings/${meetingId}/cancel`;
    body = reason ? { reason } : {};
  } else if (kind === 'move') {
    path = `/api/v1/meetings/${meetingId}/occurrences/${occurrence.id}`;
    body = { ...times, ...conflictOptions };
  } else {
    path = `/api/v1/meetings/${meetingId}/occurrences/${occurrence.id}/cancel`;
    body = reason ? { reason } : {};
  }

  const confirm = $('dialog-confirm');
  confirm.disabled = true;
  const result = await api(path, { method: kind === 'move' ? 'PATCH' : 'POST', body });
  confirm.disabled = false;
  if (!result.ok) {
    const retry = (next) => confirmDialog({ ...options, ...next });
    $('dialog-alert').replaceChildren(
      document.createTextNode(describeFailure(result)),
      ...(result.body?.error ? failureDetails(result.body.error, state.meeting.timeZone, retry) : []),
    );
    return;
  }
  $('action-dialog').close();
  await applied(result);
}

// ---------------------------------------------------------------- reminders

function renderReminderPicks() {
  const text = uiTexts();
  const current = new Set([...document.querySelectorAll('#reminder-picks input:checked')].map((box) => Number(box.value)));
  if ($('reminder-picks').children.length === 0) [1440, 30].forEach((minutes) => current.add(minutes));
  $('reminder-picks').replaceChildren(
    ...REMINDER_CHOICES.map((minutes) => {
      const label = element('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = String(minutes);
      box.checked = current.has(minutes);
      box.disabled = document.querySelector('input[name="reminder-mode"]:checked')?.value !== 'custom';
      label.append(box, element('span', null, text.reminderOffsets[minutes]));
      return label;
    }),
  );
}

async function saveReminders() {
  const text = uiTexts();
  const status = $('reminder-status');
  const custom = document.querySelector('input[name="reminder-mode"]:checked')?.value === 'custom';
  const offsets = custom ? [...document.querySelectorAll('#reminder-picks input:checked')].map((box) => Number(box.value)) : null;
  if (offsets && (offsets.length < 1 || offsets.length > 5)) {
    status.className = 'error';
    status.textContent = text.reminderPickOne;
    return;
  }
  const result = await api(`/api/v1/meetings/${meetingId}/reminders`, { method: 'PUT', body: { offsetsMinutes: offsets } });
  if (!result.ok) {
    status.className = 'error';
    status.textContent = failureMessage(result);
    return;
  }
  status.className = 'muted';
  const list = result.body.effectiveOffsetsMinutes.map((minutes) => text.reminderOffsets[minutes] ?? `${formatMinutes(minutes)}`).join(', ');
  status.textContent = text.reminderSaved(list);
}

// ---------------------------------------------------------------- start

async function loadNames() {
  const [units, rooms] = await Promise.all([api('/api/v1/units?includeDisabled=true'), isOrganiser(state.user) ? api('/api/v1/meeting-rooms?includeDisabled=true') : null]);
  if (units.ok) for (const unit of units.body.units) state.unitNames.set(unit.id, unit.name);
  if (rooms?.ok) for (const room of rooms.body.meetingRooms) state.roomNames.set(room.id, room.name);
}

async function init() {
  setUpTexts('detailTitle', () => {
    render();
    renderHistory();
    renderReminderPicks();
    state.media?.render();
  });
  renderReminderPicks();
  for (const radio of document.querySelectorAll('input[name="reminder-mode"]')) radio.addEventListener('change', renderReminderPicks);
  $('reminder-save').addEventListener('click', () => void saveReminders());
  $('dialog-confirm').addEventListener('click', () => void confirmDialog());
  $('dialog-close').addEventListener('click', () => $('action-dialog').close());
  normaliseTimeFields();
  setUpDateFields();

  if (!meetingId) {
    showAlert(uiTexts().loadFailed);
    return;
  }
  $('detail-status').textContent = uiTexts().loading;
  state.user = await loadAccount();
  if (!state.user) return;
  await loadNames();
  showSavedNotice();
  await load();
}

void init();
