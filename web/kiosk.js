// The kiosk page of a physical meeting room (?room=ID): the meeting held there
// now, its check-in QR code (fetched again each time the code rotates) and the
// live board's counts. The page reads them with the room's kiosk key, an API
// key that an admin issues for that room alone (kept in localStorage), or else
// with the browser's session. Without ?room= it lists the meeting rooms.
import { language, setLanguage } from './i18n.js';
import { at } from './attendance-texts.js';

const ROOM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KIOSK_KEY = /^hop_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;
const STORAGE_PREFIX = 'hop.kiosk.';

const roomId = (new URLSearchParams(location.search).get('room') ?? '').trim().toLowerCase();
const $ = (id) => document.getElementById(id);
let timer = null;
/** The page's current content, redrawn when the language changes. */
let view = { kind: 'loading' };

const storedKey = (room) => localStorage.getItem(`${STORAGE_PREFIX}${room}`);
const forgetKey = (room) => localStorage.removeItem(`${STORAGE_PREFIX}${room}`);

/** Rooms that have a kiosk key on this device. */
function keyedRooms() {
  return Object.keys(localStorage)
    .filter((name) => name.startsWith(STORAGE_PREFIX))
    .map((name) => name.slice(STORAGE_PREFIX.length))
    .filter((id) => ROOM_ID.test(id));
}

/**
 * Sends a GET with the kiosk key as bearer token when one is given, else with
 * the session cookie. Unlike the other pages it never sends the screen to the
 * sign-in page, because a kiosk has nobody at the keyboard.
 */
async function get(path, key) {
  try {
    const response = await fetch(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { ok: response.ok, status: response.status, body: await response.json().catch(() => null) };
  } catch {
    return { ok: false, status: 0, body: null };
  }
}

/** Stores the key of a kiosk link (`#key=hop_…`) for this room and takes it out of the address bar. */
function takeKeyFromLink() {
  const match = /^#key=(.+)$/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, '', location.pathname + location.search);
  const key = decodeURIComponent(match[1]).trim();
  if (ROOM_ID.test(roomId) && KIOSK_KEY.test(key)) localStorage.setItem(`${STORAGE_PREFIX}${roomId}`, key);
}

function errorText(error) {
  if (!error) return at().networkError;
  return language() === 'en' ? error.message_en : error.message;
}

function applyTexts() {
  document.documentElement.lang = language();
  document.title = `${at().kioskTitle} – hop`;
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = at()[element.dataset.att];
  $('language').textContent = at().switchLanguage;
}

// ---------------------------------------------------------------- drawing

function render() {
  const text = at();
  const showsRoom = ['code', 'empty', 'error'].includes(view.kind);
  $('display').hidden = !showsRoom;
  $('picker').hidden = view.kind !== 'picker';
  $('key-panel').hidden = view.kind !== 'needs-key';
  $('key-status').hidden = !(showsRoom && storedKey(roomId));
  let message = '';
  if (view.message) message = text[view.message];
  else if (view.kind === 'error') message = errorText(view.error);
  $('error').textContent = message;

  if (showsRoom) renderRoom();
  if (view.kind === 'picker') renderPicker();
}

function renderRoom() {
  const data = view.kind === 'code' ? view.data : null;
  const room = data?.meetingRoom ?? view.room ?? null;
  $('room').textContent = room?.name ?? '';
  $('room-location').textContent = room?.location ?? '';
  $('meeting').textContent = data?.meeting.title ?? '';
  $('scan-help').hidden = !data;
  $('counts').hidden = !data;
  if (!data) {
    $('qr').replaceChildren();
    if (view.kind === 'empty') $('error').textContent = `${at().kioskNoMeeting} ${at().kioskNextCheck}`;
    return;
  }
  // The SVG comes from our own API (qrcode library output), not from user input.
  $('qr').innerHTML = data.qrSvg;
  // The board counts everyone present: in the room (QR or marked), online, late or delegated.
  $('count').textContent = `${data.present ?? data.checkedIn}/${data.invited}`;
  $('count-room').textContent = String(data.inRoom ?? data.checkedIn);
  $('count-online').textContent = String(data.online ?? 0);
}

function renderPicker() {
  const text = at();
  let help = text.kioskChooseHelp;
  if (view.denied) help = text.kioskRoomsDenied;
  else if (view.rooms.length === 0) help = text.kioskNoRooms;
  $('picker-help').textContent = help;
  const items = (view.rooms ?? []).map((room) => {
    const item = document.createElement('li');
    item.className = 'meeting';
    const link = document.createElement('a');
    link.href = `/kiosk.html?room=${encodeURIComponent(room.id)}`;
    link.textContent = room.name;
    item.append(link);
    if (room.location) {
      const place = document.createElement('span');
      place.className = 'muted';
      place.textContent = room.location;
      item.append(place);
    }
    return item;
  });
  if (view.signIn) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `/login.html?next=${encodeURIComponent('/kiosk.html')}`;
    link.textContent = text.kioskSignIn;
    item.append(link);
    items.push(item);
  }
  $('rooms').replaceChildren(...items);
}

// ---------------------------------------------------------------- one room

async function refresh() {
  clearTimeout(timer);
  const key = storedKey(roomId);
  const result = await get(`/api/v1/meeting-rooms/${roomId}/check-in-code`, key);
  let wait = 10_000;
  const error = result.body?.error ?? null;
  if (result.ok) {
    view = { kind: 'code', data: result.body };
    wait = Math.max(500, Date.parse(result.body.rotatesAt) - Date.now() + 200);
  } else if (key && (error?.code === 'API_KEY_INVALID' || error?.code === 'API_KEY_REVOKED')) {
    // A revoked key never works again, so the page drops it and requests a new one.
    forgetKey(roomId);
    view = { kind: 'needs-key', message: 'kioskKeyRejected' };
  } else if (result.status === 401) {
    view = { kind: 'needs-key' };
  } else if (error?.code === 'NO_MEETING_IN_ROOM') {
    view = { kind: 'empty', room: error.details?.meetingRoom ?? null };
  } else if (key && error?.code === 'PERMISSION_DENIED') {
    view = { kind: 'error', message: 'kioskKeyWrongRoom' };
  } else {
    view = { kind: 'error', error };
  }
  render();
  if (view.kind !== 'needs-key') timer = setTimeout(refresh, wait);
}

function useTypedKey(event) {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!KIOSK_KEY.test(key)) {
    $('error').textContent = at().kioskKeyInvalid;
    return;
  }
  localStorage.setItem(`${STORAGE_PREFIX}${roomId}`, key);
  $('key-input').value = '';
  void refresh();
}

// ---------------------------------------------------------------- choosing a room

/** Names of the rooms keyed on this device, read with their own keys. */
async function keyedRoomList(ids) {
  const rooms = await Promise.all(
    ids.map(async (id) => {
      const result = await get(`/api/v1/meeting-rooms/${id}/check-in-code`, storedKey(id));
      return result.body?.meetingRoom ?? result.body?.error?.details?.meetingRoom ?? null;
    }),
  );
  return rooms.filter(Boolean);
}

async function showPicker(message) {
  const keyed = keyedRooms();
  // A screen set up with one room's key goes straight to that room.
  if (keyed.length === 1 && !message) {
    location.replace(`/kiosk.html?room=${keyed[0]}`);
    return;
  }
  const result = await get('/api/v1/meeting-rooms');
  if (result.ok) view = { kind: 'picker', rooms: result.body.meetingRooms, message };
  else if (keyed.length > 0) view = { kind: 'picker', rooms: await keyedRoomList(keyed), message };
  else if (result.status === 401 || result.status === 403) view = { kind: 'picker', rooms: [], denied: true, signIn: result.status === 401, message };
  else view = { kind: 'error', error: result.body?.error ?? null };
  render();
}

async function init() {
  applyTexts();
  $('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
    render();
  });
  $('key-form').addEventListener('submit', useTypedKey);
  $('sign-in').href = `/login.html?next=${encodeURIComponent(location.pathname + location.search)}`;
  $('forget-key').addEventListener('click', () => {
    forgetKey(roomId);
    void refresh();
  });

  takeKeyFromLink();
  if (!roomId) return showPicker();
  if (!ROOM_ID.test(roomId)) return showPicker('kioskNoRoom');
  await refresh();
}

void init();
