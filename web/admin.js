// The admin page, for administrators: units, people, meeting rooms with
// their kiosk links and keys, and API keys.
import { mountRoomsAndKeys } from './admin-rooms.js';
import { errorMessage, language, setLanguage, t } from './i18n.js';

const state = { units: [], rooms: null };

function applyTexts() {
  const text = t();
  document.documentElement.lang = language();
  document.title = `${text.adminTitle} – hop`;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = text[element.dataset.text];
  document.getElementById('language').textContent = text.switchLanguage;
}

async function api(path, options = {}) {
  const headers = { 'content-type': 'application/json', ...options.headers };
  const csrf = sessionStorage.getItem('hop.csrf');
  if ((options.method ?? 'GET') !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    return { ok: false, body: null };
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) window.location.assign('/login.html?next=/admin.html');
  return { ok: response.ok, status: response.status, body };
}

function unitName(id) {
  return state.units.find((unit) => unit.id === id)?.name ?? '';
}

async function loadUnits() {
  const result = await api('/api/v1/units?includeDisabled=true');
  if (!result.ok) return;
  state.units = result.body.units;
  const active = state.units.filter((unit) => !unit.disabledAt);
  document.getElementById('parent').replaceChildren(new Option(t().noUnit, ''), ...active.map((unit) => new Option(unit.name, unit.id)));
  document.getElementById('member-unit').replaceChildren(new Option(t().noUnit, ''), ...active.map((unit) => new Option(unit.name, unit.id)));
  state.rooms?.unitsChanged();
  document.getElementById('units').replaceChildren(
    ...state.units.map((unit) => {
      const item = document.createElement('li');
      item.className = 'meeting';
      const name = document.createElement('strong');
      name.textContent = unit.name;
      const meta = document.createElement('span');
      meta.className = 'muted';
      meta.textContent = [unit.code, unit.parentId ? unitName(unit.parentId) : null, unit.disabledAt ? t().disabled : null].filter(Boolean).join(' · ');
      item.append(name, meta);
      if (!unit.disabledAt) item.append(disableButton(`/api/v1/units/${unit.id}/disable`, loadUnits));
      return item;
    }),
  );
}

function disableButton(path, reload) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link danger';
  button.textContent = t().disable;
  button.addEventListener('click', async () => {
    if (!confirm(t().confirmDisable)) return;
    const result = await api(path, { method: 'POST', body: '{}' });
    if (!result.ok) alert(errorMessage(result.body));
    await reload();
  });
  return button;
}

/** Opens the dialog that gives a person a user name and password for local sign-in. */
function accountButton(user) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = t().setAccount;
  button.addEventListener('click', () => {
    const dialog = document.getElementById('account-dialog');
    const form = document.getElementById('account-form');
    form.reset();
    form.dataset.userId = user.id;
    document.getElementById('account-person').textContent = user.displayName;
    document.getElementById('account-error').textContent = '';
    dialog.showModal();
  });
  return button;
}

async function saveAccount(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const error = document.getElementById('account-error');
  error.textContent = '';
  const result = await api(`/api/v1/users/${form.dataset.userId}/account`, {
    method: 'PUT',
    body: JSON.stringify({ username: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') }),
  });
  if (!result.ok) {
    // The password policy lists each broken rule in the details.
    const rules = Array.isArray(result.body?.error?.details) ? result.body.error.details.map((rule) => (language() === 'en' ? rule.message_en : rule.message)).filter(Boolean) : [];
    error.textContent = [errorMessage(result.body), ...rules].join(' ');
    return;
  }
  document.getElementById('account-dialog').close();
  alert(t().accountSaved(result.body.username));
}

async function loadUsers() {
  const q = new FormData(document.getElementById('search')).get('q') ?? '';
  const result = await api(`/api/v1/users${q ? `?q=${encodeURIComponent(String(q))}` : ''}`);
  if (!result.ok) return;
  document.getElementById('users').replaceChildren(
    ...result.body.users.map((user) => {
      const item = document.createElement('li');
      item.className = 'meeting';
      const name = document.createElement('strong');
      name.textContent = user.displayName;
      const meta = document.createElement('span');
      meta.className = 'muted';
      const units = user.memberships.map((membership) => unitName(membership.unitId)).filter(Boolean).join(', ');
      meta.textContent = [user.email, units, t().roleNames[user.systemRole], user.disabledAt ? t().disabled : null].filter(Boolean).join(' · ');
      item.append(name, meta);
      if (!user.disabledAt) item.append(accountButton(user), disableButton(`/api/v1/users/${user.id}/disable`, loadUsers));
      return item;
    }),
  );
}

async function submit(form, path, body, errorId, reload) {
  const error = document.getElementById(errorId);
  error.textContent = '';
  const result = await api(path, { method: 'POST', body: JSON.stringify(body) });
  if (!result.ok) {
    error.textContent = errorMessage(result.body);
    return;
  }
  form.reset();
  await reload();
}

async function init() {
  applyTexts();
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
    state.rooms?.applyTexts();
    void loadUnits().then(loadUsers);
  });

  const me = await api('/api/v1/auth/me');
  if (!me.ok || me.body?.kind !== 'user') return;
  if (me.body.csrfToken) sessionStorage.setItem('hop.csrf', me.body.csrfToken);
  document.getElementById('signed-in-as').textContent = me.body.user.displayName;
  if (me.body.user.systemRole !== 'admin') {
    document.getElementById('admin-error').textContent = t().adminOnly;
    for (const section of document.querySelectorAll('main section')) section.hidden = true;
    return;
  }

  document.getElementById('unit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const body = { name: String(data.get('name') ?? ''), kind: data.get('kind'), code: String(data.get('code') ?? '') || null, parentId: String(data.get('parentId') ?? '') || null };
    void submit(event.target, '/api/v1/units', body, 'unit-error', async () => {
      await loadUnits();
      await loadUsers();
    });
  });
  document.getElementById('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const unitId = String(data.get('unitId') ?? '');
    const body = {
      displayName: String(data.get('displayName') ?? ''),
      email: String(data.get('email') ?? '') || null,
      systemRole: data.get('systemRole'),
      memberships: unitId ? [{ unitId, position: String(data.get('position') ?? '') || null }] : [],
    };
    void submit(event.target, '/api/v1/users', body, 'user-error', loadUsers);
  });
  document.getElementById('search').addEventListener('input', () => void loadUsers());
  document.getElementById('account-form').addEventListener('submit', (event) => void saveAccount(event));
  document.getElementById('account-cancel').addEventListener('click', () => document.getElementById('account-dialog').close());

  state.rooms = mountRoomsAndKeys({ api, units: () => state.units });
  await loadUnits();
  await loadUsers();
  await state.rooms.load();
}

void init();
