import { errorMessage, language, setLanguage, t } from './i18n.js';

function applyTexts() {
  const text = t();
  document.documentElement.lang = language();
  document.title = `${text.signIn} – hop`;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = text[element.dataset.text];
  document.getElementById('language').textContent = text.switchLanguage;
}

/** Where to go after signing in: the `next` path of this page's address, when it is a local path. */
function nextPath() {
  const next = new URLSearchParams(window.location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

async function onSubmit(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById('login-error');
  const submit = document.getElementById('login-submit');
  error.textContent = '';
  submit.disabled = true;

  let response;
  let body = null;
  try {
    response = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: String(form.get('username') ?? ''), password: String(form.get('password') ?? '') }),
    });
    body = await response.json().catch(() => null);
  } catch {
    response = null;
  }
  submit.disabled = false;

  if (!response || !response.ok) {
    error.textContent = errorMessage(body);
    return;
  }
  sessionStorage.setItem('hop.csrf', body.csrfToken);
  window.location.assign(nextPath());
}

document.getElementById('language').addEventListener('click', () => {
  setLanguage(language() === 'vi' ? 'en' : 'vi');
  applyTexts();
});
document.getElementById('login').addEventListener('submit', onSubmit);
applyTexts();
