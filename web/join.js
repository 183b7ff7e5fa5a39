// The join page: /join.html?m=<meetingId>&k=<inviteKey>.
//
// Fetches the join details from the gateway, enters the Janus VideoRoom as a
// publisher (camera and microphone, Opus/VP8), subscribes to every other
// publisher with one subscriber handle each, and shows one tile per person.
// Tests and tools read the page through window.hop (see the end of the file).
import 'webrtc-adapter';
import Janus from 'janus-gateway';

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
  },
};
const LANG = globalThis.localStorage?.getItem('hop.lang') === 'en' ? 'en' : 'vi';
const TEXT = TEXTS[LANG];

/** VideoRoom error codes (janus_videoroom.c) and their Vietnamese messages. */
const VIDEOROOM_ERRORS = { 426: TEXT.roomMissing, 432: TEXT.roomFull, 433: TEXT.notAllowed };
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
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
  caption.append(label, microphone);
  tile.append(video, avatar, caption);
  tile.dataset.video = 'off';
  elements.tiles.append(tile);
  return { element: tile, video, microphone };
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
  for (const feed of page.feeds.values()) feed.tile.element.remove();
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
  setState(page.reconnectAttempt > 0 ? 'reconnecting' : 'connecting');
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
      if (!connected && page.reconnectAttempt === 0) showNotice(TEXT.mediaServerUnreachable);
      scheduleReconnect();
    },
    destroyed: () => undefined,
  });
}

function scheduleReconnect() {
  if (page.state === 'left' || page.state === 'ended' || page.state === 'error') return;
  window.clearTimeout(page.reconnectTimer);
  const delay = RECONNECT_DELAYS_MS[Math.min(page.reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
  page.reconnectAttempt += 1;
  setState('reconnecting');
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
      if (generation !== page.generation) return;
      if (state === 'disconnected') setState('reconnecting');
      if (state === 'connected' || state === 'completed') setState('joined');
      if (state === 'failed') scheduleReconnect();
    },
    webrtcState: (up) => {
      if (generation !== page.generation) return;
      if (up) {
        page.reconnectAttempt = 0;
        setState('joined');
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
    publish(generation, { audio: true, video: true });
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
  if (jsep) page.publisher?.handleRemoteJsep({ jsep });
}

/**
 * Publishes camera and microphone. Without a camera it retries with the
 * microphone only, and without both the person stays in the room to watch.
 */
function publish(generation, { audio, video }) {
  const handle = page.publisher;
  const tracks = [];
  if (audio) tracks.push({ type: 'audio', capture: true, recv: false });
  if (video) tracks.push({ type: 'video', capture: true, recv: false });
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
  const feed = { feedId, display, handle: undefined, tile: createTile(display), stream: new MediaStream(), webrtcUp: false };
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
    webrtcState: (up) => {
      feed.webrtcUp = up;
    },
    slowLink: () => markWeakConnection(),
    onmessage: (message, jsep) => {
      if (generation !== page.generation) return;
      if (message.error_code) {
        console.warn('subscribing failed', feedId, message.error_code, message.error);
        removeFeed(feedId);
        return;
      }
      if (jsep) {
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

  await initJanus();
  if (!Janus.isWebrtcSupported()) {
    fail(TEXT.noWebRtc);
    return;
  }
  connect();
}

start();
