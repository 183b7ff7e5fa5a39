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

/**
 * Sends the check-in of the code in the address's fragment. A phone that scans
 * a new code into a tab already on this page changes only the fragment, a
 * same-document navigation, so `hashchange` calls this again.
 */
async function checkIn() {
  const code = decodeURIComponent(location.hash.slice(1));
  if (!code) {
    // Taking the spent code out of the address also lands here; the last result stays shown.
    if (!outcome) {
      outcome = { ok: false, noCode: true };
      show();
    }
    return;
  }
  // Without a session, signedIn() goes to the sign-in page, which comes back with the code in the address.
  if (!(await signedIn())) return;
  // The code is spent: a reload or a shared screenshot of this page does not reuse it.
  history.replaceState(null, '', location.pathname);
  outcome = null;
  document.getElementById('error').textContent = '';
  document.getElementById('result').textContent = at().checkinWorking;
  outcome = await api('/api/v1/attendance/check-in', { method: 'POST', body: JSON.stringify({ code }) });
  show();
}

async function init() {
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    show();
  });
  window.addEventListener('hashchange', () => void checkIn());
  show();
  await checkIn();
}

void init();
