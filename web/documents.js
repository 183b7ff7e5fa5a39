// Meeting documents (tài liệu họp) on the meeting page: the list with versions
// and "changed" marks, and uploads straight to the object store through
// presigned multipart links, with a progress bar and resume after a dropped
// connection. Vietnamese first, English with the page's language switch.
import { errorMessage, language } from './i18n.js';

const texts = {
  vi: {
    documents: 'Tài liệu họp',
    show: 'Tài liệu họp',
    hide: 'Ẩn tài liệu',
    none: 'Chưa có tài liệu nào.',
    search: 'Tìm trong tài liệu (không cần dấu)',
    upload: 'Tải tài liệu lên',
    newVersion: 'Tải phiên bản mới',
    chooseFile: 'Chọn tệp',
    note: 'Ghi chú phiên bản (không bắt buộc)',
    visibility: 'Thời điểm hiển thị',
    inAdvance: 'Gửi trước (xem được từ khi nhận giấy mời họp)',
    meetingOnly: 'Chỉ trong cuộc họp (xem được từ lúc bắt đầu họp)',
    kindReport: 'Đây là báo cáo của đơn vị tôi',
    agendaItem: 'Nội dung họp',
    wholeMeeting: '(Cả cuộc họp)',
    uploading: (done, total) => `Đang tải lên: ${done} / ${total}`,
    retrying: 'Mất kết nối. Đang thử tải tiếp…',
    uploaded: 'Đã tải lên. Hệ thống đang kiểm tra và xử lý tệp.',
    changed: 'Mới cập nhật',
    version: (n) => `Phiên bản ${n}`,
    by: (name, when) => `${name} · ${when}`,
    pages: (n) => `${n} trang`,
    processing: 'Đang xử lý…',
    rejected: 'Bị từ chối',
    conversionFailed: 'Không chuyển được sang PDF để xem trên trình duyệt; vẫn tải được tệp gốc.',
    view: 'Xem',
    download: 'Tải xuống',
    olderVersions: 'Các phiên bản trước',
    visibleFrom: (when) => `Hiển thị với người dự họp từ ${when}`,
    report: 'Báo cáo',
  },
  en: {
    documents: 'Meeting documents',
    show: 'Documents',
    hide: 'Hide documents',
    none: 'No documents yet.',
    search: 'Search the documents (tone marks optional)',
    upload: 'Upload a document',
    newVersion: 'Upload a new version',
    chooseFile: 'Choose a file',
    note: 'Version note (optional)',
    visibility: 'Visible',
    inAdvance: 'In advance (from the invitation on)',
    meetingOnly: 'For the meeting only (from its start on)',
    kindReport: "This is my unit's report",
    agendaItem: 'Agenda item',
    wholeMeeting: '(Whole meeting)',
    uploading: (done, total) => `Uploading: ${done} / ${total}`,
    retrying: 'Connection lost. Resuming…',
    uploaded: 'Uploaded. The file is being checked and processed.',
    changed: 'Updated',
    version: (n) => `Version ${n}`,
    by: (name, when) => `${name} · ${when}`,
    pages: (n) => `${n} page${n === 1 ? '' : 's'}`,
    processing: 'Processing…',
    rejected: 'Rejected',
    conversionFailed: 'Could not be converted to PDF for viewing in the browser; the original file can still be downloaded.',
    view: 'View',
    download: 'Download',
    olderVersions: 'Earlier versions',
    visibleFrom: (when) => `Visible to participants from ${when}`,
    report: 'Report',
  },
};
const text = () => texts[language()];

/** Parts sent at the same time; more gains little on one connection and costs memory on phones. */
const PARALLEL_PARTS = 3;
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 20000, 30000];

async function api(path, options = {}) {
  const headers = { 'content-type': 'application/json' };
  const method = options.method ?? 'GET';
  if (method !== 'GET' && sessionStorage.getItem('hop.csrf')) headers['x-csrf-token'] = sessionStorage.getItem('hop.csrf');
  let response;
  try {
    response = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  return { ok: response.ok, status: response.status, body: await response.json().catch(() => null) };
}

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, properties);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatWhen(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(date.getDate())}/${pad(date.getMonth() + 1)}/${date.getFullYear()} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Sends one part with XMLHttpRequest, whose upload events give the progress within the part. */
function putPart(url, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', url);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => (request.status >= 200 && request.status < 300 ? resolve() : reject(new Error(`HTTP ${request.status}`)));
    request.onerror = () => reject(new Error('network'));
    request.ontimeout = () => reject(new Error('timeout'));
    request.send(blob);
  });
}

/**
 * Uploads a file: starts (or resumes) the upload, sends the missing parts,
 * and after a failure asks the server which parts arrived and sends only the
 * rest, with growing pauses. Resolves with the confirm response body.
 */
async function uploadFile(meetingId, file, options, onStatus) {
  const started = await api(`/api/v1/meetings/${meetingId}/uploads`, {
    method: 'POST',
    body: { fileName: file.name, sizeBytes: file.size, lastModified: file.lastModified, ...options },
  });
  if (!started.ok) throw started.body;
  let upload = started.body;

  for (let attempt = 0; ; attempt += 1) {
    const received = new Map(upload.uploadedParts.map((part) => [part.partNumber, part.size]));
    const inFlight = new Map();
    const report = () => {
      let done = [...received.values()].reduce((sum, size) => sum + size, 0);
      for (const loaded of inFlight.values()) done += loaded;
      onStatus({ done: Math.min(done, file.size), total: file.size });
    };
    report();

    const queue = [...upload.parts];
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        const start = (part.partNumber - 1) * upload.partSize;
        const blob = file.slice(start, Math.min(start + upload.partSize, file.size));
        await putPart(part.url, blob, (loaded) => {
          inFlight.set(part.partNumber, loaded);
          report();
        });
        inFlight.delete(part.partNumber);
        received.set(part.partNumber, blob.size);
        report();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
      const confirmed = await api(`/api/v1/meetings/${meetingId}/uploads/${upload.uploadId}/confirm`, { method: 'POST', body: {} });
      if (confirmed.ok) return confirmed.body;
      if (confirmed.status !== 0 && confirmed.body?.error?.code !== 'UPLOAD_INCOMPLETE') throw confirmed.body;
    } catch (error) {
      if (error && error.error) throw error;
      if (attempt >= RETRY_DELAYS_MS.length) throw null;
    }
    onStatus({ retrying: true });
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]));
    // Fresh links for the parts the store has not received.
    for (;;) {
      const resumed = await api(`/api/v1/meetings/${meetingId}/uploads/${upload.uploadId}`);
      if (resumed.ok) {
        upload = resumed.body;
        break;
      }
      if (resumed.status !== 0) throw resumed.body;
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

/** Opens a signed link to a version; the request marks it read and is audited. */
async function openVersion(meetingId, documentId, version, variant, errorBox) {
  const disposition = variant === 'pdf' ? 'inline' : 'attachment';
  // Opened before the request, so that phone browsers do not block it as a pop-up.
  const target = variant === 'pdf' ? window.open('', '_blank') : null;
  const result = await api(`/api/v1/meetings/${meetingId}/documents/${documentId}/download?version=${version}&variant=${variant}&disposition=${disposition}`);
  if (!result.ok) {
    target?.close();
    errorBox.textContent = errorMessage(result.body);
    return false;
  }
  if (target) target.location = result.body.url;
  else window.location.assign(result.body.url);
  return true;
}

function versionLine(meetingId, document, version, errorBox, refresh) {
  const t = text();
  const details = [t.version(version.version), t.by(version.uploadedBy.name ?? version.uploadedBy.id, formatWhen(version.uploadedAt)), formatBytes(version.sizeBytes)];
  if (version.pageCount) details.push(t.pages(version.pageCount));
  const line = element('div', { className: 'doc-version' }, element('span', { className: 'muted', textContent: details.join(' · ') }));
  if (version.note) line.append(element('span', { className: 'doc-note', textContent: version.note }));
  if (version.status === 'processing') line.append(element('span', { className: 'badge', textContent: t.processing }));
  if (version.status === 'rejected') {
    const reason = language() === 'en' ? version.rejection?.message_en : version.rejection?.message;
    line.append(element('span', { className: 'badge cancelled', textContent: t.rejected }), element('span', { className: 'error', textContent: reason ?? '' }));
  }
  if (version.status === 'ready') {
    const actions = element('span', { className: 'doc-actions' });
    const viewable = version.hasPdf || version.detectedType === 'application/pdf';
    if (viewable) {
      const view = element('button', { type: 'button', className: 'link', textContent: t.view });
      view.addEventListener('click', async () => {
        if (await openVersion(meetingId, document.id, version.version, 'pdf', errorBox)) refresh();
      });
      actions.append(view);
    }
    const download = element('button', { type: 'button', className: 'link', textContent: t.download });
    download.addEventListener('click', async () => {
      if (await openVersion(meetingId, document.id, version.version, 'original', errorBox)) setTimeout(refresh, 1000);
    });
    actions.append(download);
    line.append(actions);
    if (version.conversion === 'failed') line.append(element('span', { className: 'muted', textContent: t.conversionFailed }));
  }
  return line;
}

function uploadForm(meetingId, agenda, documentId, onDone) {
  const t = text();
  const form = element('form', { className: 'doc-upload' });
  const file = element('input', { type: 'file', required: true });
  file.setAttribute('aria-label', t.chooseFile);
  const note = element('input', { type: 'text', maxLength: 1000, placeholder: t.note });
  const progress = element('progress', { max: 1, value: 0, hidden: true });
  const status = element('p', { className: 'muted' });
  status.setAttribute('role', 'status');
  const error = element('p', { className: 'error' });
  error.setAttribute('role', 'alert');
  const submit = element('button', { type: 'submit', textContent: documentId ? t.newVersion : t.upload });
  form.append(file, note);

  let visibility;
  let agendaSelect;
  let report;
  if (!documentId) {
    visibility = element('select', {}, new Option(t.inAdvance, 'in_advance'), new Option(t.meetingOnly, 'meeting_only'));
    form.append(element('label', {}, element('span', { textContent: t.visibility }), visibility));
    if (agenda.length > 0) {
      agendaSelect = element('select', {}, new Option(t.wholeMeeting, ''), ...agenda.map((item, index) => new Option(`${index + 1}. ${item.title}`, String(index))));
      form.append(element('label', {}, element('span', { textContent: t.agendaItem }), agendaSelect));
    }
    report = element('input', { type: 'checkbox' });
    report.style.width = 'auto';
    form.append(element('label', { className: 'doc-check' }, report, ` ${t.kindReport}`));
  }
  form.append(progress, status, error, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    error.textContent = '';
    submit.disabled = true;
    progress.hidden = false;
    const options = {};
    if (note.value.trim()) options.note = note.value.normalize('NFC').trim();
    if (documentId) options.documentId = documentId;
    else {
      options.visibility = visibility.value;
      options.kind = report.checked ? 'report' : 'document';
      if (agendaSelect?.value) options.agendaIndex = Number(agendaSelect.value);
    }
    try {
      await uploadFile(meetingId, chosen, options, (state) => {
        if (state.retrying) {
          status.textContent = text().retrying;
          return;
        }
        progress.value = state.total ? state.done / state.total : 0;
        status.textContent = text().uploading(formatBytes(state.done), formatBytes(state.total));
      });
      status.textContent = text().uploaded;
      form.reset();
      onDone();
    } catch (body) {
      error.textContent = errorMessage(body);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/**
 * Fills `container` with the documents of a meeting and an upload form, and
 * refreshes the list while versions are being processed. `options.agenda` is
 * the meeting's agenda for choosing an item. The upload forms appear when the
 * list's `canUpload` (the server's policy) allows it, unless `options.canUpload`
 * is false, as for a cancelled or ended meeting.
 */
export function mountDocuments(container, meetingId, options = {}) {
  const agenda = options.agenda ?? [];
  const list = element('ul', { className: 'doc-list' });
  const status = element('p', { className: 'muted' });
  const errorBox = element('p', { className: 'error' });
  const search = element('input', { type: 'search', placeholder: text().search });
  let timer = null;
  let newDocumentForm = null;

  // Made at the first list that allows uploads and then only hidden, so that an upload running in it keeps its progress.
  function showUploadForm(allowed) {
    if (allowed && !newDocumentForm) {
      newDocumentForm = uploadForm(meetingId, agenda, null, refresh);
      container.append(newDocumentForm);
    }
    if (newDocumentForm) newDocumentForm.hidden = !allowed;
  }

  async function refresh() {
    const query = search.value.trim() ? `?q=${encodeURIComponent(search.value.normalize('NFC').trim())}` : '';
    const result = await api(`/api/v1/meetings/${meetingId}/documents${query}`);
    if (!result.ok) {
      status.textContent = errorMessage(result.body);
      return;
    }
    const t = text();
    const documents = result.body.documents;
    const mayUpload = options.canUpload !== false && result.body.canUpload === true;
    showUploadForm(mayUpload);
    status.textContent = documents.length === 0 ? t.none : '';
    list.replaceChildren(
      ...documents.map((document) => {
        const heading = element('div', { className: 'doc-title' }, element('strong', { textContent: document.title }));
        if (document.kind === 'report') heading.append(element('span', { className: 'badge', textContent: t.report }));
        if (document.changedSinceRead) heading.append(element('span', { className: 'badge room-ready', textContent: t.changed }));
        const item = element('li', { className: 'doc' }, heading);
        const thumbnail = document.latest?.thumbnailUrl;
        if (thumbnail) item.prepend(element('img', { className: 'doc-thumb', src: thumbnail, alt: '', loading: 'lazy' }));
        if (document.agendaTitle) item.append(element('span', { className: 'muted', textContent: `${t.agendaItem}: ${document.agendaTitle}` }));
        if (document.visibleFrom) item.append(element('span', { className: 'muted', textContent: t.visibleFrom(formatWhen(document.visibleFrom)) }));
        const [current, ...older] = document.versions;
        if (current) item.append(versionLine(meetingId, document, current, errorBox, refresh));
        if (older.length > 0) {
          const history = element('details', {}, element('summary', { textContent: t.olderVersions }));
          for (const version of older) history.append(versionLine(meetingId, document, version, errorBox, refresh));
          item.append(history);
        }
        if (mayUpload) {
          const more = element('details', {}, element('summary', { textContent: t.newVersion }), uploadForm(meetingId, agenda, document.id, refresh));
          item.append(more);
        }
        return item;
      }),
    );
    clearTimeout(timer);
    if (documents.some((document) => document.versions.some((version) => version.status === 'processing'))) timer = setTimeout(refresh, 3000);
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  const heading = element('h3', { textContent: text().documents });
  container.replaceChildren(heading, search, status, errorBox, list);
  void refresh();
  return { refresh };
}

const panels = new Map();

/**
 * Returns a toggle button and the documents panel of one meeting for a list
 * row. The panel is kept per meeting, so a list that re-renders every few
 * seconds moves the same panel (and any upload running in it) into the new row.
 */
export function documentsToggle(meeting) {
  let panel = panels.get(meeting.id);
  if (!panel) {
    panel = element('div', { className: 'doc-panel', hidden: true });
    panels.set(meeting.id, panel);
  }
  const button = element('button', { type: 'button', className: 'link', textContent: panel.hidden ? text().show : text().hide });
  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.textContent = panel.hidden ? text().show : text().hide;
    if (!panel.hidden && !panel.dataset.mounted) {
      panel.dataset.mounted = 'true';
      mountDocuments(panel, meeting.id, { agenda: meeting.agenda ?? [] });
    }
  });
  return [button, panel];
}
