// The meeting rooms and API keys sections of the admin page. Each room shows
// its kiosk link (/kiosk.html?room=ID), and "Cấp khóa kiosk" issues an API
// key whose only scope is `kiosk:<room id>`, so the screen in the room shows
// the check-in QR code without anybody signed in.
import { errorMessage, formatDateTime, language } from './i18n.js';

const ZONE = 'Asia/Ho_Chi_Minh';

/** API key scopes an admin can grant, as the permission policy names them (docs/permissions.md). */
const SCOPES = [
  'meetings:read',
  'meetings:write',
  'attendance:read',
  'attendance:write',
  'documents:read',
  'documents:write',
  'directory:read',
  'directory:write',
  'audit:read',
  'meeting-rooms:write',
  'notifications:write',
];

const texts = {
  vi: {
    rooms: 'Phòng họp',
    roomsHelp: 'Màn hình đặt tại phòng họp mở đường dẫn kiosk của phòng để hiện mã QR điểm danh của cuộc họp đang diễn ra.',
    noRooms: 'Chưa có phòng họp nào.',
    newRoom: 'Thêm phòng họp',
    roomName: 'Tên phòng họp',
    roomUnit: 'Đơn vị quản lý',
    sharedRoom: '(Dùng chung cho các đơn vị)',
    location: 'Địa điểm',
    capacity: 'Số chỗ ngồi',
    seats: (count) => `${count} chỗ`,
    kioskLink: 'Đường dẫn kiosk',
    openKiosk: 'Mở màn hình điểm danh',
    issueKioskKey: 'Cấp khóa kiosk',
    kioskKeyIssued:
      'Đường dẫn kiosk kèm khóa, chỉ hiện một lần. Mở đường dẫn này trên máy tính đặt tại phòng họp: trình duyệt lưu khóa và hiện mã QR điểm danh mà không cần đăng nhập. Khóa chỉ đọc được mã điểm danh và số người có mặt của phòng này. Thu hồi khóa ở mục Khóa API.',
    kioskKeyName: (room) => `Kiosk – ${room}`,
    disableRoom: 'Vô hiệu hóa',
    confirmDisableRoom: 'Vô hiệu hóa phòng họp này? Các cuộc họp đã đặt vẫn giữ phòng, nhưng không đặt thêm được.',
    apiKeys: 'Khóa API',
    apiKeysHelp: 'Khóa cho hệ thống khác và cho màn hình kiosk. Mỗi khóa chỉ làm được những việc trong phạm vi được cấp.',
    noApiKeys: 'Chưa có khóa API nào.',
    newApiKey: 'Cấp khóa API',
    keyName: 'Tên khóa',
    scopes: 'Phạm vi',
    scopeNames: {
      'meetings:read': 'Xem cuộc họp và phòng họp',
      'meetings:write': 'Lập lịch, sửa, hủy cuộc họp',
      'attendance:read': 'Xem điểm danh và báo cáo điểm danh',
      'attendance:write': 'Điểm danh',
      'documents:read': 'Xem và tải tài liệu họp',
      'documents:write': 'Tải lên tài liệu họp',
      'directory:read': 'Xem danh bạ',
      'directory:write': 'Quản lý danh bạ',
      'audit:read': 'Xem nhật ký thay đổi',
      'meeting-rooms:write': 'Quản lý phòng họp',
      'notifications:write': 'Quản lý webhook và thông báo',
    },
    kioskScope: (room) => `Kiosk của phòng họp ${room}`,
    createdAt: 'cấp lúc',
    lastUsed: 'dùng lần cuối',
    neverUsed: 'chưa dùng',
    revoked: 'Đã thu hồi',
    revoke: 'Thu hồi',
    confirmRevoke: 'Thu hồi khóa này? Hệ thống hoặc màn hình đang dùng khóa sẽ ngừng hoạt động.',
    keyIssued: 'Khóa API, chỉ hiện một lần. Hãy sao chép và lưu ở nơi an toàn.',
    needScope: 'Hãy chọn ít nhất một phạm vi.',
    add: 'Thêm',
    issue: 'Cấp khóa',
    copy: 'Sao chép',
    copied: 'Đã sao chép',
    copyFailed: 'Trình duyệt không cho sao chép tự động; hãy chọn nội dung trong ô rồi sao chép.',
    disabled: 'Đã vô hiệu hóa',
  },
  en: {
    rooms: 'Meeting rooms',
    roomsHelp: "The screen in a meeting room opens the room's kiosk link to show the check-in QR code of the meeting held there.",
    noRooms: 'No meeting rooms yet.',
    newRoom: 'Add a meeting room',
    roomName: 'Room name',
    roomUnit: 'Owning unit',
    sharedRoom: '(Shared by all units)',
    location: 'Location',
    capacity: 'Seats',
    seats: (count) => `${count} seats`,
    kioskLink: 'Kiosk link',
    openKiosk: 'Open the check-in screen',
    issueKioskKey: 'Issue a kiosk key',
    kioskKeyIssued:
      "Kiosk link with its key, shown only once. Open it on the computer in the meeting room: the browser keeps the key and shows the check-in QR code with nobody signed in. The key reads only this room's check-in code and counts. Revoke it under API keys.",
    kioskKeyName: (room) => `Kiosk – ${room}`,
    disableRoom: 'Disable',
    confirmDisableRoom: 'Disable this meeting room? Meetings already booked keep it, but no new booking can choose it.',
    apiKeys: 'API keys',
    apiKeysHelp: 'Keys for other systems and for kiosk screens. Each key can do only what its scopes allow.',
    noApiKeys: 'No API keys yet.',
    newApiKey: 'Issue an API key',
    keyName: 'Key name',
    scopes: 'Scopes',
    scopeNames: {
      'meetings:read': 'Read meetings and meeting rooms',
      'meetings:write': 'Schedule, change and cancel meetings',
      'attendance:read': 'Read attendance and its reports',
      'attendance:write': 'Mark attendance',
      'documents:read': 'Read and download meeting documents',
      'documents:write': 'Upload meeting documents',
      'directory:read': 'Read the directory',
      'directory:write': 'Manage the directory',
      'audit:read': 'Read the audit log',
      'meeting-rooms:write': 'Manage meeting rooms',
      'notifications:write': 'Manage webhooks and notifications',
    },
    kioskScope: (room) => `Kiosk of meeting room ${room}`,
    createdAt: 'issued',
    lastUsed: 'last used',
    neverUsed: 'never used',
    revoked: 'Revoked',
    revoke: 'Revoke',
    confirmRevoke: 'Revoke this key? Systems or screens using it stop working.',
    keyIssued: 'The API key, shown only once. Copy it and keep it somewhere safe.',
    needScope: 'Choose at least one scope.',
    add: 'Add',
    issue: 'Issue key',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'The browser does not allow copying here; select the text in the box and copy it.',
    disabled: 'Disabled',
  },
};

const text = () => texts[language()];

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined && content !== null) node.textContent = content;
  return node;
}

function linkButton(label, onClick, className = 'link') {
  const node = element('button', className, label);
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

/** Builds a read-only box with `value` and a copy button, for a secret shown once. */
function copyBox(message, value) {
  const box = element('div', 'created');
  const field = element('input');
  field.readOnly = true;
  field.value = value;
  field.addEventListener('focus', () => field.select());
  const status = element('span', 'muted');
  const copy = linkButton(text().copy, async () => {
    try {
      await navigator.clipboard.writeText(value);
      copy.textContent = text().copied;
    } catch {
      status.textContent = text().copyFailed;
      field.select();
    }
  }, 'secondary');
  box.append(element('p', null, message), field, copy, status);
  return box;
}

/**
 * Mounts both sections. `api` is the admin page's API call and `units()`
 * returns the directory's units. Returns `applyTexts` for a language change,
 * `unitsChanged` for a new unit list, and `load`.
 */
export function mountRoomsAndKeys({ api, units }) {
  const state = { rooms: [], keys: [] };
  const $ = (id) => document.getElementById(id);

  function unitsChanged() {
    const unitChoice = $('room-unit');
    const chosen = unitChoice.value;
    unitChoice.replaceChildren(new Option(text().sharedRoom, ''), ...units().filter((unit) => !unit.disabledAt).map((unit) => new Option(unit.name, unit.id)));
    unitChoice.value = chosen;
    renderRooms();
  }

  function applyTexts() {
    for (const node of document.querySelectorAll('[data-room-text]')) node.textContent = text()[node.dataset.roomText];
    const checked = new Set([...document.querySelectorAll('#key-scopes input:checked')].map((box) => box.value));
    $('key-scopes').replaceChildren(
      ...SCOPES.map((scope) => {
        const label = element('label', 'check');
        const box = element('input');
        box.type = 'checkbox';
        box.name = 'scope';
        box.value = scope;
        box.checked = checked.has(scope);
        label.append(box, element('span', null, `${text().scopeNames[scope]} (${scope})`));
        return label;
      }),
    );
    unitsChanged();
    renderKeys();
  }

  function roomName(id) {
    return state.rooms.find((room) => room.id === id)?.name ?? id;
  }

  function renderRooms() {
    const list = $('rooms');
    if (state.rooms.length === 0) {
      list.replaceChildren(element('li', 'muted', text().noRooms));
      return;
    }
    list.replaceChildren(...state.rooms.map(roomItem));
  }

  function roomItem(room) {
    const item = element('li', 'meeting');
    item.dataset.roomId = room.id;
    item.append(element('strong', null, room.name));
    const owner = room.unitId ? units().find((unit) => unit.id === room.unitId)?.name : text().sharedRoom;
    item.append(element('span', 'muted', [room.location, owner, room.capacity ? text().seats(room.capacity) : null, room.disabledAt ? text().disabled : null].filter(Boolean).join(' · ')));
    if (room.disabledAt) return item;

    const kioskPath = `/kiosk.html?room=${room.id}`;
    const address = element('span', 'kiosk-address');
    const link = element('a', 'kiosk-link', text().openKiosk);
    link.href = kioskPath;
    link.target = '_blank';
    link.rel = 'noopener';
    address.append(element('span', 'muted', `${text().kioskLink}: `), element('code', null, `${location.origin}${kioskPath}`), document.createTextNode(' '), link);
    item.append(address);

    const actions = element('span', 'room-actions');
    actions.append(
      linkButton(text().issueKioskKey, () => void issueKioskKey(room, item)),
      linkButton(text().disableRoom, () => void disableRoom(room), 'link danger'),
    );
    item.append(actions);
    return item;
  }

  async function issueKioskKey(room, item) {
    const name = text().kioskKeyName(room.name).slice(0, 100);
    const result = await api('/api/v1/admin/api-keys', { method: 'POST', body: JSON.stringify({ name, scopes: [`kiosk:${room.id}`] }) });
    item.querySelector('.created')?.remove();
    if (!result.ok) {
      $('rooms-error').textContent = errorMessage(result.body);
      return;
    }
    // The key travels in the fragment, which the browser never sends to the server; the kiosk page stores it and removes it.
    const kioskUrl = `${location.origin}/kiosk.html?room=${room.id}#key=${result.body.token}`;
    item.append(copyBox(text().kioskKeyIssued, kioskUrl));
    await loadKeys();
  }

  async function disableRoom(room) {
    if (!confirm(text().confirmDisableRoom)) return;
    const result = await api(`/api/v1/meeting-rooms/${room.id}/disable`, { method: 'POST', body: '{}' });
    if (!result.ok) $('rooms-error').textContent = errorMessage(result.body);
    await loadRooms();
  }

  async function loadRooms() {
    const result = await api('/api/v1/meeting-rooms?includeDisabled=true');
    if (!result.ok) {
      $('rooms-error').textContent = errorMessage(result.body);
      return;
    }
    state.rooms = result.body.meetingRooms;
    renderRooms();
    renderKeys();
  }

  async function addRoom(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const capacity = String(data.get('capacity') ?? '').trim();
    const body = {
      name: String(data.get('name') ?? ''),
      unitId: String(data.get('unitId') ?? '') || null,
      location: String(data.get('location') ?? '').trim() || null,
      capacity: capacity === '' ? null : Number(capacity),
    };
    $('room-error').textContent = '';
    const result = await api('/api/v1/meeting-rooms', { method: 'POST', body: JSON.stringify(body) });
    if (!result.ok) {
      $('room-error').textContent = errorMessage(result.body);
      return;
    }
    form.reset();
    await loadRooms();
  }

  function describeScopes(scopes) {
    return scopes.map((scope) => (scope.startsWith('kiosk:') ? text().kioskScope(roomName(scope.slice('kiosk:'.length))) : (text().scopeNames[scope] ?? scope))).join(', ');
  }

  function renderKeys() {
    const list = $('api-keys');
    if (state.keys.length === 0) {
      list.replaceChildren(element('li', 'muted', text().noApiKeys));
      return;
    }
    list.replaceChildren(
      ...state.keys.map((key) => {
        const item = element('li', 'meeting');
        item.dataset.keyId = key.id;
        item.append(element('strong', null, `${key.name} (hop_${key.prefix}_…)`));
        item.append(element('span', null, describeScopes(key.scopes)));
        const used = key.lastUsedAt ? `${text().lastUsed} ${formatDateTime(key.lastUsedAt, ZONE)}` : text().neverUsed;
        item.append(element('span', 'muted', [`${text().createdAt} ${formatDateTime(key.createdAt, ZONE)}`, used, key.revokedAt ? text().revoked : null].filter(Boolean).join(' · ')));
        if (!key.revokedAt) item.append(linkButton(text().revoke, () => void revokeKey(key), 'link danger'));
        return item;
      }),
    );
  }

  async function loadKeys() {
    const result = await api('/api/v1/admin/api-keys');
    if (!result.ok) {
      $('keys-error').textContent = errorMessage(result.body);
      return;
    }
    state.keys = result.body.apiKeys;
    renderKeys();
  }

  async function revokeKey(key) {
    if (!confirm(text().confirmRevoke)) return;
    const result = await api(`/api/v1/admin/api-keys/${key.id}`, { method: 'DELETE' });
    if (!result.ok) $('keys-error').textContent = errorMessage(result.body);
    await loadKeys();
  }

  async function issueKey(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const scopes = data.getAll('scope').map(String);
    $('key-error').textContent = '';
    $('key-issued').replaceChildren();
    if (scopes.length === 0) {
      $('key-error').textContent = text().needScope;
      return;
    }
    const result = await api('/api/v1/admin/api-keys', { method: 'POST', body: JSON.stringify({ name: String(data.get('name') ?? ''), scopes }) });
    if (!result.ok) {
      $('key-error').textContent = errorMessage(result.body);
      return;
    }
    form.reset();
    $('key-issued').append(copyBox(text().keyIssued, result.body.token));
    await loadKeys();
  }

  $('room-form').addEventListener('submit', (event) => void addRoom(event));
  $('key-form').addEventListener('submit', (event) => void issueKey(event));
  applyTexts();
  return {
    applyTexts,
    unitsChanged,
    async load() {
      await loadRooms();
      await loadKeys();
    },
  };
}
