// The page a phone opens from the room's QR code: checks the signed-in person
// in with the code in the fragment (#c1.…), which never reaches server logs.
import { formatDateTime, language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';

let outcome = null;

function show() {
  const text = at();
  document.documentElement.lang = language();
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = text[element.dataset.att];
  document.getElementById('language').textContent = text.switchLanguage;
  const result = document.getElementById('result');
  const error = document.getElementById('error');
  if (!outcome) return;
  if (outcome.ok) {
    const when = formatDateTime(outcome.body.checkedInAt, 'Asia/Ho_Chi_Minh');
    result.textContent = outcome.body.alreadyCheckedIn ? `${text.checkinAlready} ${when}: ${outcome.body.title}` : `${text.checkinDone} «${outcome.body.title}» (${when}).`;
    error.textContent = '';
  } else {
    result.textContent = '';
    const body = outcome.body?.error;
    error.textContent = outcome.noCode ? text.checkinNoCode : body ? (language() === 'en' ? body.message_en : body.message) : text.networkError;
  }
}

async function init() {
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    show();
  });
  show();
  const code = decodeURIComponent(location.hash.slice(1));
  if (!code) {
    outcome = { ok: false, noCode: true };
    return show();
  }
  if (!(await signedIn())) return;
  document.getElementById('result').textContent = at().checkinWorking;
  outcome = await api('/api/v1/attendance/check-in', { method: 'POST', body: JSON.stringify({ code }) });
  // The code is spent: a reload or a shared screenshot of this page does not reuse it.
  history.replaceState(null, '', location.pathname);
  show();
}

void init();
