// The hand-raise button of the join page (giơ tay / hạ tay). The hand lives on
// the server (POST /api/v1/meetings/:id/hand), so a reload or a reconnect finds
// it as it was. While the hand is up the page reads it every few seconds, to
// show its place in the order and to notice when the chair or the secretary
// lowers it.

const TEXTS = {
  vi: {
    raise: 'Giơ tay',
    lower: 'Hạ tay',
    raised: (position) => (position ? `Bạn đang giơ tay, thứ ${position}` : 'Bạn đang giơ tay'),
    loweredByModerator: 'Chủ trì hoặc thư ký cuộc họp đã hạ tay của bạn.',
    failed: 'Không gửi được yêu cầu giơ tay. Vui lòng thử lại.',
  },
  en: {
    raise: 'Raise hand',
    lower: 'Lower hand',
    raised: (position) => (position ? `Your hand is raised, number ${position}` : 'Your hand is raised'),
    loweredByModerator: 'The chair or the secretary lowered your hand.',
    failed: 'Could not send the raised hand. Please try again.',
  },
};

/** How often the page reads its hand while it is up, in milliseconds. */
const POLL_MS = 5000;

/**
 * Wires `button` and `status` to the participant's hand. `inviteKey` is the
 * key of the join link (null when the person joined signed in), `csrfToken`
 * returns the CSRF token of a signed-in session, and `showNotice` shows a
 * message on the page. `inMeeting` returns whether the page is still in the
 * meeting; once it is not, the page stops reading the hand. Returns the
 * current state and `lowerOnLeave`, which lowers the hand when the person
 * leaves the meeting.
 */
export function mountHand({ button, status, meetingId, inviteKey, language, csrfToken, showNotice, inMeeting }) {
  const text = TEXTS[language] ?? TEXTS.vi;
  // `requests` numbers the requests, so a response to an older request (a read that crossed a click) is dropped.
  const hand = { raised: false, position: null, busy: false, timer: undefined, requests: 0 };

  const send = async (raised) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const csrf = await csrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
    const body = { ...(inviteKey ? { inviteKey } : {}), ...(raised === undefined ? {} : { raised }) };
    const response = await fetch(`/api/v1/meetings/${encodeURIComponent(meetingId)}/hand`, { method: 'POST', headers, body: JSON.stringify(body), keepalive: true });
    const result = await response.json().catch(() => null);
    if (!response.ok) throw Object.assign(new Error(`hand request failed with HTTP ${response.status}`), { body: result });
    return result;
  };

  const show = (state) => {
    const wasRaised = hand.raised;
    hand.raised = state.raised;
    hand.position = state.position;
    button.textContent = hand.raised ? text.lower : text.raise;
    button.setAttribute('aria-pressed', String(hand.raised));
    status.textContent = hand.raised ? text.raised(hand.position) : '';
    status.hidden = !hand.raised;
    if (wasRaised && !hand.raised && state.loweredBy === 'moderator') showNotice(text.loweredByModerator);
    schedule();
  };

  const schedule = () => {
    window.clearTimeout(hand.timer);
    if (hand.raised && inMeeting()) hand.timer = window.setTimeout(() => void refresh(), POLL_MS);
  };

  const refresh = async () => {
    // A click in flight shows its own response and schedules the next read.
    if (hand.busy) return;
    const request = ++hand.requests;
    try {
      const state = await send(undefined);
      if (request === hand.requests) show(state);
    } catch (error) {
      // A read that fails (network down, reconnecting) is tried again later; the hand stays on the server.
      console.warn('reading the raised hand failed', error);
      schedule();
    }
  };

  const toggle = async () => {
    if (hand.busy) return;
    hand.busy = true;
    button.disabled = true;
    window.clearTimeout(hand.timer);
    const request = ++hand.requests;
    try {
      const state = await send(!hand.raised);
      if (request === hand.requests) show(state);
    } catch (error) {
      console.warn('changing the raised hand failed', error);
      showNotice(gatewayMessage(error, language) ?? text.failed);
      schedule();
    } finally {
      hand.busy = false;
      button.disabled = false;
    }
  };

  button.textContent = text.raise;
  button.addEventListener('click', () => void toggle());
  void refresh();

  return {
    get raised() {
      return hand.raised;
    },
    get position() {
      return hand.position;
    },
    refresh,
    toggle,
    /** Lowers the hand as the person leaves; the request outlives the page (keepalive). */
    lowerOnLeave() {
      window.clearTimeout(hand.timer);
      if (hand.raised) void send(false).catch((error) => console.warn('lowering the hand on leave failed', error));
    },
  };
}

/** Returns the gateway's message of a failed request in the page language, or null. */
function gatewayMessage(error, language) {
  const failure = error?.body?.error;
  if (!failure) return null;
  return language === 'en' ? failure.message_en ?? failure.message : failure.message;
}
