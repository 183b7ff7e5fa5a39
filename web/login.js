import { errorMessage, language, setLanguage, t } from './i18n.js';

// Texts of the provider sign-in; the other texts come from i18n.js.
const providerTexts = {
  vi: { or: 'hoặc', signInProvince: 'Đăng nhập bằng tài khoản của tỉnh' },
  en: { or: 'or', signInProvince: 'Sign in with the province account' },
};

function applyTexts() {
  const text = { ...t(), ...providerTexts[language()] };
  document.documentElement.lang = language();
  document.title = `${text.signIn} – hop`;
  for (const element of document.querySelectorAll('[data-text]')) element.textContent = text[element.dataset.text];
  document.getElementById('language').textContent = text.switchLanguage;
}

/** Returns the page to open after signing in: the `next` path of this page's address, when it is a local path. */
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
/** Shows the provider sign-in button when the gateway reports OIDC on. */
async function showProviders() {
  try {
    const response = await fetch('/api/v1/auth/providers');
    if (!response.ok) return;
    const body = await response.json();
    if (!body.oidc || !body.oidc.enabled) return;
    const next = new URLSearchParams(window.location.search).get('next');
    const start = document.getElementById('oidc-start');
    start.href = next ? `${body.oidc.startUrl}?next=${encodeURIComponent(nextPath())}` : body.oidc.startUrl;
    document.getElementById('oidc').hidden = false;
  } catch {
    // The button stays hidden; password sign-in still works.
  }
}

/** Shows the catalogue message of `?error=CODE`, which the provider sign-in's callback redirects with. */
async function showCallbackError() {
  const code = new URLSearchParams(window.location.search).get('error');
  if (!code || !/^[A-Z_]{1,64}$/.test(code)) return;
  let body = null;
  try {
    const response = await fetch(`/api/v1/auth/errors/${code}`);
    if (response.ok) body = await response.json();
  } catch {
    body = null;
  }
  document.getElementById('login-error').textContent = errorMessage(body);
}

document.getElementById('login').addEventListener('submit', onSubmit);
applyTexts();
void showProviders();
void showCallbackError();
