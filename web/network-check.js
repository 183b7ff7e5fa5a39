// The connection check page (kiểm tra kết nối): /network-check.html, or
// /network-check.html?m=<meetingId>&k=<inviteKey> from the join page.
//
// Measures the round-trip time, download and upload throughput to the
// gateway (gateway/network-check.ts), and, with a meeting, whether a WebRTC
// connection to the meeting's Janus server comes up through the signalling
// proxy. It then gives a verdict from the minimum bandwidths in
// docs/bang-thong-toi-thieu.md and stores the result in localStorage
// ("hop.networkCheck"), where the join page reads the download throughput to
// pick the first video layer.
import 'webrtc-adapter';
import Janus from 'janus-gateway';

const TEXTS = {
  vi: {
    title: 'Kiểm tra kết nối',
    intro: 'Đo đường truyền từ máy này tới máy chủ họp trực tuyến trước khi vào cuộc họp.',
    start: 'Bắt đầu kiểm tra',
    again: 'Kiểm tra lại',
    running: 'Đang kiểm tra…',
    rtt: 'Độ trễ khứ hồi',
    download: 'Tốc độ tải xuống',
    upload: 'Tốc độ tải lên',
    webrtc: 'Kết nối hình và tiếng (WebRTC)',
    guide: 'Hướng dẫn băng thông tối thiểu',
    back: 'Quay lại trang tham gia cuộc họp',
    failed: 'Không đo được',
    rateLimited: 'Bạn vừa kiểm tra nhiều lần; vui lòng chờ một phút rồi thử lại.',
    webrtcNoMeeting: 'Không kiểm tra (mở trang này từ đường dẫn tham gia cuộc họp để kiểm tra)',
    webrtcNoPublisher: 'Chưa kiểm tra được: phòng họp chưa có ai phát hình',
    webrtcOk: (type) => `Kết nối được (${type})`,
    webrtcFailed: 'Không kết nối được: mạng có thể chặn UDP. Hãy báo bộ phận kỹ thuật của đơn vị.',
    switchLanguage: 'English',
    verdicts: {
      video: 'Đường truyền đủ để họp có hình ảnh chất lượng cao.',
      'low-video': 'Đường truyền chỉ đủ hình ảnh chất lượng thấp. Cuộc họp vẫn nghe rõ; nên tắt các ứng dụng khác đang dùng mạng.',
      'audio-only': 'Đường truyền chỉ đủ cho âm thanh. Hãy chọn "Chỉ âm thanh" khi vào cuộc họp.',
      insufficient: 'Đường truyền quá yếu để họp trực tuyến. Hãy đổi sang mạng khác (cáp, 4G) hoặc báo bộ phận kỹ thuật.',
    },
  },
  en: {
    title: 'Connection check',
    intro: 'Measures the link from this device to the meeting server before you join.',
    start: 'Start the check',
    again: 'Check again',
    running: 'Checking…',
    rtt: 'Round-trip time',
    download: 'Download speed',
    upload: 'Upload speed',
    webrtc: 'Audio and video connection (WebRTC)',
    guide: 'Minimum bandwidth guide (Vietnamese)',
    back: 'Back to the join page',
    failed: 'Could not measure',
    rateLimited: 'You ran the check several times just now; wait a minute and try again.',
    webrtcNoMeeting: 'Not checked (open this page from a meeting join link to check it)',
    webrtcNoPublisher: 'Not checked yet: nobody in the meeting room sends video',
    webrtcOk: (type) => `Connected (${type})`,
    webrtcFailed: 'Could not connect: the network may block UDP. Tell your unit\'s technical staff.',
    switchLanguage: 'Tiếng Việt',
    verdicts: {
      video: 'The link carries high-quality video.',
      'low-video': 'The link carries low-quality video only. Audio stays clear; close other programs that use the network.',
      'audio-only': 'The link carries audio only. Choose "Audio only" when you join.',
      insufficient: 'The link is too weak for an online meeting. Switch to another network (cable, 4G) or tell your technical staff.',
    },
  },
};
const LANG = globalThis.localStorage?.getItem('hop.lang') === 'en' ? 'en' : 'vi';
const TEXT = TEXTS[LANG];

/**
 * Minimum throughputs per verdict, in kbit/s, both directions, and the
 * largest round-trip time for video. docs/bang-thong-toi-thieu.md explains them.
 */
export const THRESHOLDS = {
  video: { kbps: 1500, rttMs: 300 },
  'low-video': { kbps: 250, rttMs: 600 },
  'audio-only': { kbps: 64, rttMs: 1000 },
};

const API = '/api/v1/network-check';
const PINGS = 5;
const WEBRTC_TIMEOUT_MS = 15_000;

const $ = (id) => document.getElementById(id);

class RateLimitedError extends Error {}

async function checkedFetch(url, init) {
  const response = await fetch(url, { cache: 'no-store', ...init });
  if (response.status === 429) throw new RateLimitedError('rate limited');
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

/** Returns the median round-trip time of PINGS small requests, in milliseconds. */
async function measureRtt() {
  const samples = [];
  for (let i = 0; i < PINGS; i++) {
    const started = performance.now();
    await (await checkedFetch(`${API}/ping`)).json();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** Downloads 256 KiB, and 1 MiB when that took under a second; returns kbit/s. */
async function measureDownload() {
  let bytes = 256 * 1024;
  for (;;) {
    const started = performance.now();
    const body = await (await checkedFetch(`${API}/download?bytes=${bytes}`)).arrayBuffer();
    const seconds = (performance.now() - started) / 1000;
    if (seconds > 1 || bytes >= 1024 * 1024) return (body.byteLength * 8) / 1000 / seconds;
    bytes = 1024 * 1024;
  }
}

/** Uploads 256 KiB of random bytes; returns kbit/s. */
async function measureUpload() {
  const body = new Uint8Array(256 * 1024);
  for (let offset = 0; offset < body.length; offset += 65536) crypto.getRandomValues(body.subarray(offset, offset + 65536));
  const started = performance.now();
  await checkedFetch(`${API}/upload`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  const seconds = (performance.now() - started) / 1000;
  return (body.length * 8) / 1000 / seconds;
}

/** Returns video, low-video, audio-only or insufficient from the measured values. */
export function verdictOf({ rttMs, downloadKbps, uploadKbps }) {
  const slowest = Math.min(downloadKbps, uploadKbps);
  for (const verdict of ['video', 'low-video', 'audio-only']) {
    if (slowest >= THRESHOLDS[verdict].kbps && rttMs <= THRESHOLDS[verdict].rttMs) return verdict;
  }
  return 'insufficient';
}

// ---------------------------------------------------------------- WebRTC

async function joinDetails(meetingId, inviteKey) {
  const response = await fetch(`/api/v1/meetings/${encodeURIComponent(meetingId)}/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(inviteKey ? { inviteKey } : {}),
  });
  const body = await response.json();
  if (!response.ok) throw new Error((LANG === 'en' ? body?.error?.message_en : body?.error?.message) ?? `HTTP ${response.status}`);
  return body;
}

/**
 * Subscribes, through the signalling proxy, to one publisher of the meeting's
 * room and waits for ICE to connect. A subscription does not count as being
 * in the meeting, so attendance is not touched. Resolves with
 * { status: 'connected', candidateType } | { status: 'no-publisher' } | { status: 'failed' }.
 */
async function checkWebRtc(details) {
  await new Promise((resolve) => Janus.init({ debug: ['error'], dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: resolve }));
  const url = new URL(details.janus.url, window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', details.janus.token);

  return new Promise((resolve) => {
    let janus;
    let handle;
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      window.clearTimeout(timer);
      try {
        janus?.destroy({ cleanupHandles: true });
      } catch {
        // The session is gone already.
      }
      resolve(result);
    };
    const timer = window.setTimeout(() => finish({ status: 'failed' }), WEBRTC_TIMEOUT_MS);

    const subscribeToFirstPublisher = () => {
      handle.send({
        message: { request: 'listparticipants' },
        success: (reply) => {
          const publisher = (reply?.participants ?? []).find((participant) => participant.publisher);
          if (!publisher) finish({ status: 'no-publisher' });
          else handle.send({ message: { request: 'join', ptype: 'subscriber', feed: publisher.id } });
        },
        error: () => finish({ status: 'failed' }),
      });
    };

    janus = new Janus({
      server: url.toString(),
      // No STUN or TURN, as on the join page.
      iceServers: [],
      error: () => finish({ status: 'failed' }),
      success: () => {
        janus.attach({
          plugin: 'janus.plugin.videoroom',
          error: () => finish({ status: 'failed' }),
          success: (attached) => {
            handle = attached;
            subscribeToFirstPublisher();
          },
          iceState: async (state) => {
            if (state === 'failed') finish({ status: 'failed' });
            if (state === 'connected' || state === 'completed') finish({ status: 'connected', candidateType: await selectedProtocol(handle?.webrtcStuff?.pc) });
          },
          onmessage: (message, jsep) => {
            if (message.error_code) finish({ status: 'failed', message: message.error });
            if (!jsep) return;
            handle.createAnswer({
              jsep,
              tracks: [{ type: 'data' }],
              success: (answer) => handle.send({ message: { request: 'start' }, jsep: answer }),
              error: () => finish({ status: 'failed' }),
            });
          },
        });
      },
    });
  });
}

/** Returns "UDP" or "TCP" (and the candidate type) of the connection's selected candidate pair. */
async function selectedProtocol(pc) {
  if (!pc) return 'UDP';
  const report = await pc.getStats();
  let pair;
  report.forEach((entry) => {
    if (entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded') pair = entry;
  });
  const local = pair ? report.get(pair.localCandidateId) : undefined;
  return `${(local?.protocol ?? 'udp').toUpperCase()}, ${local?.candidateType ?? 'host'}`;
}

// ---------------------------------------------------------------- page

const state = { running: false, result: null };

function formatKbps(kbps) {
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

async function run() {
  if (state.running) return;
  state.running = true;
  $('start').disabled = true;
  $('verdict').textContent = TEXT.running;
  for (const id of ['rtt', 'download', 'upload', 'webrtc']) $(id).textContent = '…';
  const params = new URLSearchParams(window.location.search);
  const result = { at: Date.now(), rttMs: null, downloadKbps: null, uploadKbps: null, webrtc: null, verdict: null };

  try {
    result.rttMs = await measureRtt();
    $('rtt').textContent = `${Math.round(result.rttMs)} ms`;
    result.downloadKbps = await measureDownload();
    $('download').textContent = formatKbps(result.downloadKbps);
    result.uploadKbps = await measureUpload();
    $('upload').textContent = formatKbps(result.uploadKbps);
    result.verdict = verdictOf(result);
  } catch (error) {
    for (const id of ['rtt', 'download', 'upload']) if ($(id).textContent === '…') $(id).textContent = TEXT.failed;
    $('verdict').textContent = error instanceof RateLimitedError ? TEXT.rateLimited : TEXT.failed;
  }

  if (params.get('m')) {
    try {
      const details = await joinDetails(params.get('m'), params.get('k'));
      result.webrtc = await checkWebRtc(details);
    } catch (error) {
      result.webrtc = { status: 'failed', message: error.message };
    }
    const webrtc = result.webrtc;
    $('webrtc').textContent =
      webrtc.status === 'connected' ? TEXT.webrtcOk(webrtc.candidateType) : webrtc.status === 'no-publisher' ? TEXT.webrtcNoPublisher : webrtc.message ?? TEXT.webrtcFailed;
    if (webrtc.status === 'failed' && result.verdict) result.verdict = 'insufficient';
  } else {
    $('webrtc').textContent = TEXT.webrtcNoMeeting;
  }

  if (result.verdict) {
    $('verdict').textContent = TEXT.verdicts[result.verdict];
    $('verdict').dataset.verdict = result.verdict;
    globalThis.localStorage?.setItem('hop.networkCheck', JSON.stringify({ at: result.at, downloadKbps: result.downloadKbps, uploadKbps: result.uploadKbps, rttMs: result.rttMs, verdict: result.verdict }));
  }
  state.result = result;
  state.running = false;
  $('start').disabled = false;
  $('start').textContent = TEXT.again;
}

function applyTexts() {
  document.documentElement.lang = LANG;
  document.title = `${TEXT.title} – hop`;
  $('title').textContent = TEXT.title;
  $('intro').textContent = TEXT.intro;
  $('start').textContent = TEXT.start;
  $('rtt-label').textContent = TEXT.rtt;
  $('download-label').textContent = TEXT.download;
  $('upload-label').textContent = TEXT.upload;
  $('webrtc-label').textContent = TEXT.webrtc;
  $('guide').textContent = TEXT.guide;
  $('back').textContent = TEXT.back;
  const params = new URLSearchParams(window.location.search);
  if (params.get('m')) {
    $('back').href = `/join.html${window.location.search}`;
    $('back').hidden = false;
  }
  const language = $('language');
  language.textContent = TEXT.switchLanguage;
  language.addEventListener('click', () => {
    globalThis.localStorage?.setItem('hop.lang', LANG === 'en' ? 'vi' : 'en');
    window.location.reload();
  });
}

window.hopNetworkCheck = {
  run,
  get result() {
    return state.result;
  },
};

applyTexts();
$('start').addEventListener('click', () => void run());
