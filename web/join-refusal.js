// Joins refused at a connection cap by the gateway's signalling proxy. When
// the proxy cannot record a new Janus session because the meeting or its
// media server is full, it replies to the session `create` with a Janus error
// whose reason starts with the error code ("MEETING_FULL: …",
// "MEDIA_SERVER_FULL: …", see gateway/media-signalling.ts), and janus.js
// passes that reason to the session's `error` callback.

/** The catalogue's messages of the two codes (lib/errors.ts), in the page's languages. */
const MESSAGES = {
  vi: {
    MEETING_FULL: 'Cuộc họp đã đủ số điểm cầu kết nối tối đa, nên chưa vào được. Người chủ trì đã được báo; vui lòng thử lại khi có người rời cuộc họp.',
    MEDIA_SERVER_FULL: 'Máy chủ hình ảnh và âm thanh của cuộc họp đã hết chỗ, nên chưa vào được. Người chủ trì đã được báo; vui lòng thử lại sau ít phút.',
  },
  en: {
    MEETING_FULL: 'The meeting has reached its cap on concurrent connections; the chair has been told. Retry when someone leaves.',
    MEDIA_SERVER_FULL: "The meeting's Janus server has reached its cap on concurrent connections; the chair has been told. Retry in a few minutes.",
  },
};

/** Returns MEETING_FULL or MEDIA_SERVER_FULL when a Janus session error's reason starts with that code, else null. */
export function capacityRefusalCode(reason) {
  if (typeof reason !== 'string') return null;
  const code = /^([A-Z_]+):/.exec(reason)?.[1];
  return code === 'MEETING_FULL' || code === 'MEDIA_SERVER_FULL' ? code : null;
}

/** Returns the message for a session error refused at a cap in `language` ('vi' or 'en'), or null for any other error. */
export function capacityRefusalMessage(reason, language) {
  const code = capacityRefusalCode(reason);
  if (code === null) return null;
  return (MESSAGES[language] ?? MESSAGES.vi)[code];
}
