/**
 * The Janus signalling proxy: browsers open a WebSocket to the gateway at
 * SIGNALLING_PATH with their join token, and the gateway relays the Janus API
 * to the meeting's Janus server. Media does not pass through here; it flows
 * between the browser and Janus directly.
 *
 * The proxy is why room PINs and secrets never reach a browser:
 * - it checks the token's signature and expiry, and that the participant is
 *   still in the meeting, before the WebSocket opens;
 * - it lets through only the VideoRoom requests a participant needs, only for
 *   the meeting's room, and adds the room PIN, the join token (checked against
 *   the room's `allowed` list) and the participant's display name itself;
 * - it accepts only session and handle ids that Janus gave to this socket.
 * Janus's own WebSocket port then needs to be reachable by the gateway only.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Kysely } from 'kysely';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Database } from '../lib/adapters/db/schema.ts';
import { SIGNALLING_PATH } from '../lib/contract/meeting.ts';
import { readJoinToken } from '../lib/domain/join-token.ts';
import { errorBody, errorCatalog, type ErrorCode } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { eventSource } from '../lib/contract/events.ts';
import { capacityLimits, checkCapacity, recordRefusal, recordSessionWithinCaps, type CapacityLimits, type CapacityRefusal } from '../lib/domain/media-capacity.ts';

const JANUS_SUBPROTOCOL = 'janus-protocol';
/** CloudEvents source of the join-refused events the proxy writes. */
const SIGNALLING_EVENT_SOURCE = eventSource('media-signalling');
const VIDEOROOM_PLUGIN = 'janus.plugin.videoroom';

/** Janus API requests a browser may send, by their `janus` field. */
const CLIENT_REQUESTS = new Set(['create', 'attach', 'message', 'trickle', 'keepalive', 'detach', 'hangup', 'destroy']);
/** VideoRoom requests a participant may send. Room management (create, destroy, edit, allowed, kick, moderate, rtp_forward …) stays with the server. */
const VIDEOROOM_REQUESTS = new Set([
  'join',
  'joinandconfigure',
  'configure',
  'publish',
  'unpublish',
  'start',
  'pause',
  'switch',
  'leave',
  'subscribe',
  'unsubscribe',
  'update',
  'listparticipants',
]);

export interface SignallingTarget {
  /** Janus API WebSocket URL as seen from the gateway. */
  url: string;
  /** Janus `api_secret`, added to every request when the server sets one. */
  apiSecret?: string;
}

export interface SignallingOptions {
  /**
   * Checks the `token` query parameter and returns what the socket is bound to,
   * or throws SignallingRejection. `bindFromDatabase` is the production one.
   */
  bind(token: string | null, at: Date): Promise<SignallingBinding>;
  log: Logger;
  now?: () => Date;
  /** Largest message accepted from a browser, in bytes. Default 256 KiB (an SDP offer with simulcast is about 10 KiB). */
  maxMessageBytes?: number;
  /** Messages per second a browser may send on average; bursts up to 10 times that pass. Default 50. */
  messagesPerSecond?: number;
  /** Sessions one socket may create. Default 2. */
  maxSessions?: number;
  /** Plugin handles one socket may attach: one publisher and one per remote feed. Default 300. */
  maxHandles?: number;
  /** WebSocket ping interval towards the browser, in milliseconds. A browser that misses a pong is dropped. Default 30000. */
  pingIntervalMs?: number;
  /** Time allowed to open the connection to Janus, in milliseconds. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Records which participant opened a Janus session, so attendance can tell
   * whose Janus events are whose. The proxy passes the session id to the
   * browser only after this resolves, so no join on the session can come
   * before the record. When `opened` throws, the proxy destroys the session
   * and sends the browser an error reply instead of the session id.
   * `recordSessionsInDatabase` is the production one.
   */
  sessions?: SessionRecorder;
}

/** Store of the Janus sessions the proxy opened and of the moment its connection to Janus closed. */
export interface SessionRecorder {
  opened(binding: SignallingBinding, sessionId: number, at: Date): Promise<void>;
  closed(binding: SignallingBinding, sessionIds: number[], at: Date): Promise<void>;
}

/** Meeting, participant and room a socket is bound to once its token checks out. */
export interface SignallingBinding {
  meetingId: string;
  participantId: string;
  token: string;
  displayName: string;
  roomId: number;
  pin: string;
  server: string;
  target: SignallingTarget;
}

/** A rejected connection: the proxy ends the upgrade request with this error's HTTP status and body. */
export class SignallingRejection extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: unknown,
  ) {
    super(errorCatalog[code].en);
  }
}

/**
 * Serves SIGNALLING_PATH on `server`'s upgrade event. Other upgrade paths are
 * left to other listeners, or closed when no other listener exists.
 */
export function attachMediaSignalling(server: Server, options: SignallingOptions): { close(): Promise<void> } {
  const log = options.log;
  const now = options.now ?? (() => new Date());
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes ?? 256 * 1024,
    handleProtocols: (protocols) => (protocols.has(JANUS_SUBPROTOCOL) ? JANUS_SUBPROTOCOL : false),
  });
  const alive = new WeakSet<WebSocket>();

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    if (url.pathname !== SIGNALLING_PATH) {
      if (server.listenerCount('upgrade') === 1) socket.destroy();
      return;
    }
    socket.on('error', (error) => log.debug({ err: error }, 'signalling socket error before the upgrade'));
    options
      .bind(url.searchParams.get('token'), now())
      .then((binding) => {
        wss.handleUpgrade(request, socket, head, (client) => {
          alive.add(client);
          client.on('pong', () => alive.add(client));
          relay(client, binding, { ...options, now });
        });
      })
      .catch((error: unknown) => {
        const rejection = error instanceof SignallingRejection ? error : new SignallingRejection('MEDIA_UNAVAILABLE');
        if (!(error instanceof SignallingRejection)) log.error({ err: error }, 'checking a signalling connection failed');
        else log.info({ code: rejection.code, details: rejection.details }, 'signalling connection rejected');
        rejectUpgrade(socket, rejection);
      });
  };
  server.on('upgrade', onUpgrade);

  const pinger = setInterval(() => {
    for (const client of wss.clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, options.pingIntervalMs ?? 30_000);
  pinger.unref();

  return {
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(pinger);
        server.off('upgrade', onUpgrade);
        for (const client of wss.clients) client.close(1001, 'gateway stopping');
        wss.close(() => resolve());
      }),
  };
}

export interface DatabaseBinderOptions {
  db: Kysely<Database>;
  joinTokenSecret: string;
  /** Returns where the Janus server with this id listens, or undefined when the gateway has no such server. */
  resolveServer(id: string): SignallingTarget | undefined;
  /** Connection caps; default from HOP_MEETING_MAX_CONNECTIONS and HOP_JANUS_MAX_CONNECTIONS. */
  capacity?: CapacityLimits;
}

/**
 * Returns the production `bind`: it checks the join token's signature and
 * expiry, then loads the participant, the meeting and its room from the
 * database, so a participant removed after the token was issued is refused.
 */
export function bindFromDatabase(options: DatabaseBinderOptions): SignallingOptions['bind'] {
  return (token, at) => bindToken(token, at, options);
}

async function bindToken(token: string | null, at: Date, options: DatabaseBinderOptions): Promise<SignallingBinding> {
  if (!token) throw new SignallingRejection('JOIN_TOKEN_INVALID', { reason: 'the token query parameter is missing' });
  const claims = readJoinToken(token, options.joinTokenSecret);
  if (!claims) throw new SignallingRejection('JOIN_TOKEN_INVALID');
  if (claims.expiresAt.getTime() <= at.getTime()) throw new SignallingRejection('JOIN_TOKEN_EXPIRED', { expiredAt: claims.expiresAt.toISOString() });

  const row = await options.db
    .selectFrom('participant')
    .innerJoin('meeting', 'meeting.id', 'participant.meeting_id')
    .leftJoin('room', 'room.meeting_id', 'meeting.id')
    .select([
      'participant.name',
      'meeting.status as meetingStatus',
      'room.status as roomStatus',
      'room.room_id',
      'room.pin',
      'room.janus_server',
      'room.max_connections',
    ])
    .where('participant.id', '=', claims.participantId)
    .where('participant.meeting_id', '=', claims.meetingId)
    .executeTakeFirst();
  // A participant removed after the token was issued loses access at once.
  if (!row) throw new SignallingRejection('NOT_INVITED', { meetingId: claims.meetingId });
  if (row.meetingStatus === 'cancelled') throw new SignallingRejection('MEETING_CANCELLED', { meetingId: claims.meetingId });
  if (row.meetingStatus === 'ended') throw new SignallingRejection('MEETING_ENDED', { meetingId: claims.meetingId });
  if (row.roomStatus !== 'ready' || row.room_id === null || !row.pin || !row.janus_server) {
    throw new SignallingRejection('ROOM_NOT_READY', { meetingId: claims.meetingId });
  }
  const target = options.resolveServer(row.janus_server);
  if (!target) throw new SignallingRejection('MEDIA_UNAVAILABLE', { meetingId: claims.meetingId, server: row.janus_server });

  // join-issue rejects first with the clearer message. This check rejects a page that kept old join details before
  // the WebSocket opens. The session recorder enforces the caps when joins arrive at the same moment.
  const refusal = await checkCapacity(
    options.db,
    { meetingId: claims.meetingId, participantId: claims.participantId, janusServer: row.janus_server, roomMax: row.max_connections },
    options.capacity ?? capacityLimits(),
    at,
  );
  if (refusal) {
    await recordRefusal(
      options.db,
      refusal,
      { meetingId: claims.meetingId, participantId: claims.participantId, participantName: row.name, janusServer: row.janus_server },
      SIGNALLING_EVENT_SOURCE,
      at,
    );
    throw new SignallingRejection(refusal.code, { meetingId: claims.meetingId, limit: refusal.limit, connected: refusal.connected });
  }

  return {
    meetingId: claims.meetingId,
    participantId: claims.participantId,
    token,
    displayName: row.name,
    roomId: Number(row.room_id),
    pin: row.pin,
    server: row.janus_server,
    target,
  };
}

/** Error a session recorder throws when a connection cap forbids the new session; the proxy destroys the session and replies with the error. */
export class SessionRefused extends Error {
  constructor(readonly refusal: CapacityRefusal) {
    super(errorCatalog[refusal.code].en);
  }
}

/**
 * Returns the production session recorder: rows of `media_session`, keyed by
 * Janus server and session id. A session that would exceed a connection cap is
 * not recorded: the refusal is stored for the chair and `opened` throws
 * SessionRefused. This is where the caps hold when many joins arrive at once
 * (see `recordSessionWithinCaps`).
 */
export function recordSessionsInDatabase(db: Kysely<Database>, options: { capacity?: CapacityLimits } = {}): SessionRecorder {
  return {
    async opened(binding, sessionId, at) {
      const refusal = await recordSessionWithinCaps(
        db,
        {
          janusServer: binding.server,
          sessionId: String(sessionId),
          meetingId: binding.meetingId,
          participantId: binding.participantId,
          tokenHash: createHash('sha256').update(binding.token).digest('hex'),
        },
        options.capacity ?? capacityLimits(),
        at,
      );
      if (refusal === null) return;
      await recordRefusal(
        db,
        refusal,
        { meetingId: binding.meetingId, participantId: binding.participantId, participantName: binding.displayName, janusServer: binding.server },
        SIGNALLING_EVENT_SOURCE,
        at,
      );
      throw new SessionRefused(refusal);
    },
    async closed(binding, sessionIds, at) {
      await db
        .updateTable('media_session')
        .set({ closed_at: at })
        .where('janus_server', '=', binding.server)
        .where('session_id', 'in', sessionIds.map(String))
        .where('closed_at', 'is', null)
        .execute();
    },
  };
}

function rejectUpgrade(socket: Duplex, rejection: SignallingRejection): void {
  const status = errorCatalog[rejection.code].status;
  const body = JSON.stringify(errorBody(rejection.code, rejection.details));
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

type JanusMessage = Record<string, unknown> & { janus: string; transaction?: string };

/** Relays one browser socket to Janus for as long as both stay open. */
function relay(client: WebSocket, binding: SignallingBinding, options: SignallingOptions & { now: () => Date }): void {
  const log = options.log.child({ meetingId: binding.meetingId, participantId: binding.participantId, server: binding.server });
  const upstream = new WebSocket(binding.target.url, JANUS_SUBPROTOCOL, { handshakeTimeout: options.connectTimeoutMs ?? 10_000 });
  const pending: string[] = [];
  const sessions = new Set<number>();
  const handles = new Set<number>();
  /** Transactions of create and attach requests, whose success replies carry the new id. */
  const opening = new Map<string, 'create' | 'attach'>();
  /** Every session opened over this socket, for the close record. */
  const opened = new Set<number>();
  const maxSessions = options.maxSessions ?? 2;
  const maxHandles = options.maxHandles ?? 300;
  const rate = options.messagesPerSecond ?? 50;
  const bucket = { tokens: rate * 10, at: Date.now() };
  let rejected = 0;

  log.info('signalling connection opened');

  const sendUpstream = (text: string) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
    else pending.push(text);
  };
  const replyError = (message: Partial<JanusMessage>, code: number, reason: string) => {
    rejected += 1;
    if (rejected <= 5 || rejected % 100 === 0) log.warn({ request: message.janus, body: bodyRequest(message), reason, rejected }, 'signalling request rejected');
    const reply: Record<string, unknown> = { janus: 'error', error: { code, reason } };
    if (typeof message.transaction === 'string') reply.transaction = message.transaction;
    if (typeof message.session_id === 'number') reply.session_id = message.session_id;
    client.send(JSON.stringify(reply));
  };

  client.on('message', (data: RawData, isBinary: boolean) => {
    // Token bucket: refill, then spend one token per message.
    const clock = Date.now();
    bucket.tokens = Math.min(rate * 10, bucket.tokens + ((clock - bucket.at) / 1000) * rate);
    bucket.at = clock;
    if (bucket.tokens < 1) {
      log.warn({ messagesPerSecond: rate }, 'signalling connection closed: too many messages');
      client.close(1008, 'too many messages');
      return;
    }
    bucket.tokens -= 1;

    if (isBinary) return replyError({}, 400, 'binary messages are not part of the Janus API');
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return replyError({}, 400, 'the message is not valid JSON');
    }
    if (!isJanusMessage(message)) return replyError({}, 400, 'the message needs a string "janus" field and a string "transaction"');

    const verdict = check(message);
    if (verdict !== null) return replyError(message, 403, verdict);
    delete message.apisecret;
    delete message.token;
    if (binding.target.apiSecret) message.apisecret = binding.target.apiSecret;
    if (message.janus === 'create' || message.janus === 'attach') opening.set(message.transaction as string, message.janus);
    sendUpstream(JSON.stringify(message));
  });

  /** Returns why `message` may not pass, or null when it may (after rewriting a join). */
  const check = (message: JanusMessage): string | null => {
    if (!CLIENT_REQUESTS.has(message.janus)) return `the request "${message.janus}" is not allowed`;
    if (message.janus === 'create') return sessions.size >= maxSessions ? `at most ${maxSessions} sessions per connection` : null;
    if (typeof message.session_id !== 'number' || !sessions.has(message.session_id)) return 'unknown session_id';
    if (message.janus === 'keepalive' || message.janus === 'destroy') return null;
    if (message.janus === 'attach') {
      if (message.plugin !== VIDEOROOM_PLUGIN) return `only the ${VIDEOROOM_PLUGIN} plugin is allowed`;
      return handles.size >= maxHandles ? `at most ${maxHandles} handles per connection` : null;
    }
    if (typeof message.handle_id !== 'number' || !handles.has(message.handle_id)) return 'unknown handle_id';
    if (message.janus !== 'message') return null;
    return checkVideoRoomBody(message, binding);
  };

  upstream.on('open', () => {
    for (const text of pending.splice(0)) upstream.send(text);
  });
  // Replies reach the browser in Janus's order, each after the session record before it.
  let forwarding = Promise.resolve();
  upstream.on('message', (data: RawData) => {
    const text = data.toString('utf8');
    let createdSession: number | null = null;
    let transaction: unknown;
    try {
      const reply = JSON.parse(text) as Record<string, unknown>;
      transaction = reply.transaction;
      createdSession = trackOpened(reply);
      if (reply.janus === 'detached' && typeof reply.sender === 'number') handles.delete(reply.sender);
      if (reply.janus === 'timeout' && typeof reply.session_id === 'number') sessions.delete(reply.session_id);
    } catch {
      // Janus sends only JSON; pass anything else on unchanged.
    }
    const recording = createdSession !== null && options.sessions ? options.sessions.opened(binding, createdSession, options.now()) : null;
    forwarding = forwarding.then(async () => {
      if (recording && createdSession !== null) {
        try {
          await recording;
        } catch (error) {
          sessions.delete(createdSession);
          sendUpstream(JSON.stringify({ janus: 'destroy', session_id: createdSession, transaction: `hop-${createdSession}`, ...(binding.target.apiSecret ? { apisecret: binding.target.apiSecret } : {}) }));
          // The reason starts with the error code, so a page can tell a full meeting from a failure.
          let reply = { code: 500, reason: 'the media session could not be recorded; try again' };
          if (error instanceof SessionRefused) {
            log.info({ sessionId: createdSession, ...error.refusal }, 'Janus session refused: connection cap reached; the session is destroyed');
            reply = { code: errorCatalog[error.refusal.code].status, reason: `${error.refusal.code}: ${error.message}` };
          } else {
            log.error({ err: error, sessionId: createdSession }, 'recording the Janus session failed; the session is destroyed');
          }
          if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify({ janus: 'error', transaction, error: reply }));
          return;
        }
      }
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
  });
  /** Tracks the ids Janus gave this socket; returns the id of a new session, else null. */
  const trackOpened = (reply: Record<string, unknown>): number | null => {
    if (reply.janus !== 'success' || typeof reply.transaction !== 'string') return null;
    const kind = opening.get(reply.transaction);
    if (!kind) return null;
    opening.delete(reply.transaction);
    const id = (reply.data as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') return null;
    if (kind === 'create') {
      sessions.add(id);
      opened.add(id);
      return id;
    }
    handles.add(id);
    return null;
  };

  upstream.on('error', (error) => {
    log.warn({ err: error }, 'signalling connection to Janus failed');
  });
  upstream.on('close', (code) => {
    log.info({ code }, 'Janus closed the signalling connection');
    if (options.sessions && opened.size > 0) {
      options.sessions.closed(binding, [...opened], options.now()).catch((error: unknown) => log.error({ err: error }, 'recording the end of the Janus sessions failed'));
    }
    if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(1011, 'media server connection closed');
  });
  client.on('error', (error) => log.debug({ err: error }, 'browser signalling socket error'));
  client.on('close', (code) => {
    log.info({ code, sessions: sessions.size, handles: handles.size, rejected }, 'signalling connection closed');
    // Closing the transport makes Janus tear down the sessions opened over it.
    if (upstream.readyState === WebSocket.OPEN) upstream.close(1000);
    else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
  });
}

/** Checks a VideoRoom request and writes the room's PIN, token and the participant's name into a join. */
function checkVideoRoomBody(message: JanusMessage, binding: SignallingBinding): string | null {
  const body = message.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'a plugin message needs a "body" object';
  const request = (body as Record<string, unknown>).request;
  if (typeof request !== 'string' || !VIDEOROOM_REQUESTS.has(request)) return `the VideoRoom request "${String(request)}" is not allowed`;
  const fields = body as Record<string, unknown>;
  if (fields.room !== undefined && Number(fields.room) !== binding.roomId) return 'only the meeting\'s own room is allowed';

  if (request === 'join' || request === 'joinandconfigure') {
    fields.room = binding.roomId;
    fields.pin = binding.pin;
    if (fields.ptype === 'publisher') {
      fields.token = binding.token;
      fields.display = binding.displayName;
      // Janus picks the publisher id; a chosen id could collide with or imitate someone else.
      delete fields.id;
    } else if (fields.ptype !== 'subscriber') {
      return 'ptype must be "publisher" or "subscriber"';
    }
  }
  if (request === 'listparticipants') fields.room = binding.roomId;
  return null;
}

function isJanusMessage(value: unknown): value is JanusMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return typeof record.janus === 'string' && typeof record.transaction === 'string' && record.transaction.length <= 128;
}

function bodyRequest(message: Partial<JanusMessage>): unknown {
  const body = message.body as { request?: unknown } | undefined;
  return body?.request;
}
