// The kiosk page of a physical meeting room (?room=ID): the meeting held there
// now and its check-in QR code, fetched again each time the code rotates.
import { language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';

const roomId = new URLSearchParams(location.search).get('room') ?? '';
let timer = null;

function applyTexts() {
  document.documentElement.lang = language();
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = at()[element.dataset.att];
  document.getElementById('language').textContent = at().switchLanguage;
}

async function refresh() {
  clearTimeout(timer);
  if (!/^[0-9a-f-]{36}$/i.test(roomId)) {
    document.getElementById('error').textContent = at().kioskNoRoom;
    return;
  }
  const result = await api(`/api/v1/meeting-rooms/${roomId}/check-in-code`);
  let wait = 10_000;
  if (result.ok) {
    const data = result.body;
    document.getElementById('room').textContent = data.meetingRoom.name;
    document.getElementById('meeting').textContent = data.meeting.title;
    // The SVG comes from our own API (qrcode library output), not from user input.
    document.getElementById('qr').innerHTML = data.qrSvg;
    document.getElementById('count').textContent = `${data.checkedIn}/${data.invited}`;
    document.getElementById('error').textContent = '';
    wait = Math.max(500, Date.parse(data.rotatesAt) - Date.now() + 200);
  } else {
    document.getElementById('qr').replaceChildren();
    document.getElementById('meeting').textContent = '';
    const error = result.body?.error;
    document.getElementById('error').textContent = error?.code === 'NO_MEETING_IN_ROOM' ? at().kioskNoMeeting : error ? (language() === 'en' ? error.message_en : error.message) : at().networkError;
  }
  timer = setTimeout(refresh, wait);
}

async function init() {
  applyTexts();
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
  });
  if (!(await signedIn())) return;
  await refresh();
}

void init();
