// The online connections panel of the meeting page: how many participants are
// connected now, the meeting's cap on concurrent connections, and for those
// who may change the meeting a field to set the cap (PUT /api/v1/meetings/:id/media).
// Vietnamese first, English with the page's language switch.
import { errorMessage, language } from './i18n.js';

const texts = {
  vi: {
    title: 'Kết nối trực tuyến',
    connected: (count, max) => `Đang kết nối: ${count} / tối đa ${max} điểm cầu`,
    ownCap: (max) => `Giới hạn riêng của cuộc họp: ${max} điểm cầu.`,
    defaultCap: (max) => `Cuộc họp dùng giới hạn mặc định: ${max} điểm cầu.`,
    serverCap: (max) => `Máy chủ hình ảnh và âm thanh nhận tối đa ${max} điểm cầu cho mọi cuộc họp trên máy chủ đó.`,
    aboveServerCap: (meeting, server) => `Lưu ý: giới hạn của cuộc họp (${meeting} điểm cầu) lớn hơn giới hạn của máy chủ (${server} điểm cầu), nên cuộc họp chỉ nhận được tối đa ${server} điểm cầu, ít hơn nếu các cuộc họp khác trên máy chủ đang dùng chỗ.`,
    capLabel: 'Số điểm cầu kết nối tối đa',
    save: 'Lưu giới hạn',
    useDefault: 'Dùng giới hạn mặc định',
    saved: 'Đã lưu. Lượt vào phòng tiếp theo được kiểm tra theo giới hạn mới.',
    belowConnected: (count) => `Đang có ${count} điểm cầu kết nối, nhiều hơn giới hạn mới: không ai bị ngắt, nhưng chưa ai vào thêm được đến khi số điểm cầu giảm xuống.`,
    invalid: (max) => `Hãy nhập một số nguyên từ 1 đến ${max}.`,
    board: 'Bảng điểm danh trực tiếp (người giơ tay, lượt vào bị từ chối)',
    loadFailed: 'Không tải được thông tin kết nối.',
    saveFailed: 'Không lưu được giới hạn kết nối.',
  },
  en: {
    title: 'Online connections',
    connected: (count, max) => `Connected: ${count} of at most ${max}`,
    ownCap: (max) => `This meeting's own cap: ${max} connections.`,
    defaultCap: (max) => `The meeting uses the default cap: ${max} connections.`,
    serverCap: (max) => `The media server takes at most ${max} connections for all meetings on it.`,
    aboveServerCap: (meeting, server) => `Note: the meeting's cap (${meeting}) is above the media server's cap (${server}), so the meeting takes at most ${server} connections, fewer when other meetings on the server use some.`,
    capLabel: 'Maximum connections',
    save: 'Save cap',
    useDefault: 'Use the default cap',
    saved: 'Saved. The next join is checked against the new cap.',
    belowConnected: (count) => `${count} are connected, more than the new cap: nobody is disconnected, but nobody else gets in until fewer are connected.`,
    invalid: (max) => `Enter a whole number from 1 to ${max}.`,
    board: 'Live attendance board (raised hands, refused joins)',
    loadFailed: 'Could not load the connection details.',
    saveFailed: 'Could not save the connection cap.',
  },
};

/** The largest cap the API accepts (MAX_MEETING_CONNECTIONS in lib/contract/media-settings.ts). */
const MAX_CAP = 10000;

const text = () => texts[language()];

function node(tag, className, content) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (content !== undefined) element.textContent = content;
  return element;
}

async function request(path, method = 'GET', body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem('hop.csrf');
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  try {
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { ok: response.ok, status: response.status, body: await response.json().catch(() => null) };
  } catch {
    return { ok: false, status: 0, body: null };
  }
}

/** How often the panel reads the connections again while the page is open, in milliseconds. */
const REFRESH_MS = 10_000;

/**
 * Mounts the panel in `container` for the meeting `meetingId`. `canChange`
 * shows the form; the server still decides. The count of connections is read
 * again every REFRESH_MS while the page is visible. The elements are built
 * once and their texts updated, so a refresh keeps what is typed in the form.
 * Returns `render`, which the page calls after a language switch.
 */
export function mountMeetingMedia(container, meetingId, { canChange }) {
  const path = `/api/v1/meetings/${encodeURIComponent(meetingId)}/media`;
  // `notice` is kept as data and turned into text at each render, so a language switch translates it.
  const state = { media: null, notice: null, loadError: null };

  const heading = node('h3');
  const loadError = node('p', 'error');
  const connected = node('p', 'media-connected');
  const cap = node('p', 'muted');
  const server = node('p', 'muted');
  const aboveServer = node('p', 'note media-above-server');
  const form = canChange ? buildForm() : null;
  const boardLink = node('a');
  boardLink.href = `/attendance.html?meeting=${encodeURIComponent(meetingId)}`;
  const boardLine = node('p');
  boardLine.append(boardLink);
  const details = [connected, cap, server, aboveServer, ...(form ? [form.element] : []), boardLine];
  container.replaceChildren(heading, loadError, ...details);

  function buildForm() {
    const element = node('form', 'media-cap');
    // The page checks the value itself, so the message is Vietnamese rather than the browser's own bubble.
    element.noValidate = true;
    const label = node('label');
    const caption = node('span');
    const input = document.createElement('input');
    input.type = 'number';
    input.id = 'media-max-connections';
    input.min = '1';
    input.max = String(MAX_CAP);
    input.step = '1';
    input.required = true;
    input.setAttribute('aria-describedby', 'media-status');
    label.append(caption, input);
    const save = node('button');
    save.type = 'submit';
    save.id = 'media-save';
    const reset = node('button', 'secondary');
    reset.type = 'button';
    reset.id = 'media-default';
    const status = node('p');
    status.id = 'media-status';
    status.setAttribute('role', 'status');

    element.addEventListener('submit', (event) => {
      event.preventDefault();
      state.notice = null;
      const typed = input.value.trim();
      const value = Number(typed);
      if (!/^\d+$/.test(typed) || value < 1 || value > MAX_CAP) {
        state.notice = { kind: 'invalid' };
        input.setAttribute('aria-invalid', 'true');
        render();
        input.focus();
        return;
      }
      void saveCap(value);
    });
    // A message belongs to the attempt that caused it: typing again clears it.
    input.addEventListener('input', () => {
      input.dataset.edited = 'true';
      input.removeAttribute('aria-invalid');
      if (state.notice) {
        state.notice = null;
        render();
      }
    });
    reset.addEventListener('click', () => {
      state.notice = null;
      void saveCap(null);
    });
    element.append(label, save, reset, status);
    return { element, caption, input, save, reset, status };
  }

  function render() {
    const t = text();
    heading.textContent = t.title;
    boardLink.textContent = t.board;
    if (state.loadError) {
      const body = state.loadError.body;
      loadError.textContent = body?.error ? errorMessage(body) : t.loadFailed;
    }
    loadError.hidden = !state.loadError;
    const media = state.media;
    for (const element of details) element.hidden = !media;
    if (!media) return;

    connected.textContent = t.connected(media.connected, media.effectiveMaxConnections);
    cap.textContent = media.maxConnections === null ? t.defaultCap(media.defaultMaxConnections) : t.ownCap(media.maxConnections);
    server.textContent = t.serverCap(media.serverMaxConnections);
    aboveServer.textContent = t.aboveServerCap(media.effectiveMaxConnections, media.serverMaxConnections);
    aboveServer.hidden = media.effectiveMaxConnections <= media.serverMaxConnections;
    if (form) renderForm(media);
  }

  function renderForm(media) {
    const t = text();
    form.caption.textContent = t.capLabel;
    form.save.textContent = t.save;
    form.reset.textContent = t.useDefault;
    form.reset.hidden = media.maxConnections === null;
    // The stored cap is shown until someone types; a refresh never overwrites typing.
    if (form.input.dataset.edited !== 'true') form.input.value = String(media.maxConnections ?? media.defaultMaxConnections);
    const { content, className } = noticeText(state.notice);
    form.status.textContent = content;
    form.status.className = className;
  }

  function noticeText(notice) {
    const t = text();
    if (notice?.kind === 'saved') {
      const media = state.media;
      return { content: media.connected > media.effectiveMaxConnections ? `${t.saved} ${t.belowConnected(media.connected)}` : t.saved, className: 'muted' };
    }
    if (notice?.kind === 'invalid') return { content: t.invalid(MAX_CAP), className: 'error' };
    if (notice?.kind === 'failed') {
      const reason = notice.body?.error ? errorMessage(notice.body) : '';
      return { content: reason ? `${t.saveFailed} ${reason}` : t.saveFailed, className: 'error' };
    }
    return { content: '', className: 'muted' };
  }

  async function saveCap(maxConnections) {
    form.save.disabled = form.reset.disabled = true;
    const result = await request(path, 'PUT', { maxConnections });
    form.save.disabled = form.reset.disabled = false;
    if (!result.ok) {
      state.notice = { kind: 'failed', body: result.body };
      render();
      return;
    }
    state.media = result.body;
    state.loadError = null;
    state.notice = { kind: 'saved' };
    delete form.input.dataset.edited;
    render();
  }

  async function load() {
    const result = await request(path);
    if (result.ok) {
      state.media = result.body;
      state.loadError = null;
    } else if (!state.media) {
      state.loadError = result;
    } else {
      // A failed refresh keeps the last figures; the next one may succeed.
      console.warn('refreshing the connection count failed', result.status);
    }
    render();
  }

  render();
  void load();
  const timer = window.setInterval(() => {
    if (!container.isConnected) {
      window.clearInterval(timer);
      return;
    }
    if (!document.hidden) void load();
  }, REFRESH_MS);
  return { render };
}
