// The join page: /join.html?m=<meetingId>&k=<inviteKey>.
//
// Fetches the join details from the gateway, enters the Janus VideoRoom as a
// publisher (microphone, and camera in three simulcast layers), subscribes to
// every other publisher with one subscriber handle each, and shows one tile
// per person. Each subscription follows the link: join-quality.js picks its
// layer from the measured link and the statistics. A dropped connection is
// restarted (ICE restart first, then a fresh join). Tests and tools read the
// page through window.hop (see the end of the file).
import 'webrtc-adapter';
import Janus from 'janus-gateway';
import {
  LEVEL,
  LEVELS,
  POLICY,
  createLayerState,
  createLinkEstimate,
  finishProbe,
  initialLevel,
  planRound,
  rateLink,
  setMaxLevel,
  startProbe,
} from './join-quality.js';
import { probeDownloadKbps } from './link-probe.js';
import { mountHand } from './join-hand.js';
import { capacityRefusalMessage } from './join-refusal.js';

/** The raise-hand control (join-hand.js), once the join details are known. */
let hand = null;

// Interface texts, Vietnamese first; English when the person chose it on the
// meeting list (localStorage "hop.lang", shared with i18n.js).
const TEXTS = {
  vi: {
  loading: 'Đang tải thông tin cuộc họp…',
  connecting: 'Đang kết nối phòng họp…',
  joined: 'Đã tham gia cuộc họp',
  reconnecting: 'Đang kết nối lại…',
  weakConnection: 'Kết nối yếu',
  left: 'Bạn đã rời cuộc họp.',
  ended: 'Cuộc họp đã kết thúc.',
  cancelled: 'Cuộc họp đã hủy.',
  rejoin: 'Tham gia lại',
  muteMicrophone: 'Tắt micro',
  unmuteMicrophone: 'Bật micro',
  cameraOff: 'Tắt camera',
  cameraOn: 'Bật camera',
  leave: 'Rời cuộc họp',
  you: 'Bạn',
  roles: { chair: 'chủ trì', secretary: 'thư ký', participant: 'người tham dự', observer: 'người dự thính', guest: 'khách mời' },
  participantCount: (count) => `${count} người tham dự`,
  microphoneOff: 'Micro đang tắt',
  enableSound: 'Bấm để nghe âm thanh',
  invalidLink: 'Đường dẫn tham gia không hợp lệ: thiếu mã cuộc họp hoặc mã mời. Hãy mở lại đường dẫn trong thư mời.',
  serverUnreachable: 'Không kết nối được máy chủ. Kiểm tra mạng và thử lại.',
  unexpectedAnswer: 'Máy chủ trả lời không đúng định dạng. Vui lòng thử lại sau.',
  noWebRtc: 'Trình duyệt này không hỗ trợ họp trực tuyến (WebRTC). Hãy dùng Chrome, Edge, Firefox hoặc Safari bản mới.',
  mediaServerUnreachable: 'Không kết nối được máy chủ phòng họp. Đang thử lại…',
  notAllowed: 'Không được phép vào phòng họp: mã vào phòng không đúng hoặc đã hết hạn. Hãy tải lại trang.',
  roomMissing: 'Phòng họp chưa sẵn sàng hoặc đã đóng.',
  roomFull: 'Phòng họp đã đủ số người phát hình tối đa.',
  noDevices: 'Không dùng được micro và camera. Bạn vẫn xem và nghe được cuộc họp; hãy cho phép trình duyệt dùng micro, camera rồi tải lại trang để phát biểu.',
  audioOnly: 'Không dùng được camera; bạn tham gia chỉ với micro.',
  mediaError: (reason) => `Lỗi phòng họp: ${reason}`,
  waitingForRoom: 'Phòng họp trực tuyến đang được chuẩn bị. Đang thử lại sau ít giây…',
  switchLanguage: 'English',
  iceRestarting: 'Mất kết nối mạng. Đang kết nối lại…',
  rejoining: 'Đang vào lại phòng họp…',
  reconnected: 'Đã kết nối lại.',
  audioOnlyOn: 'Chỉ âm thanh',
  audioOnlyOff: 'Bật lại hình ảnh',
  audioOnlyActive: 'Bạn đang ở chế độ chỉ âm thanh: không gửi và không nhận hình ảnh. Bạn vẫn được điểm danh và biểu quyết như mọi người.',
  proposeAudioOnly: 'Kết nối yếu: hình ảnh không giữ được. Chuyển sang chỉ âm thanh để nghe rõ hơn?',
  acceptAudioOnly: 'Chuyển sang chỉ âm thanh',
  videoPaused: 'Tạm dừng hình do kết nối yếu',
  quality: { good: 'Kết nối tốt', fair: 'Kết nối trung bình', poor: 'Kết nối yếu' },
  networkCheck: 'Kiểm tra kết nối',
  },
  en: {
  loading: 'Loading the meeting…',
  connecting: 'Connecting to the meeting room…',
  joined: 'You have joined the meeting',
  reconnecting: 'Reconnecting…',
  weakConnection: 'Weak connection',
  left: 'You have left the meeting.',
  ended: 'The meeting has ended.',
  cancelled: 'The meeting has been cancelled.',
  rejoin: 'Join again',
  muteMicrophone: 'Mute',
  unmuteMicrophone: 'Unmute',
  cameraOff: 'Camera off',
  cameraOn: 'Camera on',
  leave: 'Leave meeting',
  you: 'You',
  roles: { chair: 'chair', secretary: 'secretary', participant: 'participant', observer: 'observer', guest: 'guest' },
  participantCount: (count) => `${count} participant${count === 1 ? '' : 's'}`,
  microphoneOff: 'Microphone off',
  enableSound: 'Tap to hear the meeting',
  invalidLink: 'This join link is not valid: the meeting or invitation code is missing. Open the link from your invitation again.',
  serverUnreachable: 'Cannot reach the server. Check the network and try again.',
  unexpectedAnswer: 'The server sent an unexpected answer. Please try again later.',
  noWebRtc: 'This browser does not support online meetings (WebRTC). Use a recent Chrome, Edge, Firefox or Safari.',
  mediaServerUnreachable: 'Cannot reach the meeting server. Retrying…',
  notAllowed: 'Not allowed into the meeting room: the join token is wrong or has expired. Reload the page.',
  roomMissing: 'The meeting room is not ready or has closed.',
  roomFull: 'The meeting room has the maximum number of video senders.',
  noDevices: 'Microphone and camera are unavailable. You can still watch and listen; allow the browser to use them and reload the page to speak.',
  audioOnly: 'The camera is unavailable; you joined with the microphone only.',
  mediaError: (reason) => `Meeting room error: ${reason}`,
  waitingForRoom: 'The online room is being prepared. Retrying in a few seconds…',
  switchLanguage: 'Tiếng Việt',
  iceRestarting: 'The network connection dropped. Reconnecting…',
  rejoining: 'Joining the meeting room again…',
  reconnected: 'Reconnected.',
  audioOnlyOn: 'Audio only',
  audioOnlyOff: 'Turn video back on',
  audioOnlyActive: 'You are in audio-only mode: no video is sent or received. Attendance and voting work as for everyone else.',
  proposeAudioOnly: 'Weak connection: video cannot be held. Switch to audio only to hear clearly?',
  acceptAudioOnly: 'Switch to audio only',
  videoPaused: 'Video paused: weak connection',
  quality: { good: 'Good connection', fair: 'Fair connection', poor: 'Weak connection' },
  networkCheck: 'Connection check',
  },
};
const LANG = globalThis.localStorage?.getItem('hop.lang') === 'en' ? 'en' : 'vi';
const TEXT = TEXTS[LANG];

/** VideoRoom error codes (janus_videoroom.c) and their Vietnamese messages. */
const VIDEOROOM_ERRORS = { 426: TEXT.roomMissing, 432: TEXT.roomFull, 433: TEXT.notAllowed };
/**
 * Delays before a fresh join, by attempt. They stop growing at 5 s so that a
 * participant is back within seconds of the link returning; up to a second of
 * random jitter keeps many pages from returning to Janus at the same moment.
 */
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 5000];
const RECONNECT_JITTER_MS = 1000;
/** ICE state `disconnected` lasting this long starts an ICE restart, in milliseconds. */
const ICE_RESTART_AFTER_MS = 3000;
/** ICE restarts are repeated this often while the connection stays down, in milliseconds. */
const ICE_RESTART_INTERVAL_MS = 4000;
/** A connection still down this long after ICE restarts began is replaced by a fresh join, in milliseconds. */
const FRESH_JOIN_AFTER_MS = 20000;
/** Time the gateway has to respond to the reachability check of a connection that is down, in milliseconds. */
const GATEWAY_CHECK_TIMEOUT_MS = 1500;
/** Reachability checks are repeated this often while the gateway does not respond, in milliseconds. */
const GATEWAY_RECHECK_MS = 1000;
/** Failed reachability checks in a row that count as a cut link; one slow response on a busy machine does not. */
const GATEWAY_FAILED_CHECKS_FOR_CUT = 2;
/**
 * Time a connection has, once the gateway responds again after a cut, to
 * resume by itself before a fresh join replaces it, in milliseconds.
 */
const ICE_RESUME_GRACE_MS = 3000;
/** Simulcast bitrate caps when the join details carry none, in bits per second. */
const DEFAULT_LAYER_BITRATES = { high: 900_000, medium: 300_000, low: 100_000 };

const PLUGIN = 'janus.plugin.videoroom';

const elements = {
  title: document.getElementById('meeting-title'),
  time: document.getElementById('meeting-time'),
  status: document.getElementById('status'),
  count: document.getElementById('participant-count'),
  notice: document.getElementById('notice'),
  tiles: document.getElementById('tiles'),
  microphone: document.getElementById('microphone'),
  camera: document.getElementById('camera'),
  leave: document.getElementById('leave'),
  enableSound: document.getElementById('enable-sound'),
  controls: document.getElementById('controls'),
  audioOnly: document.getElementById('audio-only'),
  quality: document.getElementById('link-quality'),
};

const page = {
  /** loading | connecting | joined | reconnecting | left | ended | error */
  state: 'loading',
  details: undefined,
  janus: undefined,
  publisher: undefined,
  feedId: undefined,
  privateId: undefined,
  /** Remote publishers by feed id: { feedId, display, handle, tile, stream, webrtcUp }. */
  feeds: new Map(),
  /** Everyone in the room (publishers or not), by participant id, for the count. */
  present: new Map(),
  localTile: undefined,
  reconnectAttempt: 0,
  reconnectTimer: undefined,
  /** Connection counter, incremented on every (re)connection. Callbacks of older connections do nothing. */
  generation: 0,
  weak: false,
  weakTimer: undefined,
  /** Audio-only mode: no video sent and none received. */
  audioOnly: false,
  /** Whether the page proposed audio-only mode since the last change of mode. */
  audioOnlyProposed: false,
  /** ICE recovery of this connection: when it went down, and the restart timer. */
  iceDownSince: null,
  iceTimer: undefined,
  /** Counts of what the reconnect logic did, for tests and the benchmark. */
  recovery: { iceRestarts: 0, freshJoins: 0, lastRecoveredAt: null },
  /** Quality of this page's own publishing link: good | fair | poor. */
  linkQuality: 'good',
  statsTimer: undefined,
  /** The previous statistics of the publisher connection, for deltas. */
  publisherStats: undefined,
  /** Estimate of this page's download capacity (join-quality.js); start() measures it before joining. */
  link: createLinkEstimate(null, 0),
  /** The last reachability check of the gateway: { at, result: Promise<boolean> }. */
  gatewayCheck: undefined,
  /** Highest level for every subscription, also those made later (window.hop.capLevel, for the benchmark). */
  levelCap: LEVEL.high,
};

function setState(state, text) {
  page.state = state;
  document.body.dataset.state = state;
  elements.status.textContent = text ?? TEXT[state] ?? '';
  const inRoom = state === 'joined' || state === 'reconnecting' || state === 'connecting';
  elements.controls.hidden = !inRoom;
}

function showNotice(text) {
  elements.notice.textContent = text;
  elements.notice.hidden = !text;
}

function fail(text) {
  window.clearTimeout(page.reconnectTimer);
  setState('error', '');
  showNotice(text);
}

function formatMeetingTime(meeting) {
  const options = { timeZone: meeting.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  const day = new Intl.DateTimeFormat('vi-VN', { timeZone: meeting.timeZone, weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric' });
  const time = new Intl.DateTimeFormat('vi-VN', options);
  const start = new Date(meeting.startsAt);
  const end = new Date(meeting.endsAt);
  return `${day.format(start)}, ${time.format(start)}–${time.format(end)}`;
}

// ---------------------------------------------------------------- join API

/** Error codes the gateway marks retryable while a room is being prepared or Janus is briefly away. */
const RETRYABLE_JOIN_ERRORS = new Set(['ROOM_NOT_READY', 'MEDIA_UNAVAILABLE']);
/** Connection caps reached (lib/domain/media-capacity.ts): the page shows the gateway's message. */
/** `publish=0` in the page address joins without camera and microphone, to watch and listen only. */
const WATCH_ONLY = new URLSearchParams(window.location.search).get('publish') === '0';
const CAPACITY_ERRORS = new Set(['MEETING_FULL', 'MEDIA_SERVER_FULL']);
const JOIN_RETRY_DELAY_MS = 3000;
const JOIN_RETRY_LIMIT = 40;

/**
 * Returns the CSRF token of this browser's session, if it is signed in: the
 * gateway rejects a POST that carries a session cookie without it, even with an
 * invitation key.
 */
async function csrfToken() {
  const stored = globalThis.sessionStorage?.getItem('hop.csrf');
  if (stored) return stored;
  try {
    const response = await fetch('/api/v1/auth/me', { headers: { accept: 'application/json' } });
    const me = response.ok ? await response.json() : null;
    if (me?.csrfToken) globalThis.sessionStorage?.setItem('hop.csrf', me.csrfToken);
    return me?.csrfToken ?? null;
  } catch {
    return null;
  }
}

async function requestJoinDetails(meetingId, inviteKey) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const csrf = await csrfToken();
  if (csrf) headers['x-csrf-token'] = csrf;
  let response;
  try {
    response = await fetch(`/api/v1/meetings/${encodeURIComponent(meetingId)}/join`, {
      method: 'POST',
      headers,
      // Without an invitation key the gateway identifies the signed-in participant.
      body: JSON.stringify(inviteKey ? { inviteKey } : {}),
    });
  } catch {
    throw new Error(TEXT.serverUnreachable);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(response.ok ? TEXT.unexpectedAnswer : TEXT.serverUnreachable);
  }
  return { response, body };
}

/**
 * Asks the gateway for the join details. While the room is still being
 * prepared (or Janus is briefly unreachable) it shows that and requests them again every
 * few seconds, for up to two minutes.
 */
async function fetchJoinDetails(meetingId, inviteKey) {
  for (let attempt = 1; ; attempt++) {
    const { response, body } = await requestJoinDetails(meetingId, inviteKey);
    if (response.ok) {
      if (!body?.janus?.url || typeof body.janus.roomId !== 'number') throw new Error(TEXT.unexpectedAnswer);
      return body;
    }

    const code = body?.error?.code;
    const message = (LANG === 'en' ? body?.error?.message_en : body?.error?.message) || TEXT.serverUnreachable;
    if (!RETRYABLE_JOIN_ERRORS.has(code) || attempt >= JOIN_RETRY_LIMIT) throw new Error(message);
    setState('loading', TEXT.waitingForRoom);
    await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_DELAY_MS));
  }
}

// ---------------------------------------------------------------- tiles

function initials(name) {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(-2)
    .map((word) => word[0].toUpperCase())
    .join('');
}

function createTile(name, { local = false, avatarName = name } = {}) {
  const tile = document.createElement('figure');
  tile.className = local ? 'tile local' : 'tile';
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  // The local preview is muted so that people do not hear themselves.
  video.muted = local;
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.textContent = initials(avatarName);
  avatar.setAttribute('aria-hidden', 'true');
  const caption = document.createElement('figcaption');
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = name;
  const microphone = document.createElement('span');
  microphone.className = 'mic-off';
  microphone.textContent = TEXT.microphoneOff;
  microphone.hidden = true;
  const quality = document.createElement('span');
  quality.className = 'quality';
  quality.hidden = true;
  caption.append(label, microphone, quality);
  tile.append(video, avatar, caption);
  tile.dataset.video = 'off';
  elements.tiles.append(tile);
  return { element: tile, video, microphone, quality };
}

/** Shows a connection quality badge on a tile: good stays quiet, fair and poor show text. */
function setTileQuality(tile, quality, paused = false) {
  tile.element.dataset.quality = quality;
  tile.quality.textContent = paused ? TEXT.videoPaused : TEXT.quality[quality];
  tile.quality.hidden = quality === 'good' && !paused;
}

function setTileVideo(tile, on) {
  tile.element.dataset.video = on ? 'on' : 'off';
}

function playTile(tile) {
  const playing = tile.video.play();
  if (playing) {
    playing.catch((error) => {
      // Browsers block playback with sound until the person touches the page.
      if (error.name === 'NotAllowedError') elements.enableSound.hidden = false;
    });
  }
}

function updateCount() {
  elements.count.textContent = TEXT.participantCount(page.present.size + 1);
}

function clearRoom() {
  for (const feed of page.feeds.values()) {
    window.clearTimeout(feed.ice.timer);
    feed.tile.element.remove();
  }
  window.clearTimeout(page.publisherIce?.timer);
  page.publisherIce = undefined;
  page.publisherStats = undefined;
  page.feeds.clear();
  page.present.clear();
  page.localTile?.element.remove();
  page.localTile = undefined;
  page.feedId = undefined;
  page.privateId = undefined;
  page.publisher = undefined;
  updateCount();
}

// ---------------------------------------------------------------- Janus

function initJanus() {
  return new Promise((resolve) => {
    Janus.init({
      debug: ['warn', 'error'],
      dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
      callback: resolve,
    });
  });
}

function videoRoomError(message) {
  return VIDEOROOM_ERRORS[message.error_code] ?? TEXT.mediaError(message.error ?? '');
}

/** Returns the gateway's WebSocket URL for the Janus API, ws:// or wss:// like the page itself. */
function signallingUrl(details) {
  const url = new URL(details.janus.url, window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', details.janus.token);
  return url.toString();
}

function connect() {
  const generation = ++page.generation;
  const details = page.details;
  setState(page.reconnectAttempt > 0 ? 'reconnecting' : 'connecting', page.reconnectAttempt > 0 ? TEXT.rejoining : undefined);
  let connected = false;

  page.janus = new Janus({
    // The gateway relays the Janus API for this meeting only; the join token
    // proves who is connecting, and the gateway adds the room PIN itself.
    server: signallingUrl(details),
    // No STUN or TURN: Janus and the browsers share a network, and the
    // library's default (a public Google STUN server) must not be contacted.
    iceServers: [],
    success: () => {
      if (generation !== page.generation) return;
      connected = true;
      attachPublisher(generation);
    },
    error: (cause) => {
      if (generation !== page.generation) return;
      console.warn('Janus session error', cause);
      // The proxy rejects a session at a connection cap with the code in the reason, so the cap message is shown on any attempt.
      const refusal = capacityRefusalMessage(cause, LANG);
      if (refusal) showNotice(refusal);
      else if (!connected && page.reconnectAttempt === 0) showNotice(TEXT.mediaServerUnreachable);
      scheduleReconnect();
    },
    destroyed: () => undefined,
  });
}

function scheduleReconnect() {
  if (page.state === 'left' || page.state === 'ended' || page.state === 'error') return;
  window.clearTimeout(page.reconnectTimer);
  const delay = RECONNECT_DELAYS_MS[Math.min(page.reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)] + Math.random() * RECONNECT_JITTER_MS;
  page.reconnectAttempt += 1;
  page.recovery.freshJoins += 1;
  setState('reconnecting', TEXT.rejoining);
  const old = page.janus;
  page.generation += 1;
  clearRoom();
  try {
    old?.destroy({ cleanupHandles: true, notifyDestroyed: false });
  } catch (error) {
    console.warn('destroying the old Janus session failed', error);
  }
  page.reconnectTimer = window.setTimeout(() => void refreshDetailsAndConnect(), delay);
}

/**
 * Asks for fresh join details before reconnecting, because the Janus token in
 * them is short-lived. Keeps the old details when the gateway cannot be reached,
 * and ends the page when the meeting was cancelled or ended meanwhile.
 */
async function refreshDetailsAndConnect() {
  const inviteKey = new URLSearchParams(window.location.search).get('k');
  try {
    const { response, body } = await requestJoinDetails(page.details.meetingId, inviteKey);
    if (response.ok && body?.janus) page.details = body;
    else if (body?.error?.code === 'MEETING_CANCELLED' || body?.error?.code === 'MEETING_ENDED') {
      endMeeting();
      return;
    } else if (CAPACITY_ERRORS.has(body?.error?.code)) {
      // The meeting or its server is full: show the reason and retry later instead of connecting to Janus.
      showNotice((LANG === 'en' ? body.error.message_en : body.error.message) || TEXT.serverUnreachable);
      scheduleReconnect();
      return;
    }
  } catch {
    // The gateway is unreachable too: try Janus with the details we have.
  }
  connect();
}

function attachPublisher(generation) {
  const details = page.details;
  page.janus.attach({
    plugin: PLUGIN,
    opaqueId: `hop-${details.participantId}`,
    success: (handle) => {
      if (generation !== page.generation) return;
      page.publisher = handle;
      page.publisherIce = newIceWatch();
      handle.send({
        message: {
          request: 'join',
          ptype: 'publisher',
          room: details.janus.roomId,
        },
      });
    },
    error: (cause) => {
      console.warn('attaching the VideoRoom plugin failed', cause);
      scheduleReconnect();
    },
    iceState: (state) => {
      if (generation !== page.generation || !page.publisherIce) return;
      watchIce(generation, page.publisherIce, state, () => restartPublisherIce());
    },
    webrtcState: (up) => {
      if (generation !== page.generation) return;
      if (up) {
        if (page.reconnectAttempt > 0) noteRecovered();
        page.reconnectAttempt = 0;
        setState('joined');
        prioritizeAudio();
        if (page.audioOnly) applyPublisherAudioOnly(true);
        startStats();
      } else {
        // Janus closed our media connection (for example after a DTLS error): start over.
        scheduleReconnect();
      }
    },
    slowLink: () => markWeakConnection(),
    onmessage: (message, jsep) => {
      if (generation !== page.generation) return;
      handlePublisherMessage(generation, message, jsep);
    },
    onlocaltrack: (track, on) => {
      if (generation !== page.generation) return;
      showLocalTrack(track, on);
    },
    onremotetrack: () => undefined,
    oncleanup: () => undefined,
  });
}

function handlePublisherMessage(generation, message, jsep) {
  const event = message.videoroom;
  if (event === 'joined') {
    page.feedId = message.id;
    page.privateId = message.private_id;
    showNotice('');
    for (const attendee of message.attendees ?? []) page.present.set(attendee.id, attendee.display ?? '');
    for (const publisher of message.publishers ?? []) page.present.set(publisher.id, publisher.display ?? '');
    updateCount();
    if (WATCH_ONLY) {
      // Watch-only: in the room without camera and microphone.
      setState('joined');
      startStats();
    } else {
      publish(generation, { audio: true, video: true });
    }
    for (const publisher of message.publishers ?? []) subscribe(generation, publisher);
  } else if (event === 'destroyed') {
    endMeeting();
  } else if (event === 'event') {
    if (message.error_code) {
      console.warn('VideoRoom error', message.error_code, message.error);
      if (!page.feedId) {
        fail(videoRoomError(message));
        return;
      }
      showNotice(videoRoomError(message));
    }
    if (message.joining) {
      page.present.set(message.joining.id, message.joining.display ?? '');
      updateCount();
    }
    for (const publisher of message.publishers ?? []) {
      page.present.set(publisher.id, publisher.display ?? '');
      updateCount();
      subscribe(generation, publisher);
    }
    if (message.leaving !== undefined) {
      if (message.leaving === 'ok') return;
      removeFeed(message.leaving);
      page.present.delete(message.leaving);
      updateCount();
    }
    if (message.unpublished !== undefined && message.unpublished !== 'ok') removeFeed(message.unpublished);
    if (message.kicked !== undefined) removeFeed(message.kicked);
  }
  if (jsep) {
    if (page.publisherIce) page.publisherIce.restartPending = false;
    page.publisher?.handleRemoteJsep({ jsep });
  }
}

/** Simulcast bitrate caps from the room settings in the join details, in bits per second. */
function layerBitrates() {
  const layers = page.details?.media?.layers;
  return layers ? { high: layers.high, medium: layers.medium, low: layers.low } : DEFAULT_LAYER_BITRATES;
}

/**
 * Publishes the microphone and the camera; the camera in three simulcast
 * layers (1280×720, 640×360 and 320×180 when the camera gives 720p), each
 * capped at the room's layer bitrate. Without a camera it retries with the
 * microphone only, and without both the person stays in the room to watch.
 */
function publish(generation, { audio, video }) {
  const handle = page.publisher;
  const tracks = [];
  if (audio) tracks.push({ type: 'audio', capture: true, recv: false });
  if (video) tracks.push({ type: 'video', capture: true, recv: false, simulcast: true, simulcastMaxBitrates: layerBitrates() });
  handle.createOffer({
    tracks,
    success: (jsep) => {
      if (generation !== page.generation) return;
      handle.send({ message: { request: 'configure', audio, video }, jsep });
      applyRememberedMutes(handle);
      if (!video) showNotice(TEXT.audioOnly);
      updateControls();
    },
    error: (error) => {
      if (generation !== page.generation) return;
      console.warn('publishing failed', error);
      if (video) {
        publish(generation, { audio: true, video: false });
      } else {
        showNotice(TEXT.noDevices);
        setState('joined');
      }
    },
  });
}

/** Gives the audio sender a higher priority than video, so that a congested uplink drops video first. */
function prioritizeAudio() {
  const pc = page.publisher?.webrtcStuff?.pc;
  if (!pc) return;
  for (const sender of pc.getSenders()) {
    const kind = sender.track?.kind;
    if (kind !== 'audio' && kind !== 'video') continue;
    const parameters = sender.getParameters();
    if (!parameters.encodings?.length) continue;
    for (const encoding of parameters.encodings) {
      encoding.priority = kind === 'audio' ? 'high' : 'low';
      encoding.networkPriority = kind === 'audio' ? 'high' : 'low';
    }
    sender.setParameters(parameters).catch((error) => console.warn('setting the sender priority failed', kind, error));
  }
}

/**
 * Stops or resumes sending video without a renegotiation: every simulcast
 * encoding is deactivated, so no video bytes leave the browser.
 */
function applyPublisherAudioOnly(on) {
  const pc = page.publisher?.webrtcStuff?.pc;
  if (!pc) return;
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind !== 'video') continue;
    const parameters = sender.getParameters();
    for (const encoding of parameters.encodings ?? []) encoding.active = !on;
    sender.setParameters(parameters).catch((error) => console.warn('switching the video encodings failed', error));
  }
}

function showLocalTrack(track, on) {
  if (!page.localTile) {
    const role = TEXT.roles[page.details.role];
    page.localTile = createTile(`${page.details.displayName} (${TEXT.you}${role ? `, ${role}` : ''})`, { local: true, avatarName: page.details.displayName });
    page.localTile.stream = new MediaStream();
    page.localTile.video.srcObject = page.localTile.stream;
  }
  const tile = page.localTile;
  if (track.kind !== 'video') return;
  for (const existing of tile.stream.getVideoTracks()) tile.stream.removeTrack(existing);
  if (on) {
    tile.stream.addTrack(track);
    playTile(tile);
  }
  setTileVideo(tile, on);
}

function subscribe(generation, publisher) {
  const feedId = publisher.id;
  if (feedId === page.feedId || page.feeds.has(feedId)) return;
  if (publisher.dummy) return;
  const display = publisher.display ?? '';
  const now = Date.now();
  const feed = {
    feedId,
    display,
    handle: undefined,
    tile: createTile(display),
    stream: new MediaStream(),
    webrtcUp: false,
    ice: newIceWatch(),
    /** mid of the video stream in this subscription, from Janus's attached/updated event. */
    videoMid: null,
    layer: createLayerState(initialLevel(page.link.kbps, layerBitrates(), page.feeds.size + 1), now, page.audioOnly ? LEVEL.off : page.levelCap),
    appliedLevel: null,
    /** Substream and temporal layer Janus reported forwarding. */
    receivedSubstream: null,
    receivedTemporal: null,
    slowLinks: 0,
    previousStats: null,
    quality: 'good',
    /** The last 50 level changes, for tests and the benchmark: { at, level }. */
    history: [],
  };
  feed.tile.video.srcObject = feed.stream;
  page.feeds.set(feedId, feed);

  page.janus.attach({
    plugin: PLUGIN,
    opaqueId: `hop-${page.details.participantId}`,
    success: (handle) => {
      if (generation !== page.generation || !page.feeds.has(feedId)) {
        handle.detach();
        return;
      }
      feed.handle = handle;
      handle.send({
        message: {
          request: 'join',
          ptype: 'subscriber',
          room: page.details.janus.roomId,
          feed: feedId,
          private_id: page.privateId,
        },
      });
    },
    error: (cause) => {
      console.warn('attaching a subscriber failed', feedId, cause);
      removeFeed(feedId);
    },
    iceState: (state) => {
      if (generation !== page.generation) return;
      watchIce(generation, feed.ice, state, () => feed.handle?.send({ message: { request: 'configure', restart: true } }));
    },
    webrtcState: (up) => {
      feed.webrtcUp = up;
      if (up && generation === page.generation) applyLevel(feed, feed.layer.level);
    },
    slowLink: () => {
      feed.slowLinks += 1;
      markWeakConnection();
    },
    onmessage: (message, jsep) => {
      if (generation !== page.generation) return;
      if (message.error_code) {
        console.warn('subscribing failed', feedId, message.error_code, message.error);
        removeFeed(feedId);
        return;
      }
      handleSubscriberEvent(feed, message);
      // Janus forwards its default substream, the highest, until a configure
      // request selects another, so the level is sent before media flows.
      if (message.videoroom === 'attached' && feed.appliedLevel === null) applyLevel(feed, feed.layer.level);
      if (jsep) {
        feed.ice.restartPending = false;
        feed.handle.createAnswer({
          jsep,
          // Only data channels are named, so audio and video are accepted as
          // receive-only: nothing is captured for a subscription.
          tracks: [{ type: 'data' }],
          success: (answer) => {
            feed.handle.send({ message: { request: 'start', room: page.details.janus.roomId }, jsep: answer });
          },
          error: (error) => {
            console.warn('sending the answer to a subscription failed', feedId, error);
            removeFeed(feedId);
          },
        });
      }
    },
    onremotetrack: (track, mid, on, metadata) => {
      if (generation !== page.generation) return;
      showRemoteTrack(feed, track, on, metadata?.reason);
    },
    oncleanup: () => {
      for (const track of feed.stream.getTracks()) feed.stream.removeTrack(track);
      setTileVideo(feed.tile, false);
    },
  });
}

/** Records the video mid of a subscription and the layers Janus reports forwarding. */
function handleSubscriberEvent(feed, message) {
  if (Array.isArray(message.streams)) {
    const video = message.streams.find((stream) => stream.type === 'video' && stream.active !== false);
    if (video) feed.videoMid = video.mid;
  }
  if (typeof message.substream === 'number') feed.receivedSubstream = message.substream;
  if (typeof message.temporal === 'number') feed.receivedTemporal = message.temporal;
}

/** Asks Janus to forward the level's layer of a subscription's video, or no video at level off. */
function applyLevel(feed, level) {
  if (!feed.handle || feed.videoMid === null) return;
  const target = LEVELS[level];
  const stream = { mid: feed.videoMid, send: target.send };
  if (target.send) {
    stream.substream = target.substream;
    stream.temporal = target.temporal;
  }
  feed.handle.send({ message: { request: 'configure', streams: [stream] } });
  feed.appliedLevel = level;
  feed.history.push({ at: Date.now(), level: target.name });
  if (feed.history.length > 50) feed.history.shift();
  feed.tile.element.dataset.layer = target.name;
  setTileQuality(feed.tile, feed.quality, level === LEVEL.off && !page.audioOnly);
}

/**
 * Download throughput the connection check stored in this browser, in
 * kbit/s, if it ran in the last hour. The page uses it when its own probe fails.
 */
function storedDownloadKbps() {
  try {
    const stored = JSON.parse(globalThis.localStorage?.getItem('hop.networkCheck') ?? 'null');
    if (stored && Date.now() - stored.at < 3_600_000) return stored.downloadKbps;
  } catch {
    // A malformed value counts as no measurement.
  }
  return undefined;
}

function showRemoteTrack(feed, track, on, reason) {
  const tile = feed.tile;
  if (track.kind === 'audio') {
    if (on) {
      if (!feed.stream.getTrackById(track.id)) feed.stream.addTrack(track);
      tile.microphone.hidden = true;
    } else if (reason === 'mute') {
      tile.microphone.hidden = false;
    } else {
      feed.stream.removeTrack(track);
    }
  } else if (track.kind === 'video') {
    if (on) {
      if (!feed.stream.getTrackById(track.id)) feed.stream.addTrack(track);
      setTileVideo(tile, true);
    } else {
      if (reason !== 'mute') feed.stream.removeTrack(track);
      setTileVideo(tile, false);
    }
  }
  playTile(tile);
}

function removeFeed(feedId) {
  const feed = page.feeds.get(feedId);
  if (!feed) return;
  page.feeds.delete(feedId);
  feed.tile.element.remove();
  try {
    feed.handle?.detach();
  } catch (error) {
    console.warn('detaching a subscriber failed', feedId, error);
  }
}

function markWeakConnection() {
  if (page.state !== 'joined') return;
  page.weak = true;
  elements.status.textContent = TEXT.weakConnection;
  window.clearTimeout(page.weakTimer);
  page.weakTimer = window.setTimeout(() => {
    page.weak = false;
    if (page.state === 'joined') elements.status.textContent = TEXT.joined;
  }, 10_000);
}

// ---------------------------------------------------------------- recovery

/**
 * Creates the ICE recovery state of one peer connection. `restartPending`
 * is set while an ICE restart waits for its SDP exchange. `failedChecks`
 * counts failed reachability checks of the gateway in a row, and
 * `gatewayLostAt` and `gatewayBackAt` record when the gateway stopped and
 * started responding during the current outage.
 */
function newIceWatch() {
  return { state: 'new', downSince: null, timer: undefined, restartPending: false, failedChecks: 0, gatewayLostAt: null, gatewayBackAt: null };
}

/** Returns whether the gateway responds to an HTTP request; any status counts. One check serves every connection for a second. */
function gatewayReachable() {
  const now = Date.now();
  if (page.gatewayCheck && now - page.gatewayCheck.at < GATEWAY_RECHECK_MS) return page.gatewayCheck.result;
  const result = fetch('/api/v1/network-check/ping', { cache: 'no-store', signal: AbortSignal.timeout(GATEWAY_CHECK_TIMEOUT_MS) }).then(
    () => true,
    () => false,
  );
  page.gatewayCheck = { at: now, result };
  return result;
}

/**
 * Follows one peer connection's ICE state. A connection down for
 * ICE_RESTART_AFTER_MS gets an ICE restart (`restart`) while the gateway
 * responds. When the gateway does not respond either, the whole link is
 * cut. The page then sends no restart, because one delivered late would
 * break the session that resumes by itself when the link returns. Once the
 * gateway responds again, the connection has ICE_RESUME_GRACE_MS to resume before a
 * fresh join with new join details replaces it, as it is after
 * FRESH_JOIN_AFTER_MS in any case.
 */
function watchIce(generation, watch, state, restart) {
  watch.state = state;
  if (state === 'connected' || state === 'completed') {
    watch.restartPending = false;
    watch.failedChecks = 0;
    watch.gatewayLostAt = null;
    watch.gatewayBackAt = null;
    if (watch.downSince !== null) {
      watch.downSince = null;
      window.clearTimeout(watch.timer);
      watch.timer = undefined;
      noteRecovered();
    }
    updateConnectionState();
    return;
  }
  if (state !== 'disconnected' && state !== 'failed') return;
  watch.downSince ??= Date.now();
  updateConnectionState();
  if (watch.timer !== undefined) return;
  const tick = async () => {
    watch.timer = undefined;
    if (generation !== page.generation || watch.downSince === null) return;
    if (Date.now() - watch.downSince >= FRESH_JOIN_AFTER_MS) {
      scheduleReconnect();
      return;
    }

    const reachable = await gatewayReachable();
    if (generation !== page.generation || watch.downSince === null) return;
    if (!reachable) {
      watch.failedChecks += 1;
      if (watch.failedChecks >= GATEWAY_FAILED_CHECKS_FOR_CUT) {
        watch.gatewayLostAt ??= Date.now();
        watch.gatewayBackAt = null;
      }
      watch.timer = window.setTimeout(tick, GATEWAY_RECHECK_MS);
      return;
    }
    watch.failedChecks = 0;
    if (watch.gatewayLostAt !== null) {
      // The signalling socket may stay stalled for seconds after a cut (TCP
      // retransmission backoff), so a fresh join, which opens a new one,
      // replaces a connection that does not resume.
      watch.gatewayBackAt ??= Date.now();
      if (Date.now() - watch.gatewayBackAt >= ICE_RESUME_GRACE_MS) {
        scheduleReconnect();
        return;
      }
      watch.timer = window.setTimeout(tick, GATEWAY_RECHECK_MS);
      return;
    }

    // One restart at a time: restarts repeated before Janus replied would
    // overtake each other and keep ICE from settling.
    if (!watch.restartPending) {
      page.recovery.iceRestarts += 1;
      watch.restartPending = true;
      restart();
    }
    watch.timer = window.setTimeout(tick, ICE_RESTART_INTERVAL_MS);
  };
  watch.timer = window.setTimeout(tick, state === 'failed' ? 0 : ICE_RESTART_AFTER_MS);
}

/** Sends the publisher's ICE restart offer. The SDP answer of Janus arrives as a jsep on the publisher handle. */
function restartPublisherIce() {
  const handle = page.publisher;
  handle?.createOffer({
    iceRestart: true,
    success: (jsep) => handle.send({ message: { request: 'configure' }, jsep }),
    error: (error) => {
      console.warn('the ICE restart offer failed', error);
      if (page.publisherIce) page.publisherIce.restartPending = false;
    },
  });
}

/** Shows "reconnecting" while any of this page's connections is down, and "joined" again after. */
function updateConnectionState() {
  if (page.state !== 'joined' && page.state !== 'reconnecting') return;
  const watches = [page.publisherIce, ...[...page.feeds.values()].map((feed) => feed.ice)].filter(Boolean);
  const down = watches.some((watch) => watch.downSince !== null);
  if (down) setState('reconnecting', TEXT.iceRestarting);
  else if (page.state === 'reconnecting' && page.reconnectAttempt === 0) setState('joined');
}

function noteRecovered() {
  page.recovery.lastRecoveredAt = Date.now();
  if (page.state === 'reconnecting') showNotice(TEXT.reconnected);
  window.setTimeout(() => {
    if (elements.notice.textContent === TEXT.reconnected) showNotice('');
  }, 4000);
}

// ---------------------------------------------------------------- link quality

/**
 * Bytes each media packet takes on the link beyond what getStats counts
 * (payload and RTP header): IPv4 and UDP headers (28) and the SRTP
 * authentication tag (10 or 16, by cipher).
 */
const PACKET_OVERHEAD_BYTES = 40;

/** Reads the counters the layer policy needs from one peer connection's statistics. */
async function readStats(pc) {
  const totals = {
    /** When the statistics were read, in milliseconds. */
    at: Date.now(),
    /** Bytes of every received media packet on the link, headers included. */
    linkBytes: 0,
    packetsReceived: 0,
    packetsLost: 0,
    freezes: 0,
    frameHeight: null,
    framesDecoded: 0,
    audioSamples: 0,
    concealedSamples: 0,
    audioBytes: 0,
    videoBytes: 0,
    rtt: null,
    remoteLoss: null,
  };
  const report = await pc.getStats();
  report.forEach((entry) => {
    if (entry.type === 'inbound-rtp') {
      totals.packetsReceived += entry.packetsReceived ?? 0;
      totals.packetsLost += Math.max(0, entry.packetsLost ?? 0);
      totals.linkBytes += (entry.bytesReceived ?? 0) + (entry.headerBytesReceived ?? 0) + (entry.packetsReceived ?? 0) * PACKET_OVERHEAD_BYTES;
      if (entry.kind === 'video') {
        totals.freezes += entry.freezeCount ?? 0;
        totals.framesDecoded += entry.framesDecoded ?? 0;
        totals.videoBytes += entry.bytesReceived ?? 0;
        if (entry.frameHeight) totals.frameHeight = entry.frameHeight;
      } else if (entry.kind === 'audio') {
        totals.audioSamples += entry.totalSamplesReceived ?? 0;
        totals.concealedSamples += entry.concealedSamples ?? 0;
        totals.audioBytes += entry.bytesReceived ?? 0;
      }
    } else if (entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded') {
      if (typeof entry.currentRoundTripTime === 'number') totals.rtt = entry.currentRoundTripTime;
    } else if (entry.type === 'remote-inbound-rtp' && entry.kind === 'audio') {
      if (typeof entry.fractionLost === 'number') totals.remoteLoss = entry.fractionLost;
      if (typeof entry.roundTripTime === 'number') totals.rtt = entry.roundTripTime;
    }
  });
  return totals;
}

function startStats() {
  if (page.statsTimer !== undefined) return;
  page.statsTimer = window.setInterval(() => {
    sampleLinks().catch((error) => console.warn('sampling the connection statistics failed', error));
  }, POLICY.sampleMs);
}

/** Returns the layer policy's sample of one subscription from two readings of its statistics. */
function sampleOf(feed, stats, previous) {
  const received = stats.packetsReceived - previous.packetsReceived;
  const lost = stats.packetsLost - previous.packetsLost;
  const seconds = (stats.at - previous.at) / 1000;
  return {
    loss: received + lost >= 20 ? Math.max(0, lost) / (received + lost) : null,
    freezes: stats.freezes - previous.freezes,
    rtt: stats.rtt,
    slowLinks: feed.slowLinks,
    receivedKbps: seconds > 0 ? ((stats.linkBytes - previous.linkBytes) * 8) / 1000 / seconds : null,
  };
}

/**
 * Samples every subscription, moves each to the level the link carries,
 * probes the link when a higher level might fit, and rates this page's own uplink.
 */
async function sampleLinks() {
  if (page.state !== 'joined' && page.state !== 'reconnecting') return;
  const now = Date.now();
  const round = [];
  for (const feed of [...page.feeds.values()]) {
    const pc = feed.handle?.webrtcStuff?.pc;
    if (!pc || !feed.webrtcUp) continue;
    const stats = await readStats(pc);
    const previous = feed.previousStats;
    feed.previousStats = stats;
    feed.latestStats = stats;
    if (!previous) continue;
    round.push({ feed, state: feed.layer, sample: sampleOf(feed, stats, previous) });
    feed.slowLinks = 0;
  }

  let videoPausedByLink = false;
  if (round.length > 0) {
    const plan = planRound(page.link, round, layerBitrates(), now);
    round.forEach(({ feed }, index) => {
      const level = plan.levels[index];
      feed.quality = feed.layer.quality;
      if (level !== feed.appliedLevel) applyLevel(feed, level);
      else setTileQuality(feed.tile, feed.quality, level === LEVEL.off && !page.audioOnly);
      if (level === LEVEL.off && !page.audioOnly) videoPausedByLink = true;
    });
    if (plan.probe) void probeLink();
  }

  const pc = page.publisher?.webrtcStuff?.pc;
  if (pc) {
    const own = await readStats(pc);
    page.linkQuality = rateLink(own.remoteLoss, own.rtt);
    elements.quality.textContent = TEXT.quality[page.linkQuality];
    elements.quality.dataset.quality = page.linkQuality;
    if (page.localTile) setTileQuality(page.localTile, page.linkQuality);
  }

  if (videoPausedByLink && !page.audioOnly && !page.audioOnlyProposed) proposeAudioOnly();
}

/** Measures the link with a short download while the media keeps flowing, and updates the estimate. */
async function probeLink() {
  startProbe(page.link, Date.now());
  const started = Date.now();
  const before = await receivedLinkBytes();
  const probeKbps = await probeDownloadKbps();
  const after = await receivedLinkBytes();
  const seconds = (Date.now() - started) / 1000;
  let mediaBytes = 0;
  for (const [feedId, bytes] of after) {
    if (before.has(feedId)) mediaBytes += Math.max(0, bytes - before.get(feedId));
  }
  finishProbe(page.link, probeKbps, (mediaBytes * 8) / 1000 / seconds, Date.now());
}

/** Returns the bytes each subscription has received on the link so far (see readStats), by feed id. */
async function receivedLinkBytes() {
  const bytes = new Map();
  for (const feed of [...page.feeds.values()]) {
    const pc = feed.handle?.webrtcStuff?.pc;
    if (pc && feed.webrtcUp) bytes.set(feed.feedId, (await readStats(pc)).linkBytes);
  }
  return bytes;
}

/** Offers audio-only mode once, when the link could not hold the video of a subscription. */
function proposeAudioOnly() {
  page.audioOnlyProposed = true;
  const text = document.createElement('span');
  text.textContent = TEXT.proposeAudioOnly;
  const accept = document.createElement('button');
  accept.type = 'button';
  accept.textContent = TEXT.acceptAudioOnly;
  accept.addEventListener('click', () => {
    setAudioOnly(true);
  });
  elements.notice.replaceChildren(text, document.createElement('br'), accept);
  elements.notice.hidden = false;
}

/**
 * Turns audio-only mode on or off: no video is sent (the simulcast encodings
 * are deactivated) and none is received (every subscription is capped at
 * level off). The participant stays a publisher in the room, so attendance
 * and voting see them as before.
 */
function setAudioOnly(on) {
  page.audioOnly = on;
  page.audioOnlyProposed = false;
  globalThis.sessionStorage?.setItem('hop.audioOnly', on ? '1' : '');
  applyPublisherAudioOnly(on);
  const now = Date.now();
  for (const feed of page.feeds.values()) {
    const level = on
      ? setMaxLevel(feed.layer, LEVEL.off, now)
      : (feed.layer = createLayerState(initialLevel(page.link.kbps, layerBitrates(), page.feeds.size), now, page.levelCap)).level;
    applyLevel(feed, level);
  }
  showNotice(on ? TEXT.audioOnlyActive : '');
  updateControls();
}

/**
 * Shows "cancelled" instead of "ended" when the room closed because the
 * meeting was cancelled: asking for join details again returns
 * MEETING_CANCELLED then, and needs no more rights than joining did.
 */
async function explainEnd() {
  const inviteKey = new URLSearchParams(window.location.search).get('k');
  try {
    const { body } = await requestJoinDetails(page.details.meetingId, inviteKey);
    if (page.state === 'ended' && body?.error?.code === 'MEETING_CANCELLED') setState('ended', TEXT.cancelled);
  } catch {
    // The generic "ended" text stays.
  }
}

function endMeeting() {
  page.generation += 1;
  window.clearTimeout(page.reconnectTimer);
  clearRoom();
  page.janus?.destroy({ cleanupHandles: true });
  setState('ended');
  void explainEnd();
}

// ---------------------------------------------------------------- controls

function updateControls() {
  const handle = page.publisher;
  const audioMuted = handle ? handle.isAudioMuted() : false;
  const videoMuted = handle ? handle.isVideoMuted() : false;
  elements.microphone.textContent = audioMuted ? TEXT.unmuteMicrophone : TEXT.muteMicrophone;
  elements.microphone.setAttribute('aria-pressed', String(audioMuted));
  elements.camera.textContent = videoMuted ? TEXT.cameraOn : TEXT.cameraOff;
  elements.camera.setAttribute('aria-pressed', String(videoMuted));
  elements.audioOnly.textContent = page.audioOnly ? TEXT.audioOnlyOff : TEXT.audioOnlyOn;
  elements.audioOnly.setAttribute('aria-pressed', String(page.audioOnly));
  if (page.localTile) {
    page.localTile.microphone.hidden = !audioMuted;
    setTileVideo(page.localTile, !videoMuted && page.localTile.stream.getVideoTracks().length > 0);
  }
}

// The person's microphone and camera choices outlive a reconnect or a reload
// (the language switch reloads), so nobody is unmuted without pressing a button.
const MUTE_KEYS = { audio: 'hop.microphoneOff', video: 'hop.cameraOff' };

function rememberMuted(kind, muted) {
  if (muted) globalThis.sessionStorage?.setItem(MUTE_KEYS[kind], '1');
  else globalThis.sessionStorage?.removeItem(MUTE_KEYS[kind]);
}

function applyRememberedMutes(handle) {
  if (globalThis.sessionStorage?.getItem(MUTE_KEYS.audio) && !handle.isAudioMuted()) handle.muteAudio();
  if (globalThis.sessionStorage?.getItem(MUTE_KEYS.video) && !handle.isVideoMuted()) handle.muteVideo();
}

function toggleMicrophone() {
  const handle = page.publisher;
  if (!handle) return;
  if (handle.isAudioMuted()) handle.unmuteAudio();
  else handle.muteAudio();
  rememberMuted('audio', handle.isAudioMuted());
  updateControls();
}

function toggleCamera() {
  const handle = page.publisher;
  if (!handle) return;
  if (handle.isVideoMuted()) handle.unmuteVideo();
  else handle.muteVideo();
  rememberMuted('video', handle.isVideoMuted());
  updateControls();
}

function leave() {
  if (page.state === 'left') return;
  page.generation += 1;
  window.clearTimeout(page.reconnectTimer);
  const janus = page.janus;
  const publisher = page.publisher;
  hand?.lowerOnLeave();
  clearRoom();
  setState('left');
  // The session is destroyed once Janus confirms the leave, or after 2 seconds without a reply.
  const destroySession = () => janus?.destroy({ cleanupHandles: true });
  const fallback = window.setTimeout(destroySession, 2000);
  const finish = () => {
    window.clearTimeout(fallback);
    destroySession();
  };
  if (publisher) {
    publisher.send({ message: { request: 'leave' }, success: finish, error: finish });
  } else {
    finish();
  }
  const again = document.createElement('button');
  again.type = 'button';
  again.textContent = TEXT.rejoin;
  again.addEventListener('click', () => window.location.reload());
  elements.notice.replaceChildren(again);
  elements.notice.hidden = false;
}

elements.microphone.addEventListener('click', toggleMicrophone);
elements.camera.addEventListener('click', toggleCamera);
elements.leave.addEventListener('click', leave);
elements.audioOnly.addEventListener('click', () => setAudioOnly(!page.audioOnly));
elements.enableSound.addEventListener('click', () => {
  elements.enableSound.hidden = true;
  for (const feed of page.feeds.values()) playTile(feed.tile);
});

// ---------------------------------------------------------------- test hooks

/** Sums inbound-rtp bytes per media kind from a peer connection's statistics. */
async function inboundBytes(peerConnection) {
  const totals = { audio: 0, video: 0 };
  if (!peerConnection) return totals;
  const report = await peerConnection.getStats();
  report.forEach((entry) => {
    if (entry.type === 'inbound-rtp' && (entry.kind === 'audio' || entry.kind === 'video')) {
      totals[entry.kind] += entry.bytesReceived ?? 0;
    }
  });
  return totals;
}

window.hop = {
  get state() {
    return page.state;
  },
  get weakConnection() {
    return page.weak;
  },
  get feedId() {
    return page.feedId;
  },
  get roomId() {
    return page.details?.janus.roomId;
  },
  get displayName() {
    return page.details?.displayName;
  },
  /** Lists the remote publishers this page subscribes to. */
  remoteFeeds() {
    return [...page.feeds.values()].map((feed) => ({
      feedId: feed.feedId,
      display: feed.display,
      webrtcUp: feed.webrtcUp,
      tracks: feed.stream.getTracks().map((track) => track.kind),
    }));
  },
  /** Returns inbound-rtp audio and video bytesReceived of each remote feed, from getStats(). */
  async inboundStats() {
    const feeds = [...page.feeds.values()];
    return Promise.all(
      feeds.map(async (feed) => {
        const bytes = await inboundBytes(feed.handle?.webrtcStuff?.pc);
        return { feedId: feed.feedId, display: feed.display, audioBytesReceived: bytes.audio, videoBytesReceived: bytes.video };
      }),
    );
  },
  /** Returns, per remote feed, the subscription level, the layer Janus forwards, the decoded frame height and the link quality. */
  layers() {
    return [...page.feeds.values()].map((feed) => ({
      feedId: feed.feedId,
      display: feed.display,
      level: LEVELS[feed.layer.level].name,
      appliedLevel: feed.appliedLevel === null ? null : LEVELS[feed.appliedLevel].name,
      substream: feed.receivedSubstream,
      temporal: feed.receivedTemporal,
      frameHeight: feed.latestStats?.frameHeight ?? null,
      quality: feed.quality,
      history: feed.history,
    }));
  },
  /** Returns per remote feed the cumulative audio samples (received, concealed) and video freezes, from getStats(). */
  async mediaStats() {
    const feeds = [...page.feeds.values()];
    return Promise.all(
      feeds.map(async (feed) => {
        const pc = feed.handle?.webrtcStuff?.pc;
        const stats = pc ? await readStats(pc) : null;
        return { feedId: feed.feedId, display: feed.display, stats };
      }),
    );
  },
  get recovery() {
    return { ...page.recovery };
  },
  get audioOnly() {
    return page.audioOnly;
  },
  get linkQuality() {
    return page.linkQuality;
  },
  /** Returns the download capacity estimate in kbit/s (null before a measurement) and what set it last. */
  get link() {
    return { kbps: page.link.kbps, source: page.link.source, probedAt: page.link.probedAt };
  },
  setAudioOnly,
  /**
   * Caps every subscription at the named level (off, low-t0, low, medium,
   * high), as audio-only mode caps it at off. Subscriptions made later,
   * after a fresh join too, get the same cap.
   */
  capLevel(name) {
    const level = LEVELS.findIndex((candidate) => candidate.name === name);
    if (level < 0) throw new Error(`unknown level ${name}`);
    page.levelCap = level;
    for (const feed of page.feeds.values()) applyLevel(feed, setMaxLevel(feed.layer, level, Date.now()));
  },
  /** The participant's hand as the page shows it: raised, and its place among the raised hands. */
  get hand() {
    return { raised: hand?.raised ?? false, position: hand?.position ?? null };
  },
  toggleHand: () => hand?.toggle(),
  toggleMicrophone,
  toggleCamera,
  leave,
};

// ---------------------------------------------------------------- start

/** Puts the chosen language on the texts that join.html ships in Vietnamese. */
function applyStaticTexts() {
  document.documentElement.lang = LANG;
  elements.microphone.textContent = TEXT.muteMicrophone;
  elements.camera.textContent = TEXT.cameraOff;
  elements.leave.textContent = TEXT.leave;
  elements.audioOnly.textContent = TEXT.audioOnlyOn;
  const check = document.getElementById('network-check');
  check.textContent = TEXT.networkCheck;
  check.href = `/network-check.html${window.location.search}`;
  elements.enableSound.textContent = TEXT.enableSound;
  const language = document.getElementById('language');
  language.textContent = TEXT.switchLanguage;
  language.addEventListener('click', () => {
    globalThis.localStorage?.setItem('hop.lang', LANG === 'en' ? 'vi' : 'en');
    window.location.reload();
  });
}

async function start() {
  applyStaticTexts();
  setState('loading');
  const params = new URLSearchParams(window.location.search);
  const meetingId = params.get('m');
  const inviteKey = params.get('k');
  if (!meetingId) {
    fail(TEXT.invalidLink);
    return;
  }

  // The link is measured while the join details load, so the first video level fits it.
  const probe = probeDownloadKbps();
  try {
    page.details = await fetchJoinDetails(meetingId, inviteKey);
  } catch (error) {
    fail(error.message);
    return;
  }
  const { meeting } = page.details;
  elements.title.textContent = meeting.title;
  document.title = `${meeting.title} – hop`;
  try {
    elements.time.textContent = formatMeetingTime(meeting);
  } catch {
    elements.time.textContent = '';
  }
  updateCount();
  page.audioOnly = globalThis.sessionStorage?.getItem('hop.audioOnly') === '1';
  updateControls();
  hand = mountHand({
    button: document.getElementById('hand'),
    status: document.getElementById('hand-status'),
    meetingId,
    inviteKey,
    language: LANG,
    csrfToken,
    showNotice,
    inMeeting: () => !['left', 'ended', 'error'].includes(page.state),
  });

  await initJanus();
  if (!Janus.isWebrtcSupported()) {
    fail(TEXT.noWebRtc);
    return;
  }
  page.link = createLinkEstimate((await probe) ?? storedDownloadKbps() ?? null, Date.now());
  connect();
}

start();
